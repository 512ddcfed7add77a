"""Real `pulumi up` of the bootstrap layer of a bare-metal stack against test hosts (tests/engine/hosts.py): real
SSH servers in network namespaces, every host step confined to its host's sandbox. The add-ons are switched off
in this stack: no API server answers behind the stub kubeadm."""

from __future__ import annotations

import copy
import json
import re
import subprocess

import pytest

from components import versions
from tests import netns
from tests.engine.harness import EngineStack
from tests.engine.hosts import EngineHosts
from tests.helpers import stack_document

pytestmark = pytest.mark.usefixtures("engine_tools")
ADDONS = ("calico", "storage", "monitoring", "logging", "etcdBackup", "ingress", "harbor", "metricsServer")
HOSTS = {"cp-1": "203.0.113.21", "cp-2": "203.0.113.22", "cp-3": "203.0.113.23", "worker-1": "203.0.113.31",
         "worker-2": "203.0.113.32"}


def stack_for(hosts: EngineHosts, names: list[str], version: str | None = None) -> dict:
    document = copy.deepcopy(stack_document("metal"))
    config = document["config"]
    if version:
        config["k8s-platform:kubernetesVersion"] = version
    config["k8s-platform:tier"] = "dev"
    config["k8s-platform:clusterName"] = "k8s-engine"
    config["k8s-platform:sshUser"] = "root"
    config["k8s-platform:addons"] = {"domain": "k8s-engine.example.com",
                                     **{name: {"enabled": False} for name in ADDONS}}
    config["k8s-platform:loadBalancer"] = {**config["k8s-platform:loadBalancer"], "mode": "colocated"}
    config["k8s-platform:inventory"] = {"hosts": [
        {"name": name, "address": HOSTS[name], "roles": ["worker" if name.startswith("worker") else "control-plane"],
         "vcpu": 8, "memoryGiB": 32, "diskGiB": 200, "zone": "rack-a", "hostKey": hosts.hosts[name].host_key}
        for name in names]}
    return document


@pytest.fixture
def cluster(tmp_path):
    netns.require()
    key_file = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "engine-up", "-f", str(key_file)], check=True)
    hosts = EngineHosts(tmp_path / "hosts", "up")
    try:
        for name in HOSTS:
            hosts.add(name, HOSTS[name], (tmp_path / "id_ed25519.pub").read_text())
        hosts.register_nodes()
        yield hosts, key_file.read_text(), tmp_path
    finally:
        hosts.close()


FIRST = ["cp-1", "cp-2", "cp-3", "worker-1"]


def engine_for(cluster, names=FIRST) -> EngineStack:
    hosts, key, directory = cluster
    return EngineStack(directory / "engine", "metal", stack_for(hosts, names), {"sshPrivateKey": key},
                       namespace=hosts.engine_namespace)


def up(engine: EngineStack) -> dict:
    result = engine.run("up")
    assert result["ok"], result.get("error", "")[-4000:]
    return result


def window(host, step: str) -> tuple[float, float]:
    """When `step` started and ended on `host` (its only run)."""
    times = {event: t for t, event, name, _ in host.steps() if name == step}
    assert set(times) == {"start", "end"}, host.steps()
    return times["start"], times["end"]


def steps_per_host(hosts) -> dict[str, list[str]]:
    return {name: host.step_names() for name, host in hosts.hosts.items()}


