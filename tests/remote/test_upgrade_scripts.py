"""The upgrade steps in the sandbox (stub kubeadm, kubectl, apt-get, systemctl, ctr that record their calls): the
order on a node, a second run that does nothing, a failure halfway that resumes, a blocked drain that stops cleanly,
and the guard that refuses what the versions rule refuses."""

from __future__ import annotations

import dataclasses

import pytest

from components import versions
from components.bootstrap import host_steps, node_config, upgrade_steps
from components.versions import version_change_refusal
from tests.remote.test_host_scripts import CLUSTER, CP0
from tests.sandbox import Sandbox, installed, render_for

PINNED_CONTAINERD = f"{versions.CONTAINERD_VERSION}-2~ubuntu.24.04~noble"  # the newest revision the sandbox offers

NODE = "k8s-prod-cp-0"
READ_ONLY = ("kubectl --kubeconfig", )
PATCH = node_config.to_yaml(node_config.kubelet_patch("prod", CP0))
PATCH_PATH = f"etc/kubernetes/patches/{node_config.KUBELET_PATCH_FILE}"


def kubelet_step(version: str, patch: str = PATCH) -> str:
    return upgrade_steps.kubelet(version, patch)


def cluster_node(tmp_path, version="1.34.2", name="box") -> Sandbox:
    """A first control plane (its own node in the cluster) running `version` everywhere."""
    box = Sandbox(tmp_path / name)
    manifests = box.root / "etc/kubernetes/manifests"
    manifests.mkdir(parents=True)
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        (manifests / f"{component}.yaml").write_text(f"    image: registry.k8s.io/{component}:v{version}\n")
    (manifests / "etcd.yaml").write_text("    image: registry.k8s.io/etcd:3.6.5-0\n")
    (box.state / "cluster-version").write_text(f"v{version}\n")
    (box.root / "etc/kubernetes/admin.conf").write_text("admin\n")
    for package in ("kubeadm", "kubelet", "kubectl"):
        (box.state / "pkgs" / package).write_text(f"{version}-1.1\n")
    (box.state / "pkgs" / "cri-tools").write_text(host_steps.cri_tools_package_version(version) + "\n")
    (box.state / "nodes" / NODE).write_text("")
    (box.root / PATCH_PATH).parent.mkdir(parents=True)
    (box.root / PATCH_PATH).write_text(PATCH)  # as its join wrote it
    # Joined on Ubuntu's containerd 1.7 (held), with its version 2 config.
    (box.state / "pkgs" / "containerd").write_text("1.7.28-0ubuntu1~24.04.1\n")
    (box.state / "held" / "containerd").touch()
    (box.root / "etc/containerd").mkdir(parents=True)
    (box.root / "etc/containerd/config.toml").write_text("version = 2\n")
    return box


def containerd_step(version: str) -> str:
    return upgrade_steps.containerd(dataclasses.replace(CLUSTER, kubernetes_version=version))


def run(box: Sandbox, script: str):
    return box.run(render_for(box, lambda: script))


def changes(box: Sandbox) -> list[str]:
    """Calls that change something (kubectl reads aside)."""
    return [c for c in box.mutating_calls()
            if not (c.startswith("kubectl") and (" get " in c or " version" in c))]


def upgrade_first_control_plane(box: Sandbox, version: str) -> list:
    steps = [upgrade_steps.guard(version), upgrade_steps.etcd_snapshot(version),
             upgrade_steps.kubeadm(version, upgrade_steps.FIRST_CONTROL_PLANE), upgrade_steps.drain(version, NODE),
             containerd_step(version), kubelet_step(version), upgrade_steps.uncordon(version, NODE)]
    return [run(box, step) for step in steps]


