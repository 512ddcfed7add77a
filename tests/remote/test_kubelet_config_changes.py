"""A changed kubelet configuration (reservations, eviction, maxPods) reaches a node that joined long ago: its kubelet
step rewrites the patch, has kubeadm regenerate the kubelet's configuration and restarts the kubelet, which must
answer its health check; under mocks, a settings change reruns the kubelet steps and the plan diff says what they do.
"""

import dataclasses
import json

from components.bootstrap import node_config
from tests.helpers import edited, write_stack
from tests.remote.test_host_scripts import CP0
from tests.remote.test_upgrade_scripts import PATCH, PATCH_PATH, cluster_node, kubelet_step, run
from tools import plan, plan_diff

NEW_PATCH = node_config.to_yaml(node_config.kubelet_patch("prod", dataclasses.replace(CP0, capacity=dataclasses.replace(
    CP0.capacity, memory_gib=16))))
REGENERATE = "kubeadm upgrade node phase kubelet-config"


def test_a_changed_patch_regenerates_the_kubelet_configuration_and_restarts_the_kubelet_once(tmp_path):
    box = cluster_node(tmp_path, "1.35.9")
    assert NEW_PATCH != PATCH
    result = run(box, kubelet_step("1.35.9", NEW_PATCH))
    assert result.returncode == 0, result.stderr
    calls = box.calls()
    regenerate = next(c for c in calls if c.startswith(REGENERATE))
    kubernetes = box.root / "etc/kubernetes"
    assert f"--kubeconfig {kubernetes}/admin.conf --patches {kubernetes}/patches" in regenerate
    assert calls.index(regenerate) < calls.index("systemctl restart kubelet")
    assert any("10248/healthz" in c for c in calls[calls.index("systemctl restart kubelet"):])
    assert (box.root / PATCH_PATH).read_text().rstrip("\n") == NEW_PATCH.rstrip("\n")
    box.reset_calls()
    again = run(box, kubelet_step("1.35.9", NEW_PATCH))
    assert again.returncode == 0 and "configuration unchanged" in again.stderr
    # Only the serving-certificate timer's read-only check remains of systemd.
    assert not any(c.startswith((REGENERATE, "systemctl")) and not c.startswith("systemctl is-enabled")
                   for c in box.calls())


def test_an_unchanged_patch_at_the_target_changes_nothing(tmp_path):
    box = cluster_node(tmp_path, "1.35.9")
    assert run(box, kubelet_step("1.35.9")).returncode == 0
    assert not any(c.startswith((REGENERATE, "systemctl restart", "apt-get install")) for c in box.calls())
    box.reset_calls()
    assert run(box, kubelet_step("1.35.9")).returncode == 0
    assert box.mutating_calls() == [], "once its serving-certificate timer is in place, nothing at all"


def test_a_worker_regenerates_with_the_kubelet_s_credentials(tmp_path):
    box = cluster_node(tmp_path, "1.35.9")
    (box.root / "etc/kubernetes/admin.conf").unlink()
    (box.root / "etc/kubernetes/kubelet.conf").write_text("kubelet\n")
    assert run(box, kubelet_step("1.35.9", NEW_PATCH)).returncode == 0
    regenerate = next(c for c in box.calls() if c.startswith(REGENERATE))
    assert f"--kubeconfig {box.root}/etc/kubernetes/kubelet.conf" in regenerate


def test_a_regeneration_that_failed_is_made_up_by_the_next_run(tmp_path):
    box = cluster_node(tmp_path, "1.35.9")
    box.fail("kubeadm-upgrade")
    failed = run(box, kubelet_step("1.35.9", NEW_PATCH))
    assert failed.returncode != 0 and "kubeadm upgrade node phase kubelet-config failed" in failed.stderr
    assert "systemctl restart kubelet" not in box.calls()
    box.heal("kubeadm-upgrade")
    box.reset_calls()
    assert run(box, kubelet_step("1.35.9", NEW_PATCH)).returncode == 0, "the patch is written: the run remembers"
    assert any(c.startswith(REGENERATE) for c in box.calls()) and "systemctl restart kubelet" in box.calls()


def test_a_kubelet_that_does_not_come_back_healthy_stops_the_step_and_is_restarted_on_the_next_run(tmp_path):
    box = cluster_node(tmp_path, "1.35.9")
    box.fail("kubelet-health")
    failed = run(box, kubelet_step("1.35.9", NEW_PATCH))
    assert failed.returncode != 0 and "the kubelet is not healthy after its restart" in failed.stderr
    box.heal("kubelet-health")
    box.reset_calls()
    assert run(box, kubelet_step("1.35.9", NEW_PATCH)).returncode == 0
    assert "systemctl restart kubelet" in box.calls() and not any(c.startswith(REGENERATE) for c in box.calls())


def test_a_max_pods_change_reruns_the_kubelet_steps_and_the_plan_diff_says_what_they_do(tmp_path):
    base = json.loads(plan.plan_json(plan.build_plan("dev", check_policies=False)))
    changed = write_stack(tmp_path, edited("dev", maxPodsPerNode=60), "head")
    head = json.loads(plan.plan_json(plan.build_plan("dev", changed, check_policies=False)))
    d = plan_diff.diff_plans(base, head)
    kubelet_steps = [r for r in d.resources if r.resource["name"].endswith("-upgrade-kubelet")]
    nodes = [r["name"] for r in head["resources"] if r["type"] == "aws:ec2/instance:Instance"
             and r["inputs"]["tags"]["role"] != "bastion"]
    assert sorted(r.resource["name"] for r in kubelet_steps) == sorted(f"{n}-upgrade-kubelet" for n in nodes)
    assert all(r.action == "update" and "kubelet restarted" in r.consequence for r in kubelet_steps)
