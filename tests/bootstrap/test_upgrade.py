"""The upgrade steps under mocks: their order (guard, snapshots, cp-0, cp-1, cp-2, then worker batches, the workers
of one batch in parallel), new workers joining only after the control planes' upgrade, and a chain whose length
grows with the batches, not with the workers."""

from __future__ import annotations

import copy
import functools

import pytest

from tests.helpers import edited, write_stack
from tests.plan_fixtures import shipped_plan
from tools.plan import build_plan
from tools.scale_benchmark import stack_document as sized_document

CP = ["k8s-prod-cp-0", "k8s-prod-cp-1", "k8s-prod-cp-2"]
STEPS = ("upgrade-kubeadm", "upgrade-drain", "upgrade-containerd", "upgrade-kubelet", "upgrade-ready")


def graph(result) -> dict[str, set[str]]:
    """name -> names it waits for; waiting for a component means waiting for every resource under it."""
    resources = result.document["resources"]
    by_urn = {r["urn"]: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in resources:
        children.setdefault(r["parent"], []).append(r["urn"])

    def expand(urn):
        if urn not in by_urn:
            return set()
        below = children.get(urn, [])
        return {by_urn[urn]["name"]} if not below else set().union(*(expand(u) for u in below))
    return {r["name"]: set().union(*(expand(u) for u in r["dependsOn"])) if r["dependsOn"] else set()
            for r in resources if not children.get(r["urn"])}


def upgrade_depth(waits: dict[str, set[str]]) -> int:
    """The longest chain of upgrade steps."""
    steps = {name: {d for d in deps if "upgrade" in d} for name, deps in waits.items() if "upgrade" in name}

    @functools.lru_cache(maxsize=None)
    def longest(name):
        return 1 + max((longest(d) for d in steps[name]), default=0)
    return max(longest(n) for n in steps)


def prod_with_batches(tmp_path, size):
    return build_plan("custom", write_stack(tmp_path, edited("prod", upgrade={"maxUnavailableWorkers": size}), "up"))


def test_control_planes_one_by_one_then_workers_batch_after_batch(tmp_path):
    waits = graph(prod_with_batches(tmp_path, 2))
    workers = sorted(n[:-len("-upgrade-kubeadm")] for n in waits if n.endswith("-upgrade-kubeadm")
                     and "general" in n)
    assert workers == ["k8s-prod-general-0", "k8s-prod-general-1", "k8s-prod-general-2"]
    assert {f"{cp}-upgrade-etcd-snapshot" for cp in CP} <= waits["k8s-prod-cp-0-upgrade-kubeadm"]
    assert {d for d in waits["k8s-prod-cp-0-upgrade-etcd-snapshot"] if "upgrade" in d} == {"k8s-prod-upgrade-guard"}
    assert "k8s-prod-api-ready" in waits["k8s-prod-upgrade-guard"]
    for node in CP + workers:  # each node: kubeadm, drain, kubelet, ready
        for before, after in zip(STEPS, STEPS[1:]):
            assert f"{node}-{before}" in waits[f"{node}-{after}"]
    assert "k8s-prod-cp-0-upgrade-ready" in waits["k8s-prod-cp-1-upgrade-kubeadm"]
    assert "k8s-prod-cp-1-upgrade-ready" in waits["k8s-prod-cp-2-upgrade-kubeadm"]
    first_batch, second_batch = workers[:2], workers[2:]
    for worker in first_batch:  # in parallel: after the last control plane, not after each other
        assert "k8s-prod-cp-2-upgrade-ready" in waits[f"{worker}-upgrade-kubeadm"]
        assert not {f"{w}-upgrade-ready" for w in first_batch} & waits[f"{worker}-upgrade-kubeadm"]
    barrier = "k8s-prod-general-0-upgrade-batch"  # runs nothing; waits for the whole first batch
    assert waits[barrier] == {f"{w}-upgrade-ready" for w in first_batch}
    for worker in second_batch:
        assert barrier in waits[f"{worker}-upgrade-kubeadm"]


def test_drains_and_uncordons_run_on_the_first_control_plane_the_rest_on_the_node(tmp_path):
    result = prod_with_batches(tmp_path, 1)

    def host(registration):
        connection = registration.inputs["connection"]
        return (connection.get("value") or connection)["host"]  # the connection is a secret (it holds the key)
    hosts = {r.name: host(r) for r in result.registrations if r.type == "command:remote:Command"}
    for worker in ("k8s-prod-general-0", "k8s-prod-general-2"):
        assert hosts[f"{worker}-upgrade-drain"] == hosts[f"{worker}-upgrade-ready"] == hosts["k8s-prod-cp-0-init"]
        assert hosts[f"{worker}-upgrade-kubeadm"] == hosts[f"{worker}-upgrade-kubelet"] == hosts[f"{worker}-join"]


def test_workers_join_only_after_every_control_plane_runs_the_target():
    waits = graph(shipped_plan("prod"))
    assert "k8s-prod-cp-2-upgrade-ready" in waits["k8s-prod-general-0-credentials"]
    assert "k8s-prod-general-0-join" in waits["k8s-prod-general-0-upgrade-kubeadm"]


def test_every_step_carries_the_target_so_a_new_version_runs_them_again(tmp_path):
    base = {r["name"]: r["inputs"]["stdin"] for r in build_plan("prod").document["resources"]
            if "upgrade" in r["name"] and r["type"] == "command:remote:Command"}
    head = {r["name"]: r["inputs"]["stdin"] for r in build_plan(
        "custom", write_stack(tmp_path, edited("prod", kubernetesVersion="1.37.2"), "v")).document["resources"]
        if "upgrade" in r["name"] and r["type"] == "command:remote:Command"}
    assert base.keys() == head.keys() and len(base) == 1 + 3 + 5 * 6
    assert all(base[n] != head[n] and "readonly TARGET_VERSION=1.37.2" in head[n] for n in base)


@pytest.mark.parametrize("workers,size", [(3, 1), (30, 10), (300, 100)])
def test_the_chain_grows_with_the_batches_not_the_workers(workers, size, tmp_path):
    document = copy.deepcopy(sized_document("metal", workers))  # bare metal: the same chain, a quicker plan
    document["config"]["k8s-platform:upgrade"] = {"maxUnavailableWorkers": size}
    waits = graph(build_plan("custom", write_stack(tmp_path, document, "scaled"), check_policies=False))
    # the guard, a snapshot, three control planes of five steps, three batches of five steps and a barrier: for 3
    # workers as for 300; and the dependencies grow with the workers (a worker's first step waits for one barrier)
    assert upgrade_depth(waits) == 2 + 3 * 5 + 3 * (5 + 1)
    assert max(len(deps) for name, deps in waits.items() if name.endswith("-upgrade-kubeadm")) <= 8
