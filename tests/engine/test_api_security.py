"""Real `pulumi up` and the API servers' audit log and encryption at rest: every control plane runs with the flags
(the first from its init; the others, whose stub joins write no flags, through the path a cluster made before them
takes: the manifest written again by kubeadm), and a rotated key (`pulumi up --replace` of it) reaches every
control plane as a key that reads, each API server restarted with it, before any API server writes with it (a
second restart each), then the Secrets are rewritten."""

from __future__ import annotations

import pytest

from components.bootstrap import api_security
from tests.engine.test_up import cluster, engine_for, stack_for, up  # noqa: F401

pytestmark = pytest.mark.usefixtures("engine_tools")
CONTROL_PLANES = ("cp-1", "cp-2", "cp-3")


def key_names(host) -> list[str]:
    path = host.sandbox.root / api_security.ENCRYPTION_KEYS_FILE.lstrip("/")
    return [line.split()[0] for line in path.read_text().splitlines()]


def last_window(host, step: str) -> tuple[float, float]:
    starts = [t for t, event, name, _ in host.steps() if name == step and event == "start"]
    ends = [t for t, event, name, _ in host.steps() if name == step and event == "end"]
    return starts[-1], ends[-1]


def test_every_api_server_gets_the_flags_and_a_rotated_key_reads_before_it_writes(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    up(engine)
    flags = api_security.manifest_flags().splitlines()
    for name in CONTROL_PLANES:
        box = hosts.hosts[name].sandbox
        manifest = (box.root / "etc/kubernetes/manifests/kube-apiserver.yaml").read_text()
        assert all(f"- {flag}" in manifest for flag in flags), (name, manifest)
        assert (box.root / api_security.AUDIT_POLICY_FILE.lstrip("/")).exists()
        assert "encryption-provider-config" in (box.state / "uploaded-kubeadm-config.yaml").read_text()
    rewrote = [c for c in hosts.hosts["cp-1"].step_names() if c == "secrets-rewrite"]
    assert rewrote == ["secrets-rewrite"]
    [old] = {tuple(key_names(hosts.hosts[name])) for name in CONTROL_PLANES}
    assert len(old) == 1

    assert all(hosts.hosts[name].step_names().count("api-server-encryption") == 1 for name in CONTROL_PLANES)
    started = {name: hosts.hosts[name].sandbox.container_starts("kube-apiserver") for name in CONTROL_PLANES}

    urn = next(r["urn"] for r in engine.export()["resources"] if r["urn"].endswith("::k8s-engine-encryption-key"))
    rotated = engine.run("up", replace=[urn])
    assert rotated["ok"], rotated.get("error", "")[-4000:]
    keys = {name: key_names(hosts.hosts[name]) for name in CONTROL_PLANES}
    [new] = {k[0] for k in keys.values()}
    assert all(k == [new, old[0]] for k in keys.values()), keys
    files = [last_window(hosts.hosts[name], "api-server-files") for name in CONTROL_PLANES]
    readers = [last_window(hosts.hosts[name], "api-server-config") for name in CONTROL_PLANES]
    writers = [last_window(hosts.hosts[name], "api-server-encryption") for name in CONTROL_PLANES]
    assert max(end for _, end in files) <= readers[0][0]
    passes = readers + writers  # every API server reads the key before any writes with it, one at a time
    assert all(a[1] <= b[0] for a, b in zip(passes, passes[1:])), f"one API server at a time: {passes}"
    assert {name: hosts.hosts[name].sandbox.container_starts("kube-apiserver") - started[name] for name in CONTROL_PLANES} == dict.fromkeys(
        CONTROL_PLANES, 2), "each API server restarted once to read the key and once to write with it"
    rewrite = last_window(hosts.hosts["cp-1"], "secrets-rewrite")
    assert passes[-1][1] <= rewrite[0]
    quiet = up(engine)
    assert set(quiet["changeSummary"]) == {"same"}, quiet["changeSummary"]


def test_control_planes_that_join_an_encrypted_cluster_are_followed_by_a_rewrite_of_every_secret(cluster):
    # Before: the rewrite's inputs did not change with the control planes, so it never ran again, and a Secret
    # written through a new control plane before its own encryption step stayed in clear in etcd and every backup.
    hosts = cluster[0]
    engine = engine_for(cluster, ["cp-1", "worker-1"])
    up(engine)
    assert hosts.hosts["cp-1"].step_names().count("secrets-rewrite") == 1
    engine.write_settings(stack_for(hosts, ["cp-1", "cp-2", "cp-3", "worker-1"]))
    grown = up(engine)
    assert hosts.hosts["cp-1"].step_names().count("secrets-rewrite") == 2, grown["changeSummary"]
    rewrite = last_window(hosts.hosts["cp-1"], "secrets-rewrite")
    for name in ("cp-2", "cp-3"):
        assert last_window(hosts.hosts[name], "api-server-encryption")[1] <= rewrite[0], name
