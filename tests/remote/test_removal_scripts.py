"""The removal steps in the sandbox: the member marks, leave-cluster.sh on the first control plane (drain, etcd
member, Node) and reset-node.sh on the host; nothing destructive against a node the settings keep."""

from components.bootstrap import api_security, host_steps
from tests.remote.test_host_scripts import CLUSTER, CP0, CP1, EXAMPLES, WORKER
from tests.sandbox import Sandbox, render_for


def first_control_plane(tmp_path, members: list[str]) -> Sandbox:
    """The first control plane: admin.conf, an etcd of three members, the marks of `members` as member.sh makes
    them."""
    box = Sandbox(tmp_path)
    (box.root / "etc/kubernetes/manifests").mkdir(parents=True)
    (box.root / "etc/kubernetes/manifests/etcd.yaml").write_text("    image: registry.k8s.io/etcd:3.6.5-0\n")
    (box.root / "etc/kubernetes/admin.conf").write_text("admin")
    (box.state / "etcd-members").write_text("".join(
        f"{i}a{i}b, started, {name}, https://10.20.0.{i}:2380, https://10.20.0.{i}:2379, false\n"
        for i, name in enumerate((CP0.name, CP1.name, "k8s-prod-cp-2"), start=1)))
    for name in (CP0.name, CP1.name, "k8s-prod-cp-2", WORKER.name):
        (box.state / "nodes" / name).touch()
    for name in members:
        assert box.run(render_for(box, lambda name=name: host_steps.member(name, "add"))).returncode == 0
    box.reset_calls()
    return box


def test_a_member_mark_is_added_and_removed_and_both_are_harmless_twice(tmp_path):
    box = Sandbox(tmp_path)
    mark = box.root / f"etc/kubernetes/k8s-platform/members.d/{WORKER.name}"
    for _ in range(2):
        assert box.run(render_for(box, EXAMPLES["member-add"])).returncode == 0 and mark.exists()
    for _ in range(2):
        assert box.run(render_for(box, EXAMPLES["member-remove"])).returncode == 0 and not mark.exists()


def kubectl_verbs(box: Sandbox) -> list[str]:
    return [c.split()[3] for c in box.calls() if c.startswith("kubectl")]


def test_a_node_still_in_the_settings_is_never_removed_by_a_replaced_step(tmp_path):
    box = first_control_plane(tmp_path, [CP0.name, CP1.name, WORKER.name])
    for example in ("leave-worker", "leave-control-plane"):
        result = box.run(render_for(box, EXAMPLES[example]))
        assert result.returncode == 0 and "is still in the settings: a replaced step removes nothing" in result.stderr
    assert box.calls() == [] and (box.state / "nodes" / WORKER.name).exists()


def test_a_worker_leaving_is_drained_then_deleted_and_a_second_run_is_harmless(tmp_path):
    box = first_control_plane(tmp_path, [CP0.name, CP1.name])
    assert box.run(render_for(box, EXAMPLES["leave-worker"])).returncode == 0
    assert kubectl_verbs(box) == ["get", "get", "drain", "delete"]
    assert not [c for c in box.calls() if c.startswith("ctr")], "a worker has no etcd member"
    assert not (box.state / "nodes" / WORKER.name).exists()
    box.reset_calls()
    assert box.run(render_for(box, EXAMPLES["leave-worker"])).returncode == 0
    assert kubectl_verbs(box) == ["get", "delete"]


def test_a_control_plane_leaving_is_drained_its_etcd_member_removed_then_its_node_deleted(tmp_path):
    box = first_control_plane(tmp_path, [CP0.name, "k8s-prod-cp-2", WORKER.name])
    result = box.run(render_for(box, EXAMPLES["leave-control-plane"]))
    assert result.returncode == 0, result.stderr
    calls = box.calls()
    drain = next(i for i, c in enumerate(calls) if " drain " in c)
    remove = next(i for i, c in enumerate(calls) if "member remove 2a2b" in c)
    delete = next(i for i, c in enumerate(calls) if "delete node" in c)
    assert drain < remove < delete
    assert CP1.name not in (box.state / "etcd-members").read_text()
    assert "etcd member 2a2b (k8s-prod-cp-1) removed; 2 left, 2 healthy" in result.stderr


def test_a_dead_control_plane_is_removed_without_a_drain_while_the_others_hold_quorum(tmp_path):
    box = first_control_plane(tmp_path, [CP0.name, "k8s-prod-cp-2"])
    (box.state / "notready").mkdir()
    (box.state / "notready" / CP1.name).touch()
    (box.state / "etcd-unhealthy").write_text("https://10.20.0.2:2379\n")  # its own member, dead with it
    result = box.run(render_for(box, EXAMPLES["leave-control-plane"]))
    assert result.returncode == 0, result.stderr
    assert "is not Ready (False): cordoned, not drained" in result.stderr
    assert not [c for c in box.calls() if " drain " in c] and "member remove 2a2b" in " ".join(box.calls())


def test_a_control_plane_is_not_removed_when_the_members_that_stay_have_no_quorum(tmp_path):
    box = first_control_plane(tmp_path, [CP0.name, "k8s-prod-cp-2"])
    (box.state / "etcd-unhealthy").write_text("https://10.20.0.1:2379\nhttps://10.20.0.3:2379\n")
    result = box.run(render_for(box, EXAMPLES["leave-control-plane"]))
    assert result.returncode != 0
    assert "only 0 of the 2 etcd members that would stay are healthy: k8s-prod-cp-1's member stays" in result.stderr
    assert "2a2b" in (box.state / "etcd-members").read_text() and (box.state / "nodes" / CP1.name).exists()