def test_the_first_control_plane_upgrades_in_order_and_a_second_run_does_nothing(tmp_path):
    box = cluster_node(tmp_path, "1.35.8")
    results = upgrade_first_control_plane(box, "1.36.5")
    assert [r.returncode for r in results] == [0] * 7, [r.stderr for r in results]
    calls = box.calls()
    order = [next(i for i, c in enumerate(calls) if c.startswith(prefix) and infix in c) for prefix, infix in (
        ("ctr --namespace k8s.io run", "snapshot save"),
        ("apt-get install -y -q --allow-change-held-packages", "kubeadm=1.36.5-1.1"),
        ("kubeadm upgrade plan v1.36.5", ""), ("kubeadm upgrade apply v1.36.5 --yes --patches", "/patches"),
        ("kubectl --kubeconfig", f" drain {NODE} "),
        ("apt-get install -y -q --allow-change-held-packages", f"containerd.io={PINNED_CONTAINERD}"),
        ("systemctl restart containerd", ""),
        ("apt-get install -y -q --allow-change-held-packages", "kubelet=1.36.5-1.1"),
        ("systemctl restart kubelet", ""), ("kubectl --kubeconfig", f" uncordon {NODE}"))]
    assert order == sorted(order), calls
    assert "v1.36.5" in (box.root / "etc/kubernetes/manifests/kube-apiserver.yaml").read_text()
    assert {p: installed(box, p) for p in ("kubeadm", "kubelet", "kubectl")} == dict.fromkeys(
        ("kubeadm", "kubelet", "kubectl"), "1.36.5-1.1")
    assert installed(box, "containerd.io") == PINNED_CONTAINERD and installed(box, "containerd") is None
    assert "pause:3.10.2" in (box.root / "etc/containerd/config.toml").read_text()
    snapshot = box.root / upgrade_steps.SNAPSHOT_DIR.lstrip("/") / "pre-upgrade-v1.35.8-to-v1.36.5.db"
    assert snapshot.read_text() == "snapshot\n"
    assert "kubernetes.list" in str(list((box.root / "etc/apt/sources.list.d").iterdir()))
    assert "v1.36/deb" in (box.root / "etc/apt/sources.list.d/kubernetes.list").read_text()
    assert not (box.state / "cordoned" / NODE).exists()
    box.reset_calls()
    again = upgrade_first_control_plane(box, "1.36.5")
    assert [r.returncode for r in again] == [0] * 7
    assert changes(box) == [c for c in changes(box) if c.startswith("kubectl") and "uncordon" in c]
    assert not [c for c in box.calls()
                if c.startswith(("kubeadm upgrade", "apt-get install", "ctr", "systemctl restart"))]


def test_containerd_1_7_stays_through_a_1_35_upgrade_and_moves_to_2_in_the_upgrade_to_1_36(tmp_path):
    box = cluster_node(tmp_path, "1.35.5")
    stays = run(box, containerd_step("1.35.8"))
    assert stays.returncode == 0 and "containerd 1.7.28 stays for v1.35.8" in stays.stderr
    assert changes(box) == [] and installed(box, "containerd") == "1.7.28-0ubuntu1~24.04.1"
    moved = run(box, containerd_step("1.36.5"))
    assert moved.returncode == 0, moved.stderr
    assert f"containerd moved from 1.7.28 to {versions.CONTAINERD_VERSION}" in moved.stderr
    assert installed(box, "containerd.io") == PINNED_CONTAINERD and installed(box, "containerd") is None
    assert (box.state / "held" / "containerd.io").exists() and not (box.state / "held" / "containerd").exists()
    install = next(c for c in box.calls() if c.startswith("apt-get install"))
    assert "-o Dpkg::Options::=--force-confold" in install, "the package's config (CRI disabled) must not win"
    config = (box.root / "etc/containerd/config.toml").read_text()
    assert config.startswith("version = 3") and "SystemdCgroup = true" in config
    assert box.calls().index("systemctl restart containerd") > box.calls().index(install)
    box.reset_calls()
    assert run(box, containerd_step("1.36.5")).returncode == 0
    assert changes(box) == []


def test_a_node_whose_containerd_will_change_is_drained_even_when_its_kubelet_is_at_the_target(tmp_path):
    def drains(box, target) -> bool:
        box.reset_calls()
        assert run(box, upgrade_steps.drain(target, NODE)).returncode == 0
        return any(f" drain {NODE} " in c for c in box.calls())
    moving = cluster_node(tmp_path, "1.36.5", "moving")  # kubelet at the target, containerd still 1.7
    assert drains(moving, "1.36.5"), "containerd moves to 2 next: the node is drained"
    staying = cluster_node(tmp_path, "1.35.9", "staying")
    assert not drains(staying, "1.35.9"), "containerd 1.7 stays before 1.36: nothing changes"
    pinned = cluster_node(tmp_path, "1.36.5", "pinned")
    (pinned.state / "pkgs/containerd").unlink()
    (pinned.state / "pkgs/containerd.io").write_text(PINNED_CONTAINERD + "\n")
    assert not drains(pinned, "1.36.5"), "kubelet and containerd at their targets: nothing to drain for"
    (pinned.state / "pkgs/containerd.io").write_text("2.2.1-1~ubuntu.24.04~noble\n")
    assert drains(pinned, "1.36.5"), "an older containerd 2 follows the pin, drained"


