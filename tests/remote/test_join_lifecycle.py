"""Joins over a node's lifetime, in the sandbox: a join retried over what a failed one left, credentials that
expired or could not be made, the machine identity a join records, the credentials step taking out the old machine
of a replaced or re-imaged node (and leaving a live one alone), and an init that finds its cluster answering."""

import dataclasses
import json
import time

import pytest

from components.bootstrap import host_steps
from tests.remote.test_host_scripts import CLUSTER, CP0, CP1, EXAMPLES, TOKEN, WORKER
from tests.remote.test_removal_scripts import first_control_plane
from tests.sandbox import Sandbox, render_for

IDENTITY = "i-0new0000000000000"
OLD_IDENTITY = "i-0old0000000000000"
# Fresh installs (their preflight found no finished init or join) under a new identity.
NEW_WORKER = dataclasses.replace(WORKER, identity=IDENTITY, fresh=True)
NEW_CP1 = dataclasses.replace(CP1, identity=IDENTITY, fresh=True)
STATE = "etc/kubernetes/k8s-platform"
# What kubeadm's join preflight refuses to find (a file a failed join left, and what the join reports).
LEFTOVERS = [("etc/kubernetes/kubelet.conf", "/etc/kubernetes/kubelet.conf"),
             ("etc/kubernetes/bootstrap-kubelet.conf", "/etc/kubernetes/bootstrap-kubelet.conf"),
             ("etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.crt"),
             ("etc/kubernetes/manifests/kube-apiserver.yaml", "/etc/kubernetes/manifests"),
             ("var/lib/etcd/member/snap/db", "/var/lib/etcd")]


def credentials(expires: int, certificate_key: bool = False) -> str:
    record = {"token": TOKEN, "caCertHash": "sha256:0123abcd", "expires": expires}
    if certificate_key:
        record["certificateKey"] = "c0ffee" * 10 + "abcd"
    return json.dumps(record)


def join_script(box: Sandbox, node=NEW_WORKER, stdout: str | None = None) -> str:
    stdout = stdout or credentials(int(time.time()) + 3600, node.role == "control-plane")
    return render_for(box, lambda: host_steps.join(CLUSTER, node, stdout))


@pytest.mark.parametrize("leftover, reported", LEFTOVERS)
def test_a_join_that_failed_halfway_is_reset_over_whatever_it_left(tmp_path, leftover, reported):
    box = Sandbox(tmp_path)
    (box.root / leftover).parent.mkdir(parents=True, exist_ok=True)
    (box.root / leftover).write_text("left by a failed join")
    (box.state / "nodes" / WORKER.name).touch()  # registered by the kubelet once the join works
    result = box.run(join_script(box))
    assert result.returncode == 0, result.stderr
    assert f"an earlier join did not finish (left: {reported}): resetting" in result.stderr
    left = box.root / leftover
    assert not left.exists() or left.read_text() != "left by a failed join", "reset (the join may make it anew)"
    calls = box.calls()
    assert calls.index("kubeadm reset -f") < next(i for i, c in enumerate(calls) if c.startswith("kubeadm join"))
    assert (box.root / STATE / "join.done").exists()


def test_a_join_with_nothing_left_over_is_not_reset(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "nodes" / WORKER.name).touch()
    assert box.run(join_script(box)).returncode == 0
    assert "kubeadm reset -f" not in box.calls() and any(c.startswith("kubeadm join") for c in box.calls())


def test_a_join_records_the_machine_identity_and_records_it_again_when_run_again(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "nodes" / WORKER.name).touch()
    assert box.run(join_script(box)).returncode == 0
    assert (box.state / "identity" / WORKER.name).read_text().strip() == IDENTITY
    annotate = [c for c in box.calls() if " annotate node " in c]
    assert annotate and "--kubeconfig" in annotate[0] and annotate[0].split()[2].endswith("kubelet.conf"), \
        "the node annotates its own Node with the kubelet's credentials"
    (box.state / "identity" / WORKER.name).unlink()
    box.reset_calls()
    again = box.run(join_script(box))
    assert again.returncode == 0 and "kubeadm join already done" in again.stderr
    assert not any(c.startswith("kubeadm") for c in box.calls())
    assert (box.state / "identity" / WORKER.name).read_text().strip() == IDENTITY