def test_the_last_control_plane_leaving_with_its_cluster_keeps_its_member_and_is_deleted(tmp_path):
    # pulumi destroy: the last control plane's etcd member has no quorum to keep (found on real machines, where the
    # destroy stopped at "only 0 of the 0 etcd members that would stay are healthy").
    box = first_control_plane(tmp_path, [])
    (box.state / "etcd-members").write_text("2a2b, started, k8s-prod-cp-1, https://10.20.0.2:2380, "
                                            "https://10.20.0.2:2379, false\n")
    result = box.run(render_for(box, EXAMPLES["leave-control-plane"]))
    assert result.returncode == 0, result.stderr
    assert "etcd member 2a2b (k8s-prod-cp-1) is the cluster's last: it goes with the cluster" in result.stderr
    assert "member remove" not in " ".join(box.calls()) and not (box.state / "nodes" / CP1.name).exists()


def test_a_control_plane_whose_member_is_gone_leaves_even_when_no_member_is_listed(tmp_path):
    # Found by CI through the engine: with the member list empty (every other member removed already, as the stub
    # etcd of a destroy has it) `grep -c` of no lines exited 1 and `set -e` ended the removal without a word.
    box = first_control_plane(tmp_path, [])
    (box.state / "etcd-members").write_text("")
    result = box.run(render_for(box, EXAMPLES["leave-control-plane"]))
    assert result.returncode == 0, result.stderr
    assert "member remove" not in " ".join(box.calls()) and not (box.state / "nodes" / CP1.name).exists()


def test_a_drain_that_cannot_finish_stops_the_removal_naming_the_pods(tmp_path):
    box = first_control_plane(tmp_path, [CP0.name])
    box.fail("drain")
    result = box.run(render_for(box, EXAMPLES["leave-worker"]))
    assert result.returncode != 0 and "could not be drained within 5m (pods still on it: demo/web-0" in result.stderr
    assert (box.state / "nodes" / WORKER.name).exists() and (box.state / "cordoned" / WORKER.name).exists()


def joined_worker(tmp_path) -> Sandbox:
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, EXAMPLES["join-worker"])).returncode == 0
    (box.state / "nodes" / WORKER.name).touch()
    (box.state / "active" / "kubelet").touch()
    box.reset_calls()
    return box


def install_daily_programs(box: Sandbox) -> list:
    """What the kubelet and certificates steps install: timers, services, programs, metrics."""
    units = box.root / "etc/systemd/system"
    units.mkdir(parents=True, exist_ok=True)
    files = [units / "k8s-platform-certificates.timer", units / "k8s-platform-certificates.service",
             units / "k8s-platform-kubelet-certificate.timer", units / "k8s-platform-kubelet-certificate.service",
             box.root / "usr/local/lib/k8s-platform/kubelet-serving-certificate",
             box.root / "var/lib/k8s-platform/metrics/k8s-platform-kubelet.prom"]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("installed")
    (units / "containerd.service").write_text("not ours")
    return files


def test_a_host_is_reset_only_once_the_cluster_has_no_node_of_its_name(tmp_path):
    box = joined_worker(tmp_path)
    daily = install_daily_programs(box)
    keys = box.root / api_security.ENCRYPTION_KEYS_FILE.lstrip("/")  # as a control plane has them
    policy = box.root / api_security.AUDIT_POLICY_FILE.lstrip("/")
    audit_log = box.root / api_security.AUDIT_LOG_FILE.lstrip("/")  # request bodies
    tail_db = box.root / api_security.AUDIT_TAIL_DB.lstrip("/")  # Fluent Bit's place in the log that goes
    for path in (keys, policy, audit_log, tail_db):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("installed")
    daily += [keys, policy, audit_log, tail_db]
    kept = box.run(render_for(box, EXAMPLES["reset-node"]))
    assert kept.returncode == 0 and "is still a Node of the cluster: a replaced step resets nothing" in kept.stderr
    assert box.mutating_calls() == [] and (box.root / "etc/kubernetes/kubelet.conf").exists()
    assert all(path.exists() for path in daily), "a kept node keeps its timers"
    get = next(c for c in box.calls() if c.startswith("kubectl"))
    assert f"--server https://{CLUSTER.endpoint}" in get, "asked through the load balancer"
    (box.state / "nodes" / WORKER.name).unlink()  # leave-cluster.sh deleted it
    left = box.run(render_for(box, EXAMPLES["reset-node"]))
    assert left.returncode == 0, left.stderr
    assert "kubeadm reset -f" in box.calls() and "systemctl disable --now kubelet" in box.calls()
    assert not (box.root / "etc/kubernetes/kubelet.conf").exists()
    # Its daily programs go too (the serving certificate's would restart the kubelet the reset disabled), the
    # keys that open the cluster's Secrets and the audit log.
    assert not [path for path in daily if path.exists()]
    assert "systemctl disable --now k8s-platform-kubelet-certificate.timer" in box.calls()
    assert (box.root / "etc/systemd/system/containerd.service").exists(), "nothing that is not ours"
    box.reset_calls()
    assert box.run(render_for(box, EXAMPLES["reset-node"])).returncode == 0
    assert box.mutating_calls() == []


def test_a_host_that_cannot_ask_the_api_is_not_reset(tmp_path):
    box = joined_worker(tmp_path)
    (box.state / "nodes" / WORKER.name).unlink()
    box.fail("kubectl")
    result = box.run(render_for(box, EXAMPLES["reset-node"]))
    assert result.returncode != 0 and "nothing reset" in result.stderr
    assert "kubeadm reset -f" not in box.calls() and (box.root / "etc/kubernetes/kubelet.conf").exists()