def test_a_node_on_an_older_containerd_2_follows_the_pin_and_a_failed_install_resumes(tmp_path):
    box = cluster_node(tmp_path, "1.36.1")
    (box.state / "pkgs/containerd").unlink()
    (box.state / "pkgs/containerd.io").write_text("2.2.1-1~ubuntu.24.04~noble\n")
    box.fail("apt-get-install")
    failed = run(box, containerd_step("1.36.5"))
    assert failed.returncode != 0 and f"could not install containerd.io={PINNED_CONTAINERD}" in failed.stderr
    assert (box.root / "etc/containerd/config.toml").read_text() == "version = 2\n", "nothing half-done"
    box.heal("apt-get-install")
    resumed = run(box, containerd_step("1.36.5"))
    assert resumed.returncode == 0, resumed.stderr
    assert installed(box, "containerd.io") == PINNED_CONTAINERD


def test_a_failure_halfway_stops_the_step_and_the_next_run_resumes(tmp_path):
    box = cluster_node(tmp_path)
    box.fail("kubeadm-upgrade")
    failed = run(box, upgrade_steps.kubeadm("1.35.9", upgrade_steps.FIRST_CONTROL_PLANE))
    assert failed.returncode != 0 and "kubeadm upgrade plan failed" in failed.stderr
    assert installed(box, "kubeadm") == "1.35.9-1.1" and installed(box, "kubelet") == "1.34.2-1.1"
    assert "abcdef.secret" not in failed.stderr  # kubeadm's output is redacted
    box.heal("kubeadm-upgrade")
    box.reset_calls()
    resumed = run(box, upgrade_steps.kubeadm("1.35.9", upgrade_steps.FIRST_CONTROL_PLANE))
    assert resumed.returncode == 0, resumed.stderr
    assert [c for c in box.calls() if c.startswith("kubeadm upgrade apply v1.35.9 --yes --patches")]
    assert not [c for c in box.calls() if c.startswith("apt-get install")], "kubeadm is at the target already"


def test_an_upgrade_apply_cut_short_after_the_api_server_is_run_again(tmp_path):
    box = cluster_node(tmp_path)
    manifests = box.root / "etc/kubernetes/manifests"
    (manifests / "kube-apiserver.yaml").write_text("    image: registry.k8s.io/kube-apiserver:v1.35.9\n")
    result = run(box, upgrade_steps.kubeadm("1.35.9", upgrade_steps.FIRST_CONTROL_PLANE))
    assert result.returncode == 0, result.stderr
    assert [c for c in box.calls() if c.startswith("kubeadm upgrade apply v1.35.9")]
    assert "v1.35.9" in (manifests / "kube-scheduler.yaml").read_text()


def test_an_upgrade_apply_cut_short_after_it_wrote_the_clusters_version_is_run_again_to_its_last_phase(tmp_path):
    # Before: the cluster's version (upload-config) and the static pods at the target were taken for a finished
    # apply, and its kubelet-config, bootstrap-token and addon phases never ran.
    box = cluster_node(tmp_path, "1.35.9")
    (box.state / "kube-proxy-version").write_text("v1.34.2\n")  # the addon phase never ran
    result = run(box, upgrade_steps.kubeadm("1.35.9", upgrade_steps.FIRST_CONTROL_PLANE))
    assert result.returncode == 0, result.stderr
    assert [c for c in box.calls() if c.startswith("kubeadm upgrade apply v1.35.9")]
    box.reset_calls()
    again = run(box, upgrade_steps.kubeadm("1.35.9", upgrade_steps.FIRST_CONTROL_PLANE))
    assert "already run v1.35.9" in again.stderr and not [c for c in box.calls() if "upgrade apply" in c]


