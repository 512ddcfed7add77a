"""What the nodes run on, in prod: hosts set up as containers, on cgroup v1 or letting preflight errors pass are
refused (production-hosts); a cluster without the platform's pod network gets a word of advice (pod-network)."""

import pytest

from tests.policies.test_rules import metal_node, stack_violations


def node(name, tier="prod", relaxed=(), network="calico"):
    made = metal_node(name, tier=tier)
    made.props.update(hostSystemRelaxed=list(relaxed), podNetwork=network)
    return made


def test_prod_nodes_on_ordinary_hosts_pass():
    assert stack_violations("production-hosts", [node("w-1"), node("w-2")]) == []
    assert stack_violations("pod-network", [node("w-1")]) == []


def test_prod_nodes_set_up_for_containers_cgroup_v1_or_ignored_preflight_errors_are_refused_naming_each():
    [message] = stack_violations("production-hosts", [node("w-1", relaxed=("containers", "cgroupV1")),
                                                      node("w-2", relaxed=("ignorePreflightErrors",))])
    for setting in ("hostSystem.cgroupV1", "hostSystem.containers", "hostSystem.ignorePreflightErrors"):
        assert setting in message
    assert "production nodes run on machines of their own, on cgroup v2" in message


@pytest.mark.parametrize("tier", ["lab", "dev"])
def test_lab_and_dev_may_run_on_containers_and_without_the_platforms_pod_network(tier):
    nodes = [node("w-1", tier, ("containers", "cgroupV1"), "none")]
    assert stack_violations("production-hosts", nodes) == [] and stack_violations("pod-network", nodes) == []


def test_prod_without_the_platforms_pod_network_is_told_what_that_means():
    [message] = stack_violations("pod-network", [node("w-1", network="none")])
    assert "turn Ready only once your own CNI runs" in message and "NetworkPolicies" in message