def test_up_runs_each_hosts_phases_in_order_then_a_second_up_changes_and_runs_nothing(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    first = up(engine)
    assert first["changeSummary"]["create"] > 30
    for name in FIRST:
        ran = hosts.hosts[name].step_names()
        kubeadm = "kubeadm-init" if name == "cp-1" else "kubeadm-join"
        order = [ran.index(step) for step in ("preflight", "prepare-host", "install", kubeadm)]
        assert order == sorted(order), (name, ran)
        assert all(status == "0" for _, event, _, status in hosts.hosts[name].steps() if event == "end")
    init_end = window(hosts.hosts["cp-1"], "kubeadm-init")[1]
    joins = sorted(window(hosts.hosts[name], "kubeadm-join") for name in ("cp-2", "cp-3"))
    assert init_end <= joins[0][0], "a control plane joined before kubeadm init finished"
    assert joins[0][1] <= joins[1][0], f"control-plane joins overlapped: {joins}"
    assert window(hosts.hosts["worker-1"], "kubeadm-join")[0] >= init_end
    assert hosts.hosts["worker-1"].step_names().count("install-load-balancer") == 0
    before = steps_per_host(hosts)
    second = up(engine)
    assert set(second["changeSummary"]) == {"same"}, second["changeSummary"]
    assert steps_per_host(hosts) == before


def test_a_worker_added_then_removed_touches_only_that_worker(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    up(engine)
    ran_before = steps_per_host(hosts)
    engine.write_settings(stack_for(hosts, FIRST + ["worker-2"]))
    added = up(engine)
    created = {e["urn"] for e in added["events"] if e["kind"] == "resource_pre_event" and e["op"] == "create"}
    assert created and all("worker-2" in urn for urn in created), created
    assert updated(added) == set(), "nothing but the new worker's resources"
    ran = steps_per_host(hosts)
    assert ran["worker-2"] == ["preflight", "prepare-host", "install", "kubeadm-join", "upgrade-kubeadm",
                               "upgrade-containerd", "upgrade-kubelet"]  # they pass through: it runs the target
    # Its mark, its join credentials, its labels, its drain and uncordon checks, on the first control plane.
    assert sorted(ran["cp-1"][len(ran_before["cp-1"]):]) == [
        "join-credentials:worker-2", "member:worker-2", "node-labels:worker-2", "upgrade-drain:worker-2",
        "upgrade-uncordon:worker-2"]
    for name in ("cp-2", "cp-3", "worker-1"):
        assert ran[name] == ran_before[name]
    engine.write_settings(stack_for(hosts, FIRST))
    removed = up(engine)
    deleted = {e["urn"] for e in removed["events"] if e["kind"] == "resource_pre_event" and e["op"] == "delete"}
    assert deleted == created
    assert updated(removed) == set()
    after = steps_per_host(hosts)
    # Its mark first, then drain and Node deletion on cp-1, then the reset on the host.
    assert after["cp-1"][len(ran["cp-1"]):] == ["member:worker-2", "leave-cluster:worker-2"], after["cp-1"]
    assert after["worker-2"][len(ran["worker-2"]):] == ["reset-node"]
    assert window(hosts.hosts["cp-1"], "leave-cluster:worker-2")[1] <= window(hosts.hosts["worker-2"], "reset-node")[0]
    calls = hosts.hosts["worker-2"].sandbox.calls()
    assert "kubeadm reset -f" in calls and not (hosts.hosts["worker-2"].sandbox.root / "etc/kubernetes/kubelet.conf").exists()
    assert not (hosts.hosts["cp-1"].sandbox.state / "nodes" / "worker-2").exists(), "its Node is deleted"
    for name in ("cp-2", "cp-3", "worker-1"):
        assert after[name] == ran[name]


def updated(result: dict) -> set[str]:
    return {e["urn"].split("::")[-1] for e in result["events"]
            if e["kind"] == "resource_pre_event" and e["op"] == "update"}


DESTRUCTIVE = ("kubeadm reset", "systemctl disable")


def test_replacing_any_step_of_a_kept_node_removes_and_resets_nothing(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    up(engine)
    for host in hosts.hosts.values():
        host.sandbox.reset_calls()
    urn = {r["urn"].split("::")[-1]: r["urn"] for r in engine.export()["resources"]}
    steps = ["worker-1-join", "worker-1-reset", "worker-1-leave", "worker-1-member", "worker-1-credentials",
             "cp-2-join", "cp-2-reset", "cp-2-leave", "cp-2-member"]
    result = engine.run("up", replace=[urn[step] for step in steps])
    assert result["ok"], result.get("error", "")[-3000:]
    replaced = {e["urn"].split("::")[-1] for e in result["events"]
                if e["kind"] == "resource_pre_event" and e["op"] in ("replace", "create-replacement")}
    assert set(steps) <= replaced, set(steps) - replaced
    for name, host in hosts.hosts.items():
        calls = host.sandbox.calls()
        assert not [c for c in calls if c.startswith(DESTRUCTIVE) or " drain " in c or "delete node" in c
                    or "member remove" in c], (name, calls)
    # The replaced removal steps ran, and each said why it left the node alone.
    ran = steps_per_host(hosts)
    assert ran["cp-1"].count("leave-cluster:worker-1") == ran["cp-1"].count("leave-cluster:cp-2") == 1
    assert ran["worker-1"].count("reset-node") == 1 and ran["cp-2"].count("reset-node") == 1
    assert (hosts.hosts["cp-1"].sandbox.state / "nodes" / "worker-1").exists()
    assert (hosts.hosts["worker-1"].sandbox.root / "etc/kubernetes/kubelet.conf").exists()
    assert (hosts.hosts["cp-2"].sandbox.root / "etc/kubernetes/kubelet.conf").exists()


def test_a_step_that_failed_is_run_again_by_the_next_up_and_nothing_else_is(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    hosts.hosts["worker-1"].sandbox.fail("kubeadm-join")
    failed = engine.run("up")
    assert not failed["ok"]
    assert "worker-1-join" in failed["error"]
    # A failed create stores nothing: the step is still to be created; what finished stays done.
    names = {r["urn"].split("::")[-1] for r in engine.export()["resources"]}
    assert "worker-1-join" not in names and {"cp-1-init", "worker-1-install"} <= names
    ran = steps_per_host(hosts)
    hosts.hosts["worker-1"].sandbox.heal("kubeadm-join")
    again = up(engine)
    created = {e["urn"].split("::")[-1] for e in again["events"]
               if e["kind"] == "resource_pre_event" and e["op"] == "create"}
    assert "worker-1-join" in created and not created & names
    after = steps_per_host(hosts)
    assert after["worker-1"] == ran["worker-1"] + ["kubeadm-join", "upgrade-kubeadm", "upgrade-containerd",
                                                   "upgrade-kubelet"]
    assert set(again["changeSummary"]) <= {"create", "same"}, again["changeSummary"]


def as_on_containerd_1_7(host) -> None:
    """The host as the release before containerd 2 left it: Ubuntu's containerd 1.7, held, its version 2 config."""
    state, root = host.sandbox.state, host.sandbox.root
    (state / "pkgs/containerd.io").unlink()
    (state / "held/containerd.io").unlink()
    (state / "pkgs/containerd").write_text("1.7.28-0ubuntu1~24.04.1\n")
    (state / "held/containerd").touch()
    (root / "etc/containerd/config.toml").write_text("version = 2\n")


def upgrade_and_check_the_order(engine, hosts, version: str, steps: tuple[str, ...]) -> dict:
    """Moves the cluster to `version`; checks every node's steps ran in the kubeadm order and returns when each
    step ran on each host, as {host: {step: (start, end)}}."""
    started = {name: len(hosts.hosts[name].steps()) for name in FIRST}
    engine.write_settings(stack_for(hosts, FIRST, version))
    upgraded = up(engine)
    assert set(upgraded["changeSummary"]) == {"update", "same"}, upgraded["changeSummary"]
    spans: dict[str, dict[str, tuple[float, float]]] = {}
    for name in FIRST:
        for t, event, step, _ in hosts.hosts[name].steps()[started[name]:]:
            first, last = spans.setdefault(name, {}).get(step, (t, t))
            spans[name][step] = (min(first, t), max(last, t))
        host = hosts.hosts[name]
        assert installed_kubelet(host) == f"{version}-1.1"
        assert (host.sandbox.state / "pkgs/kubeadm").read_text() == f"{version}-1.1\n"
        assert not (host.sandbox.state / "cordoned" / name).exists()
    order = [spans[host][step] for host in FIRST for step in steps]
    assert all(a[1] <= b[0] for a, b in zip(order, order[1:])), order
    applied = spans["cp-1"]["upgrade-kubeadm"][1]
    assert applied <= min(spans[h]["upgrade-kubelet"][0] for h in FIRST), "a kubelet moved before the API server"
    drained, uncordoned = spans["cp-1"]["upgrade-drain:worker-1"], spans["cp-1"]["upgrade-uncordon:worker-1"]
    assert drained[1] <= spans["worker-1"]["upgrade-containerd"][0]
    assert spans["worker-1"]["upgrade-kubelet"][1] <= uncordoned[0]
    return spans


def test_a_version_change_upgrades_the_kubeadm_way_and_a_second_up_does_nothing(cluster):
    hosts = cluster[0]
    engine = EngineStack(cluster[2] / "engine", "metal", stack_for(hosts, FIRST, "1.35.8"),
                         {"sshPrivateKey": cluster[1]}, namespace=hosts.engine_namespace)
    up(engine)
    for name in FIRST:
        assert installed_kubelet(hosts.hosts[name]) == "1.35.8-1.1"
        as_on_containerd_1_7(hosts.hosts[name])
    # 1.35 -> 1.36: each node, once drained, leaves containerd 1.7 for containerd 2 before its kubelet moves.
    upgrade_and_check_the_order(engine, hosts, "1.36.5", ("upgrade-kubeadm", "upgrade-containerd", "upgrade-kubelet"))
    for name in FIRST:
        state, root = hosts.hosts[name].sandbox.state, hosts.hosts[name].sandbox.root
        assert not (state / "pkgs/containerd").exists()
        assert (state / "pkgs/containerd.io").read_text().startswith(versions.CONTAINERD_VERSION + "-")
        assert "pause:3.10.2" in (root / "etc/containerd/config.toml").read_text()
    # 1.36 -> 1.37, the same path; containerd is at its pin already.
    before = {name: (hosts.hosts[name].sandbox.root / "etc/containerd/config.toml").read_text() for name in FIRST}
    upgrade_and_check_the_order(engine, hosts, "1.37.2", ("upgrade-kubeadm", "upgrade-kubelet"))
    for cp in ("cp-1", "cp-2", "cp-3"):
        root = hosts.hosts[cp].sandbox.root
        assert "kube-apiserver:v1.37.2" in (root / "etc/kubernetes/manifests/kube-apiserver.yaml").read_text()
        assert (root / "var/lib/k8s-platform/etcd-snapshots/pre-upgrade-v1.36.5-to-v1.37.2.db").exists()
    assert before == {name: (hosts.hosts[name].sandbox.root / "etc/containerd/config.toml").read_text()
                      for name in FIRST}
    before_again = steps_per_host(hosts)
    again = up(engine)
    assert set(again["changeSummary"]) == {"same"}
    assert steps_per_host(hosts) == before_again


def installed_kubelet(host) -> str:
    return (host.sandbox.state / "pkgs/kubelet").read_text().strip()


def secrets_on_hosts(hosts) -> dict[str, str]:
    """The generated credentials, read where the hosts keep them."""
    init = (hosts.hosts["cp-1"].sandbox.root / "etc/kubernetes/k8s-platform/kubeadm-init.yaml").read_text()
    token = re.search(r"token: \"?([a-z0-9]{6}\.[a-z0-9]{16})", init)[1]
    keepalived = (hosts.hosts["cp-1"].sandbox.root / "etc/keepalived/keepalived.conf").read_text()
    vrrp = re.search(r"auth_pass (\S+)", keepalived)[1]
    certificate_keys = (hosts.hosts["cp-1"].sandbox.state / "certificate-keys").read_text().split()
    encryption = (hosts.hosts["cp-1"].sandbox.root / "etc/kubernetes/encryption/keys").read_text().split()[1]
    return {"bootstrap token": token, "token secret": token.split(".")[1], "VRRP password": vrrp,
            "encryption key": encryption,
            **{f"certificate key {i}": k for i, k in enumerate(certificate_keys)}}


def test_no_credential_appears_in_clear_in_state_logs_or_host_command_lines_and_destroy_completes(cluster):
    hosts, key, _ = cluster
    engine = engine_for(cluster)
    result = engine.run("up", logVerbosity=5)
    assert result["ok"], result.get("error", "")[-4000:]
    found = secrets_on_hosts(hosts)
    assert len(found) >= 5  # token, its secret, the VRRP password, the encryption key, a certificate key per cp join
    exported = engine.export()
    places = {"stack export": json.dumps(exported), "engine output and log": result["output"] + result["stderr"],
              "events": json.dumps(result["events"]), "stack file": engine.stack_file.read_text(),
              **{f"{name} command lines": host.command_lines() for name, host in hosts.hosts.items()}}
    key_lines = key.strip().splitlines()[1:-1]
    for place, text in places.items():
        for what, value in found.items():
            assert value not in text, f"{what} in clear in {place}"
        assert not [line for line in key_lines if line in text], f"the SSH key in clear in {place}"
    assert "ciphertext" in json.dumps(exported)  # the secrets are there, encrypted
    destroyed = engine.run("destroy")
    assert destroyed["ok"], destroyed.get("error", "")[-4000:]
    assert destroyed["changeSummary"]["delete"] == result["changeSummary"]["create"]
    assert not [r for r in engine.export().get("resources", []) if r["type"] != "pulumi:pulumi:Stack"]
