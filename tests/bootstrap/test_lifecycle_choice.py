"""Which control plane acts for a node (its credentials, member mark, labels and removal): the first of its
candidates that answered the run's read. Pure, then under mocks: a lost first control plane moves every lifecycle
step to the second, and a cluster whose control planes all answer keeps them where they were."""

import json

import pytest

from components.bootstrap import lifecycle_choice
from tests.bootstrap.test_bootstrap import raw_inputs, unwrapped
from tests.bootstrap.test_host_reads import CP, report
from tools.plan import build_plan

CPS = ["cp-1", "cp-2", "cp-3"]


@pytest.mark.parametrize("node,answered,expected", [
    ("worker-1", {}, "cp-1"),  # a new cluster: nothing answered yet
    ("worker-1", dict.fromkeys(CPS, True), "cp-1"),
    ("worker-1", {"cp-1": False, "cp-2": True, "cp-3": True}, "cp-2"),
    ("worker-1", {"cp-1": False, "cp-2": False, "cp-3": True}, "cp-3"),
    ("worker-1", dict.fromkeys(CPS, False), "cp-1"),
    ("cp-1", dict.fromkeys(CPS, True), "cp-2"),  # never itself
    ("cp-1", {"cp-1": True, "cp-2": False, "cp-3": True}, "cp-3"),
    ("cp-2", {"cp-1": False, "cp-2": True, "cp-3": True}, "cp-3"),
])
def test_the_first_candidate_that_answered_acts_for_the_node(node, answered, expected):
    assert lifecycle_choice.choose(node, CPS, answered) == expected


def test_the_only_control_plane_acts_for_itself():
    assert lifecycle_choice.candidates("cp-1", ["cp-1"]) == ("cp-1",)
    assert lifecycle_choice.choose("cp-1", ["cp-1"], {"cp-1": False}) == "cp-1"


def lifecycle_addresses(reads) -> dict[str, str]:
    result = build_plan("metal", check_policies=False, host_reads=reads)
    steps = {r.name for r in result.registrations if r.name.endswith(("-credentials", "-leave", "-member", "-labels"))}
    return {name: unwrapped(raw_inputs(result, name)["connection"])["host"] for name in steps}


def test_a_lost_first_control_plane_moves_every_lifecycle_step_to_the_second():
    healthy = {(address, "certificates-check"): report({"apiserver": 300}) for address in CP.values()}
    kept = lifecycle_addresses(healthy)
    assert len(kept) == 4 * 6, "credentials, member, leave, labels of three control planes and three workers"
    assert {n: a for n, a in kept.items() if a != CP["cp-1"]} == {
        f"cp-1-{step}": CP["cp-2"] for step in ("credentials", "leave", "member", "labels")}
    assert lifecycle_addresses({}) == kept, "nothing read (a new cluster): the same choice"
    lost = dict(healthy)
    lost[(CP["cp-1"], "certificates-check")] = json.dumps({"unavailable": "ssh: connect to host: No route to host"})
    moved = lifecycle_addresses(lost)
    assert {n for n, a in moved.items() if a == CP["cp-1"]} == set(), "nothing runs on the lost control plane"
    assert {n: a for n, a in moved.items() if a != CP["cp-2"]} == {
        f"cp-2-{step}": CP["cp-3"] for step in ("credentials", "leave", "member", "labels")}
