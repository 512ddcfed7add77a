"""A pool's new instance type or pinned image rolls its machines a batch per update (one control plane at a time),
planned from the machines AWS runs: pure rules first, then the program under mocks with running machines."""

import json

import pytest

from components.aws.machine_roll import MachineSpec, RunningMachine, plan_roll
from tests.helpers import edited, write_stack
from tests.plan_fixtures import INSTANCE
from tools import plan, plan_diff

OLD = MachineSpec("c7i.xlarge", "ami-old")


def running(*specs, rolling=()):
    return [RunningMachine(s, 2 if i in rolling else 1) if s else None for i, s in enumerate(specs)]


def test_a_new_pool_is_declared_as_asked_and_replaces_nothing():
    roll = plan_roll([None, None, None], "m7i.xlarge", "", "ami-newest", 1)
    assert roll.specs == (MachineSpec("m7i.xlarge", "ami-newest"),) * 3 and roll.replaced == roll.waiting == ()


def test_a_new_instance_type_replaces_one_machine_per_update_in_index_order():
    roll = plan_roll(running(OLD, OLD, OLD), "m7i.xlarge", "", "ami-newest", 1)
    assert roll.specs == (MachineSpec("m7i.xlarge", "ami-old"), OLD, OLD), "the others keep what they run"
    assert roll.replaced == (0,) and roll.waiting == (1, 2)
    done = MachineSpec("m7i.xlarge", "ami-old")
    nxt = plan_roll(running(done, OLD, OLD), "m7i.xlarge", "", "ami-newest", 1)
    assert nxt.replaced == (1,) and nxt.waiting == (2,)
    last = plan_roll(running(done, done, done), "m7i.xlarge", "", "ami-newest", 1)
    assert last.replaced == last.waiting == () and last.specs == (done,) * 3


def test_workers_roll_a_batch_at_a_time():
    roll = plan_roll(running(*[OLD] * 5), "m7i.xlarge", "", "ami-newest", 2)
    assert roll.replaced == (0, 1) and roll.waiting == (2, 3, 4)


def test_a_replacement_that_did_not_finish_goes_on_and_holds_the_batch():
    roll = plan_roll(running(OLD, MachineSpec("m7i.xlarge", "ami-old"), OLD, rolling=(1,)), "m7i.xlarge", "",
                     "ami-newest", 1)
    assert roll.replaced == (1,) and roll.waiting == (0, 2)
    assert roll.specs[1] == MachineSpec("m7i.xlarge", "ami-old")


def test_canonical_s_newest_image_alone_replaces_nothing_and_a_pinned_image_rolls():
    kept = plan_roll(running(OLD, OLD, None), "c7i.xlarge", "", "ami-newest", 1)
    assert kept.specs == (OLD, OLD, MachineSpec("c7i.xlarge", "ami-newest")) and kept.replaced == ()
    pinned = plan_roll(running(OLD, OLD), "c7i.xlarge", "ami-pinned", "ami-newest", 1)
    assert pinned.specs == (MachineSpec("c7i.xlarge", "ami-pinned"), OLD) and pinned.waiting == (1,)


def test_a_batch_of_zero_replaces_nothing_and_a_negative_one_is_refused():
    alone = plan_roll(running(OLD), "m7i.xlarge", "", "ami-newest", 0)  # the only control plane
    assert alone.specs == (OLD,) and alone.replaced == () and alone.waiting == (0,)
    with pytest.raises(ValueError):
        plan_roll(running(OLD), "c7i.xlarge", "", "ami-newest", -1)


def test_the_only_control_plane_is_never_replaced(tmp_path):
    base = json.loads(plan.plan_json(plan.build_plan("dev", check_policies=False)))
    changed = write_stack(tmp_path, edited("dev", controlPlane={"count": 1, "instanceType": "m7i.xlarge"}), "head")
    head = json.loads(plan.plan_json(plan.build_plan("dev", changed, check_policies=False,
                                                     running=plan.running_machines(base))))
    assert head["outputs"]["machineRoll"] == {"replaced": [], "waiting": ["k8s-dev-cp-0"]}
    cp = next(r for r in of_type_json(head) if r["name"] == "k8s-dev-cp-0")
    assert cp["inputs"]["instanceType"] != "m7i.xlarge"