def test_expired_credentials_stop_the_join_naming_the_step_that_makes_new_ones(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "etc/kubernetes").mkdir()
    (box.root / "etc/kubernetes/bootstrap-kubelet.conf").write_text("left by a failed join")
    result = box.run(join_script(box, stdout=credentials(int(time.time()) - 7200)))
    assert result.returncode != 0
    assert f"the join credentials of {WORKER.name} expired at" in result.stderr
    assert f"run pulumi up again, its preview finds them expired and step {WORKER.name}-credentials makes fresh" \
        in result.stderr
    assert not any(c.startswith("kubeadm join") for c in box.calls())


def test_a_join_without_credentials_is_harmless_on_a_member_and_says_why_on_a_new_host(tmp_path):
    unavailable = json.dumps({"unavailable": "k8s-prod-cp-0 is not a control plane of the cluster yet"})
    joined = Sandbox(tmp_path / "joined")
    (joined.root / STATE).mkdir(parents=True)
    (joined.root / STATE / "join.done").touch()
    (joined.state / "nodes" / CP1.name).touch()
    result = joined.run(join_script(joined, NEW_CP1, unavailable))
    assert result.returncode == 0 and not any(c.startswith("kubeadm") for c in joined.calls())
    new = Sandbox(tmp_path / "new")
    result = new.run(join_script(new, NEW_CP1, unavailable))
    assert result.returncode != 0
    assert f"no join credentials for {CP1.name}: k8s-prod-cp-0 is not a control plane" in result.stderr
    assert not any(c.startswith("kubeadm join") for c in new.calls())


def test_credentials_on_a_host_that_is_not_a_member_are_unavailable_not_a_failure(tmp_path):
    box = Sandbox(tmp_path)
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, NEW_WORKER)))
    assert result.returncode == 0, result.stderr
    assert "unavailable" in json.loads(result.stdout) and box.mutating_calls() == []


def cluster_with(tmp_path, node, recorded: str, ready: bool, address: str) -> Sandbox:
    """The first control plane with `node` in the cluster, joined by the machine `recorded`, at `address`."""
    box = first_control_plane(tmp_path, [CP0.name, CP1.name, WORKER.name, "k8s-prod-cp-2"])
    (box.state / "identity").mkdir()
    (box.state / "identity" / node.name).write_text(recorded + "\n")
    (box.state / "node-address").mkdir()
    (box.state / "node-address" / node.name).write_text(address + "\n")
    if not ready:
        (box.state / "notready").mkdir()
        (box.state / "notready" / node.name).touch()
    return box


def test_the_old_machine_of_a_replaced_worker_is_drained_and_its_node_deleted_before_the_new_one_joins(tmp_path):
    box = cluster_with(tmp_path, WORKER, OLD_IDENTITY, ready=True, address="10.20.128.99")
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, NEW_WORKER)))
    assert result.returncode == 0, result.stderr
    assert f"was joined by another machine ({OLD_IDENTITY} at 10.20.128.99); {IDENTITY} replaces it" in result.stderr
    calls = box.calls()
    drain = next(i for i, c in enumerate(calls) if " drain " in c)
    delete = next(i for i, c in enumerate(calls) if "delete node" in c)
    token = next(i for i, c in enumerate(calls) if c.startswith("kubeadm token create"))
    assert drain < delete < token and not (box.state / "nodes" / WORKER.name).exists()
    assert not [c for c in calls if c.startswith("ctr")], "a worker has no etcd member"


def test_a_re_imaged_control_plane_loses_its_etcd_member_before_it_joins_again(tmp_path):
    box = cluster_with(tmp_path, CP1, OLD_IDENTITY, ready=False, address=CP1.address)
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, NEW_CP1)))
    assert result.returncode == 0, result.stderr
    assert "is not Ready (False): cordoned, not drained" in result.stderr
    assert CP1.name not in (box.state / "etcd-members").read_text() and not (box.state / "nodes" / CP1.name).exists()
    calls = box.calls()
    assert next(i for i, c in enumerate(calls) if "member remove 2a2b" in c) < \
        next(i for i, c in enumerate(calls) if c.startswith("kubeadm init phase upload-certs"))


def test_a_replaced_control_plane_keeps_its_member_when_the_others_have_no_quorum(tmp_path):
    box = cluster_with(tmp_path, CP1, OLD_IDENTITY, ready=True, address="10.20.144.99")
    (box.state / "etcd-unhealthy").write_text("https://10.20.0.3:2379\nhttps://10.20.0.1:2379\n")
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, NEW_CP1)))
    assert result.returncode != 0 and "k8s-prod-cp-1's member stays" in result.stderr
    assert "2a2b" in (box.state / "etcd-members").read_text()
    assert not any(c.startswith("kubeadm token create") for c in box.calls()), "no credentials: nothing joins"