def test_an_upgrade_waits_for_a_certificate_renewal_and_puts_back_a_manifest_one_cut_short_left_out(tmp_path):
    import subprocess
    import time
    box = cluster_node(tmp_path)
    ours = box.root / "etc/kubernetes/k8s-platform"
    held = ours / "held-manifests"
    held.mkdir(parents=True)
    (box.root / "etc/kubernetes/manifests/kube-scheduler.yaml").rename(held / "kube-scheduler.yaml")
    renewing = subprocess.Popen(["flock", str(ours / "static-pods.lock"), "sleep", "3"])
    try:
        time.sleep(0.5)  # the renewal holds the lock
        started = time.monotonic()
        result = run(box, upgrade_steps.kubeadm("1.35.9", upgrade_steps.FIRST_CONTROL_PLANE))
        waited = time.monotonic() - started
    finally:
        renewing.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert waited >= 2, "the upgrade waited for the renewal to let go of the static pods"
    assert not list(held.iterdir()) and "putting back kube-scheduler.yaml" in result.stderr
    assert "v1.35.9" in (box.root / "etc/kubernetes/manifests/kube-scheduler.yaml").read_text()


def test_a_failed_package_install_fails_the_step_and_a_restart_cut_short_is_made_up(tmp_path):
    box = cluster_node(tmp_path)
    box.fail("apt-get-install")
    failed = run(box, kubelet_step("1.35.9"))
    assert failed.returncode != 0 and "could not install kubelet=1.35.9-1.1 kubectl=1.35.9-1.1" in failed.stderr
    assert "systemctl restart kubelet" not in box.calls()
    box.heal("apt-get-install")
    # The packages went in but the step stopped before the restart: the next run restarts.
    (box.state / "pkgs/kubelet").write_text("1.35.9-1.1\n")
    (box.state / "pkgs/kubectl").write_text("1.35.9-1.1\n")
    box.reset_calls()
    assert run(box, kubelet_step("1.35.9")).returncode == 0
    assert "systemctl restart kubelet" in box.calls()
    box.reset_calls()
    assert run(box, kubelet_step("1.35.9")).returncode == 0
    assert "systemctl restart kubelet" not in box.calls()


def test_a_blocked_drain_stops_naming_the_node_and_its_pods_and_leaves_it_cordoned(tmp_path):
    box = cluster_node(tmp_path)
    box.fail("drain")
    result = run(box, upgrade_steps.drain("1.35.9", NODE))
    assert result.returncode != 0
    assert f"node {NODE} could not be drained within 10m" in result.stderr and "demo/web-0" in result.stderr
    assert (box.state / "cordoned" / NODE).exists()
    assert installed(box, "kubelet") == "1.34.2-1.1"


def test_a_worker_runs_kubeadm_upgrade_node_and_is_left_alone_once_at_the_target(tmp_path):
    box = cluster_node(tmp_path)
    for manifest in (box.root / "etc/kubernetes/manifests").iterdir():
        manifest.unlink()
    script = upgrade_steps.kubeadm("1.35.9", upgrade_steps.WORKER)
    assert run(box, script).returncode == 0
    assert [c for c in box.calls() if c.startswith("kubeadm upgrade node --patches ")]
    assert run(box, kubelet_step("1.35.9")).returncode == 0
    box.reset_calls()
    assert run(box, script).returncode == 0
    assert not [c for c in box.calls() if c.startswith("kubeadm upgrade node")]


def test_a_node_not_ready_after_its_kubelet_upgrade_stays_cordoned(tmp_path):
    box = cluster_node(tmp_path, "1.35.9")
    (box.state / "notready").mkdir()
    (box.state / "notready" / NODE).touch()
    (box.state / "cordoned").mkdir()
    (box.state / "cordoned" / NODE).touch()
    (box.state / "annotated").mkdir()
    (box.state / "annotated" / NODE).write_text("k8s-platform/upgrade-drained=v1.35.9\n")
    script = upgrade_steps.uncordon("1.35.9", NODE).replace("readonly ATTEMPTS=60", "readonly ATTEMPTS=2")
    result = run(box, script)
    assert result.returncode != 0 and "is not Ready at v1.35.9 after 2 attempts" in result.stderr
    assert (box.state / "cordoned" / NODE).exists()