def deployed(tmp_path, document) -> dict:
    return json.loads(plan.plan_json(plan.build_plan("prod", write_stack(tmp_path, document, "base"),
                                                     check_policies=False)))


def test_a_control_plane_instance_type_change_on_prod_replaces_one_control_plane_per_update(tmp_path):
    base = deployed(tmp_path, edited("prod"))
    changed = write_stack(tmp_path, edited("prod", controlPlane={"count": 3, "instanceType": "m7i.xlarge"}), "head")
    head = json.loads(plan.plan_json(plan.build_plan("prod", changed, check_policies=False,
                                                     running=plan.running_machines(base))))
    types = {r["name"]: r["inputs"]["instanceType"] for r in of_type_json(head)}
    assert types["k8s-prod-cp-0"] == "m7i.xlarge"
    assert types["k8s-prod-cp-1"] == types["k8s-prod-cp-2"] == "c7i.xlarge", "one control plane per update"
    assert head["outputs"]["machineRoll"] == {"replaced": ["k8s-prod-cp-0"],
                                              "waiting": ["k8s-prod-cp-1", "k8s-prod-cp-2"]}
    d = plan_diff.diff_plans(base, head)
    assert sorted(r.resource["name"] for r in d.resources if r.action == "replace") == ["k8s-prod-cp-0"]
    changed = sorted(r.resource["name"] for r in d.resources)
    # The waiting control planes keep their capacity: their preflight and kubelet reservations do not change.
    assert changed and all(name.startswith("k8s-prod-cp-0") for name in changed), changed
    amis = {r["name"]: r["inputs"]["ami"] for r in of_type_json(head)}
    assert amis == {r["name"]: r["inputs"]["ami"] for r in of_type_json(base)}, "every machine keeps its image"


def test_a_second_update_takes_the_next_control_plane_and_a_worker_pool_rolls_its_batch(tmp_path):
    base = deployed(tmp_path, edited("prod"))
    running = plan.running_machines(base)
    running["k8s-prod-cp-0"] = ("m7i.xlarge", running["k8s-prod-cp-0"][1])  # the first update's work
    pools = [{"name": "general", "count": 3, "instanceType": "m7i.4xlarge"}]
    changed = write_stack(tmp_path, edited("prod", controlPlane={"count": 3, "instanceType": "m7i.xlarge"},
                                           workerPools=pools), "head")
    head = json.loads(plan.plan_json(plan.build_plan("prod", changed, check_policies=False, running=running)))
    assert head["outputs"]["machineRoll"] == {"replaced": ["k8s-prod-cp-1", "k8s-prod-general-0"],
                                              "waiting": ["k8s-prod-cp-2", "k8s-prod-general-1",
                                                          "k8s-prod-general-2"]}


def of_type_json(document: dict) -> list[dict]:
    return [r for r in document["resources"] if r["type"] == INSTANCE and r["inputs"]["tags"]["role"] != "bastion"]


def test_a_new_stack_reads_no_running_machine_and_declares_every_machine_as_asked(tmp_path):
    changed = write_stack(tmp_path, edited("prod", controlPlane={"count": 3, "instanceType": "m7i.xlarge"}), "new")
    result = json.loads(plan.plan_json(plan.build_plan("prod", changed, check_policies=False)))
    assert result["outputs"]["machineRoll"] == {"replaced": [], "waiting": []}
    assert {r["inputs"]["instanceType"] for r in of_type_json(result) if "-cp-" in r["name"]} == {"m7i.xlarge"}


def test_the_first_control_plane_keeps_the_same_steps_whatever_the_count_so_scaling_down_deletes_none(tmp_path):
    def first_steps(count):
        document = edited("dev", controlPlane={"count": count})
        result = plan.build_plan("dev", write_stack(tmp_path, document, f"cp{count}"), check_policies=False)
        return {r["name"] for r in result.document["resources"] if r["name"].startswith("k8s-dev-cp-0-")}

    one, three = first_steps(1), first_steps(3)
    assert one == three, one ^ three  # 3 -> 1 would delete a removal step: it would take the first out
    assert {f"k8s-dev-cp-0-{s}" for s in ("credentials", "join", "labels", "leave", "member", "reset")} <= one
