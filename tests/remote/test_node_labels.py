"""Node labels and taints through the API, in the sandbox: applied, then the ones the settings dropped removed,
nothing else on the Node touched; harmless on a host that is not a member yet."""

import json
import re

import yaml

from components.bootstrap import host_steps
from components.host import Taint
from tests.remote.test_host_scripts import WORKER
from tests.remote.test_removal_scripts import first_control_plane
from tests.helpers import edited, write_stack
from tests.sandbox import Sandbox, render_for
from tools import plan, plan_diff

GPU = Taint("dedicated", "NoSchedule", "gpu")


def labels_step(box, labels, taints):
    return box.run(render_for(box, lambda: host_steps.node_labels(WORKER.name, labels, taints)))


def kubectl(box, verb):
    return [c.split(f" {verb} node {WORKER.name} ", 1)[1] for c in box.calls() if f" {verb} node {WORKER.name} " in c]


def test_labels_and_taints_are_applied_then_the_dropped_ones_removed(tmp_path):
    box = first_control_plane(tmp_path, [WORKER.name])
    result = labels_step(box, (("gpu", "true"), ("tier", "batch")), (GPU, Taint("spot", "PreferNoSchedule")))
    assert result.returncode == 0, result.stderr
    assert kubectl(box, "label") == ["--overwrite gpu=true tier=batch"]
    assert kubectl(box, "taint") == ["--overwrite dedicated=gpu:NoSchedule spot:PreferNoSchedule"]
    assert (box.state / "managed" / f"{WORKER.name}.labels").read_text() == "gpu,tier"
    assert (box.state / "managed" / f"{WORKER.name}.taints").read_text() == "dedicated:NoSchedule,spot:PreferNoSchedule"
    box.reset_calls()
    result = labels_step(box, (("tier", "batch"),), ())
    assert result.returncode == 0, result.stderr
    assert kubectl(box, "label") == ["gpu-", "--overwrite tier=batch"], "only what this step set before is removed"
    assert kubectl(box, "taint") == ["dedicated:NoSchedule-", "spot:PreferNoSchedule-"]
    assert (box.state / "managed" / f"{WORKER.name}.labels").read_text() == "tier"
    box.reset_calls()
    assert labels_step(box, (("tier", "batch"),), ()).returncode == 0
    assert kubectl(box, "label") == ["--overwrite tier=batch"] and kubectl(box, "taint") == []


def test_on_a_host_that_is_not_a_member_nothing_is_changed(tmp_path):
    box = Sandbox(tmp_path)
    result = labels_step(box, (("gpu", "true"),), (GPU,))
    assert result.returncode == 0 and "labels left as they are" in result.stderr
    assert box.calls() == []


def test_a_label_change_in_the_settings_reruns_the_pool_s_label_steps_and_the_plan_diff_says_so(tmp_path):
    base = json.loads(plan.plan_json(plan.build_plan("dev", check_policies=False)))
    pools = [{"name": "general", "count": 2, "labels": {"team": "data"}}]
    head = json.loads(plan.plan_json(plan.build_plan("dev", write_stack(tmp_path, edited("dev", workerPools=pools)),
                                                     check_policies=False)))
    steps = {r.resource["name"]: r for r in plan_diff.diff_plans(base, head).resources
             if r.resource["name"].endswith("-labels")}
    assert sorted(steps) == ["k8s-dev-general-0-labels", "k8s-dev-general-1-labels"]
    assert all("labels and taints applied through the API" in r.consequence for r in steps.values())
    stdin = next(r for r in head["resources"] if r["name"] == "k8s-dev-general-0-labels")["inputs"]["stdin"]
    assert "team=data" in applied_labels(stdin).split()


def applied_labels(stdin: str) -> str:
    """The labels a node-labels.sh step applies (its LABELS input: one key=value per line)."""
    found = re.search(r"^readonly LABELS=('[^']*'|\S*)$", stdin, re.M)
    assert found, stdin[:500]
    return found[1].strip("'")


def test_nodes_get_topology_labels_and_node_role_labels_go_through_the_api_only(tmp_path):
    pools = [{"name": "general", "count": 2, "labels": {"node-role.kubernetes.io/worker": "", "team": "data"}}]
    result = plan.build_plan("dev", write_stack(tmp_path, edited("dev", workerPools=pools)), check_policies=False)
    by_name = {r["name"]: r for r in json.loads(plan.plan_json(result))["resources"]}
    labels = by_name["k8s-dev-general-0-labels"]["inputs"]["stdin"]
    applied = applied_labels(labels).split()
    assert "node-role.kubernetes.io/worker=" in applied and "team=data" in applied
    assert "topology.kubernetes.io/region=eu-west-1" in applied
    assert any(label.startswith("topology.kubernetes.io/zone=eu-west-1") for label in applied)
    join = yaml.safe_load_all(result.artifacts["hosts/k8s-dev-general-0/kubeadm-join.yaml"])
    registration = next(d for d in join if d["kind"] == "JoinConfiguration")["nodeRegistration"]
    kubelet_labels = next(a["value"] for a in registration["kubeletExtraArgs"] if a["name"] == "node-labels")
    assert "node-role.kubernetes.io" not in kubelet_labels, "the kubelet refuses them: it would not start"
    assert "topology.kubernetes.io/zone=eu-west-1" in kubelet_labels and "team=data" in kubelet_labels
