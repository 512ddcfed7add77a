"""Real `pulumi up` when a machine behind a node's name changes: a bare-metal worker re-imaged under the same name and
address (a new SSH host key in the inventory) is noticed, its old Node taken out and the fresh host joined, and
nothing else runs; the first control plane's own join steps leave the cluster its init made alone; a join that failed
hours ago gets fresh credentials on the next `up`, with no `--replace`; a lost first control plane stops no join and
no removal."""

from __future__ import annotations

import time

import pytest

from components.host import host_key_identity
from tests.engine.test_up import FIRST, cluster, engine_for, stack_for, steps_per_host, up, updated  # noqa: F401

pytestmark = pytest.mark.usefixtures("engine_tools")


def test_a_re_imaged_worker_is_noticed_by_its_new_host_key_its_old_node_taken_out_and_it_joins_again(cluster):
    """After a first `up`, whose first control plane joins nothing (its init made the cluster), worker-1 is
    re-imaged."""
    hosts = cluster[0]
    engine = engine_for(cluster)
    up(engine)
    ran = steps_per_host(hosts)
    # The first control plane's own join did nothing after its init; its credentials came from the second.
    assert ran["cp-1"].count("kubeadm-init") == 1 and ran["cp-1"].count("kubeadm-join") == 1
    assert "join-credentials:cp-1" in ran["cp-2"] and "member:cp-1" in ran["cp-2"]
    assert not any(c.startswith("kubeadm join") for c in hosts.hosts["cp-1"].sandbox.calls())
    identities = hosts.hosts["cp-1"].sandbox.state / "identity"
    for name in FIRST:  # every join recorded its machine (the first's too), as the cluster's Nodes hold it
        assert (identities / name).read_text().strip() == host_key_identity(hosts.hosts[name].host_key), name
    for host in hosts.hosts.values():
        host.sandbox.reset_calls()
    worker = hosts.reimage("worker-1")
    engine.write_settings(stack_for(hosts, FIRST))
    result = up(engine)
    after = steps_per_host(hosts)
    fresh = after["worker-1"][len(ran["worker-1"]):]
    assert fresh[:4] == ["preflight", "prepare-host", "install", "kubeadm-join"], fresh
    # On the first control plane: its credentials (the old Node out first), then its labels on the new Node.
    assert after["cp-1"][len(ran["cp-1"]):] == ["join-credentials:worker-1", "node-labels:worker-1"]
    for name in ("cp-2", "cp-3"):
        assert after[name] == ran[name], name
    cp = hosts.hosts["cp-1"].sandbox.calls()
    taken_out = [i for i, c in enumerate(cp) if c.endswith("cordon worker-1") or c.endswith("delete node worker-1 "
                                                                                              "--ignore-not-found")]
    token = next(i for i, c in enumerate(cp) if c.startswith("kubeadm token create"))
    assert len(taken_out) == 2 and max(taken_out) < token, cp
    assert any(c.startswith("kubeadm join --config") for c in worker.sandbox.calls())
    identity = (hosts.hosts["cp-1"].sandbox.state / "identity" / "worker-1").read_text().strip()
    assert identity == host_key_identity(worker.host_key)
    assert (hosts.hosts["cp-1"].sandbox.state / "nodes" / "worker-1").exists(), "the fresh host registered again"
    assert all("worker-1" in urn for urn in updated(result)), updated(result)
    assert not [c for h in ("cp-2", "cp-3") for c in hosts.hosts[h].step_calls()]


def test_a_join_that_failed_hours_ago_gets_fresh_credentials_on_the_next_up_without_a_replace(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    worker = hosts.hosts["worker-1"]
    worker.sandbox.fail("kubeadm-join")
    failed = engine.run("up")
    assert not failed["ok"]
    record = hosts.hosts["cp-1"].sandbox.root / "etc/kubernetes/k8s-platform/credentials.d/worker-1"
    expires, _, request = record.read_text().strip().partition(" ")
    assert int(expires) > time.time() and request == ""
    # Hours later: the credentials made for that attempt have expired (their recorded expiry says so).
    record.write_text(f"{int(time.time()) - 3 * 3600}\n")
    worker.sandbox.heal("kubeadm-join")
    made = steps_per_host(hosts)["cp-1"].count("join-credentials:worker-1")
    preview = engine.preview()
    assert preview["ok"], preview.get("error", "")[-3000:]
    assert "worker-1-credentials" in updated(preview), updated(preview)
    assert not [name for name in updated(preview) if "worker-1" not in name], updated(preview)
    result = up(engine)
    assert steps_per_host(hosts)["cp-1"].count("join-credentials:worker-1") == made + 1, "fresh credentials"
    assert any(c.startswith("kubeadm join --config") for c in worker.sandbox.calls())
    assert "fresh credentials for worker-1" in record.read_text()
    assert (hosts.hosts["cp-1"].sandbox.state / "identity" / "worker-1").exists(), "it joined"
    assert "worker-1-join" in {e["urn"].split("::")[-1] for e in result["events"]
                               if e["kind"] == "resource_pre_event" and e["op"] == "create"}
    quiet = up(engine)
    assert set(quiet["changeSummary"]) == {"same"}, quiet["changeSummary"]


def warnings(result: dict) -> list[str]:
    return [e["message"] for e in result["events"] if e["kind"] == "diagnostic_event" and e["severity"] == "warning"]


def test_with_the_first_control_plane_lost_a_worker_joins_and_then_leaves_through_the_second(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    up(engine)
    hosts.stop("cp-1")
    before = steps_per_host(hosts)
    for host in hosts.hosts.values():
        host.sandbox.reset_calls()
    engine.write_settings(stack_for(hosts, FIRST + ["worker-2"]))
    added = up(engine)
    assert any(w.startswith("cp-1 did not answer: the join credentials") for w in warnings(added)), warnings(added)
    ran = steps_per_host(hosts)
    assert ran["cp-1"] == before["cp-1"], "nothing ran on the lost control plane"
    on_second = ran["cp-2"][len(before["cp-2"]):]
    for step in ("join-credentials", "member", "node-labels", "upgrade-drain", "upgrade-uncordon"):
        assert f"{step}:worker-2" in on_second, on_second
    # The steps of the nodes the first acted for moved with it: run once more on the second, harmlessly.
    assert "join-credentials:worker-1" in on_second and "member:worker-1" in on_second
    assert "kubeadm-join" in ran["worker-2"] and (hosts.hosts["cp-2"].sandbox.state / "identity" / "worker-2").exists()
    worker_1 = hosts.hosts["worker-1"].sandbox.calls()
    assert not [c for c in worker_1 if c.startswith(("kubeadm join", "kubeadm reset"))], "worker-1 stayed joined"

    engine.write_settings(stack_for(hosts, FIRST))
    removed = up(engine)
    after = steps_per_host(hosts)
    assert after["cp-1"] == before["cp-1"]
    assert after["cp-2"][len(ran["cp-2"]):] == ["member:worker-2", "leave-cluster:worker-2"], after["cp-2"]
    assert after["worker-2"][len(ran["worker-2"]):] == ["reset-node"]
    assert not (hosts.hosts["cp-2"].sandbox.state / "nodes" / "worker-2").exists(), "its Node is deleted"
    assert any(e["kind"] == "resource_pre_event" and e["op"] == "delete" for e in removed["events"])