def test_a_node_an_operator_cordoned_stays_cordoned(tmp_path):
    box = cluster_node(tmp_path, "1.35.9")
    (box.state / "cordoned").mkdir()
    (box.state / "cordoned" / NODE).touch()  # cordoned by hand, not by the upgrade's drain
    result = run(box, upgrade_steps.uncordon("1.35.9", NODE))
    assert result.returncode == 0 and "the upgrade did not cordon it" in result.stderr
    assert (box.state / "cordoned" / NODE).exists()


def test_a_node_an_operator_cordoned_before_the_upgrade_is_drained_upgraded_and_stays_cordoned(tmp_path):
    # Before: the drain marked every node as cordoned by the upgrade, and the uncordon then made this one schedulable.
    box = cluster_node(tmp_path)
    (box.state / "cordoned").mkdir()
    (box.state / "cordoned" / NODE).touch()  # kubectl cordon by an operator
    drained = run(box, upgrade_steps.drain("1.35.9", NODE))
    assert drained.returncode == 0 and "cordoned before the upgrade" in drained.stderr, drained.stderr
    assert [c for c in box.calls() if " drain " in f" {c} "], "an operator's cordon does not spare the drain"
    assert run(box, kubelet_step("1.35.9")).returncode == 0
    uncordoned = run(box, upgrade_steps.uncordon("1.35.9", NODE))
    assert uncordoned.returncode == 0 and (box.state / "cordoned" / NODE).exists(), uncordoned.stderr


def test_a_node_the_upgrade_cordoned_is_schedulable_again_after_its_upgrade(tmp_path):
    box = cluster_node(tmp_path)
    assert run(box, upgrade_steps.drain("1.35.9", NODE)).returncode == 0
    assert (box.state / "cordoned" / NODE).exists() and (box.state / "annotated" / NODE).exists()
    assert run(box, kubelet_step("1.35.9")).returncode == 0
    assert run(box, upgrade_steps.uncordon("1.35.9", NODE)).returncode == 0
    assert not (box.state / "cordoned" / NODE).exists() and not (box.state / "annotated" / NODE).exists()


CASES = [("1.34.2", "1.34.2"), ("1.34.2", "1.34.9"), ("1.34.2", "1.35.0"), ("1.34.2", "1.36.1"),
         ("1.34.2", "1.34.1"), ("1.35.4", "1.34.9"), ("1.34.9", "1.35.10")]


@pytest.mark.parametrize("current,target", CASES)
def test_the_guard_on_the_host_refuses_what_the_plan_refuses(current, target, tmp_path):
    box = cluster_node(tmp_path, current)
    result = run(box, upgrade_steps.guard(target))
    refusal = version_change_refusal(current, target)
    assert (result.returncode == 0) == (refusal is None), result.stderr
    if refusal:
        assert f"kubernetesVersion {target}" in result.stderr
    assert changes(box) == []


def test_the_guard_refuses_a_target_a_lagging_node_cannot_reach(tmp_path):
    box = cluster_node(tmp_path, "1.35.4")
    lagging = Sandbox(tmp_path / "worker")
    (lagging.state / "pkgs" / "kubelet").write_text("1.34.2-1.1\n")
    (box.state / "nodes" / "k8s-prod-general-0").write_text(str(lagging.state))
    result = run(box, upgrade_steps.guard("1.36.1"))
    assert result.returncode != 0
    assert "k8s-prod-general-0 (v1.34.2)" in result.stderr and "finish the upgrade to 1.35.4 first" in result.stderr
    assert run(box, upgrade_steps.guard("1.35.4")).returncode == 0  # finishing the current version is allowed


def test_before_the_cluster_exists_the_guard_passes(tmp_path):
    box = Sandbox(tmp_path)
    assert run(box, upgrade_steps.guard("1.35.9")).returncode == 0


def test_the_install_step_leaves_a_joined_nodes_version_to_the_upgrade_steps(tmp_path):
    from components.bootstrap import host_steps
    from tests.remote.test_host_scripts import CLUSTER
    box = cluster_node(tmp_path)
    (box.root / "etc/kubernetes/kubelet.conf").write_text("kubelet\n")
    result = run(box, host_steps.install(CLUSTER))  # CLUSTER is at 1.35.4, the node at 1.34.2
    assert result.returncode == 0, result.stderr
    assert "its version changes only through the upgrade steps" in result.stderr
    assert installed(box, "kubelet") == "1.34.2-1.1"
    assert not [c for c in box.calls() if "kubelet=" in c or "kubeadm=" in c]