@pytest.mark.parametrize("recorded, ready, address", [
    (IDENTITY, True, WORKER.address),  # the same machine
    (IDENTITY, False, "10.20.128.99"),  # the same machine, down and renumbered: it is not taken out for that
    ("", False, "10.20.128.99"),  # joined before identities were recorded: nothing proves another machine
    (OLD_IDENTITY, True, WORKER.address),  # running at its address: a bare-metal host whose host key changed
])
def test_a_node_not_proven_to_be_another_machine_is_left_alone(tmp_path, recorded, ready, address):
    box = cluster_with(tmp_path, WORKER, recorded, ready, address)
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, NEW_WORKER)))
    assert result.returncode == 0, result.stderr
    assert (box.state / "nodes" / WORKER.name).exists()
    assert not [c for c in box.calls() if any(v in c for v in (" drain ", " cordon ", "delete node", "member remove"))]


def test_a_machine_that_has_been_a_member_is_never_taken_out_for_a_new_identity(tmp_path):
    # A bare-metal host whose key was rotated while it was down: same install (its preflight found its join).
    box = cluster_with(tmp_path, CP1, OLD_IDENTITY, ready=False, address=CP1.address)
    rotated = dataclasses.replace(NEW_CP1, fresh=False)
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, rotated)))
    assert result.returncode == 0, result.stderr
    assert "the machine behind the name joined a cluster before: left alone" in result.stderr
    assert CP1.name in (box.state / "etcd-members").read_text() and (box.state / "nodes" / CP1.name).exists()
    assert not [c for c in box.calls() if any(v in c for v in (" drain ", " cordon ", "delete node", "member remove"))]


def test_an_init_that_finds_its_cluster_answering_joins_instead_of_making_a_second_one(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "cluster-answers").touch()
    result = box.run(render_for(box, lambda: host_steps.init(CLUSTER, CP0, TOKEN, join_from=CP1.name)))
    assert result.returncode == 0, result.stderr
    assert f"a cluster already answers at {CLUSTER.endpoint} (HTTP 401): this control plane joins it instead, " \
           f"with credentials from {CP1.name}" in result.stderr
    assert not any(c.startswith("kubeadm init") for c in box.calls())
    assert not (box.root / STATE / "init.done").exists()
    alone = Sandbox(tmp_path / "alone")
    (alone.state / "cluster-answers").touch()
    result = alone.run(render_for(alone, EXAMPLES["init"]))
    assert result.returncode != 0 and "this host is its only control plane" in result.stderr
    assert not any(c.startswith("kubeadm init") for c in alone.calls())


def test_the_first_control_plane_s_join_does_nothing_on_the_cluster_its_init_made(tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, EXAMPLES["init"])).returncode == 0
    (box.state / "nodes" / CP0.name).touch()
    box.reset_calls()
    first = dataclasses.replace(CP0, identity=IDENTITY)
    result = box.run(join_script(box, first))
    assert result.returncode == 0 and "this host made the cluster (kubeadm init): nothing to join" in result.stderr
    assert not any(c.startswith("kubeadm") for c in box.calls())
    assert (box.state / "identity" / CP0.name).read_text().strip() == IDENTITY


def test_a_setting_kubeadm_cannot_change_in_place_is_refused_naming_its_key(tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, EXAMPLES["init"])).returncode == 0
    made = f"networking:\n  podSubnet: {CLUSTER.pod_cidr}\n  serviceSubnet: {CLUSTER.service_cidr}\n" \
           f"clusterName: {CLUSTER.cluster_name}\ncontrolPlaneEndpoint: {CLUSTER.endpoint}\n"
    (box.state / "cluster-config").write_text(made)
    assert box.run(render_for(box, EXAMPLES["init"])).returncode == 0, "unchanged: nothing to refuse"
    changed = dataclasses.replace(CLUSTER, pod_cidr="10.248.0.0/16", cluster_name="k8s-other")
    box.reset_calls()
    result = box.run(render_for(box, lambda: host_steps.init(changed, CP0, TOKEN)))
    assert result.returncode != 0
    assert f"network.podCidr is 10.248.0.0/16 in the settings, the cluster was made with podSubnet {CLUSTER.pod_cidr}" \
        in result.stderr
    assert "clusterName is k8s-other in the settings" in result.stderr
    assert not any(c.startswith("kubeadm") for c in box.calls())
