"""Kubernetes version changes the plan diff refuses, as the upgrade does: a skipped minor and any downgrade."""

import json

import pytest

from components.versions import version_change_refusal
from tools import plan_diff, plan_diff_render, version_change


@pytest.mark.parametrize("current,target", [("1.35.4", "1.35.4"), ("1.35.4", "1.35.9"), ("1.35.9", "1.36.0"),
                                            ("1.36.5", "1.37.1")])
def test_a_patch_or_the_next_minor_is_allowed(current, target):
    assert version_change_refusal(current, target) is None


def test_a_skipped_minor_is_refused_naming_the_setting_and_what_is_allowed():
    reason = version_change_refusal("1.35.4", "1.37.1")
    assert reason.startswith("kubernetesVersion 1.37.1 skips 1.36: upgrade one minor at a time")
    assert "a later 1.35 patch or 1.36.x" in reason
    assert "skips 1.35, 1.36" in version_change_refusal("1.34.2", "1.37.0")


@pytest.mark.parametrize("target", ["1.34.9", "1.35.3"])
def test_a_downgrade_of_a_minor_or_a_patch_is_refused(target):
    reason = version_change_refusal("1.35.4", target)
    assert reason.startswith(f"kubernetesVersion {target} is older than the cluster's 1.35.4")
    assert "etcd snapshot" in reason


def plan(version):
    return {"stack": "prod", "resources": [], "outputs": {"kubernetesVersion": version}}


def test_the_plan_diff_exits_4_and_says_why_in_the_comment(tmp_path):
    base, head, comment = tmp_path / "base.json", tmp_path / "head.json", tmp_path / "comment.md"
    base.write_text(json.dumps(plan("1.35.4")))
    head.write_text(json.dumps(plan("1.37.1")))
    assert plan_diff.main([str(base), str(head), "--markdown", str(comment)]) == 4
    text = comment.read_text()
    assert ":x: **Version change refused**: kubernetesVersion 1.37.1 skips 1.36" in text
    assert "No changes" not in text


def test_a_new_stack_or_a_next_minor_passes(tmp_path):
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps({"resources": []}))
    head.write_text(json.dumps(plan("1.37.1")))
    assert plan_diff.main([str(base), str(head)]) == 0
    base.write_text(json.dumps(plan("1.36.5")))
    assert plan_diff.main([str(base), str(head)]) == 0


def test_an_upgrade_shows_as_its_ordered_steps_with_the_batch_plan(tmp_path):
    from tests.helpers import edited, write_stack
    from tools import plan as planner
    base = json.loads(planner.plan_json(planner.build_plan("prod")))
    document = edited("prod", kubernetesVersion="1.37.2", upgrade={"maxUnavailableWorkers": 2})
    head = json.loads(planner.plan_json(planner.build_plan("prod", write_stack(tmp_path, document, "prod"))))
    d = plan_diff.diff_plans(base, head)
    assert d.version_refused is None
    steps = [r for r in d.resources if "-upgrade-" in r.resource["name"]
             and r.resource["type"] == "command:remote:Command"]
    assert steps and {r.action for r in steps} == {"update"}, "a version change re-runs the steps, replaces nothing"
    text = plan_diff_render.render_markdown(d)
    assert "**Upgrade 1.36.5 → 1.37.2** (the next minor), in this order:" in text
    assert "`k8s-prod-cp-0`, `k8s-prod-cp-1`, `k8s-prod-cp-2`" in text
    assert ("workers in 2 batch(es) of at most 2, in parallel within a batch: batch 1: `k8s-prod-general-0`, "
            "`k8s-prod-general-1`; batch 2: `k8s-prod-general-2`") in text
    assert text.index("**Upgrade") < text.index("Resources ("), "the order first, then what changes"
    assert "**Needs attention**" not in text, "an ordinary minor upgrade is no danger (the init only compares)"


def test_a_control_plane_added_with_a_version_change_is_refused_and_alone_it_passes(tmp_path):
    def with_nodes(version, *names):
        document = plan(version)
        document["outputs"]["nodes"] = [{"name": n, "role": "control-plane"} for n in names] + [
            {"name": "worker-1", "role": "worker"}]
        return document
    base = with_nodes("1.36.5", "cp-1", "cp-2", "cp-3")
    reason = version_change.refusal(base, with_nodes("1.37.2", "cp-1", "cp-2", "cp-3", "cp-4", "cp-5"))
    assert reason == ("kubernetesVersion 1.36.5 -> 1.37.2 and a new control plane (cp-4, cp-5) in one update: add "
                      "the control plane before or after the upgrade (controlPlane.count on AWS, inventory.hosts on "
                      "bare metal)")
    assert version_change.refusal(base, with_nodes("1.36.5", "cp-1", "cp-2", "cp-3", "cp-4")) is None
    assert version_change.refusal(base, with_nodes("1.37.2", "cp-1", "cp-2", "cp-3")) is None
    assert version_change.refusal(base, with_nodes("1.37.2", "cp-1", "cp-2")) is None  # a removal is not a join
