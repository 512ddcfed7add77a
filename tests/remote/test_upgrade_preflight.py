"""kubeadm's upgrade runs a preflight of its own: the checks the stack lets pass at init and join (hostSystem:
SystemVerification on a cgroup v1 host, the named ones) pass there too. Found on real machines: on a cgroup v1 host
every `kubeadm upgrade apply` stopped at its SystemVerification check."""

from __future__ import annotations

import pytest

from components.bootstrap import upgrade_steps
from tests.remote.test_upgrade_scripts import cluster_node, run


@pytest.mark.parametrize("role, command", [(upgrade_steps.FIRST_CONTROL_PLANE, "kubeadm upgrade apply"),
                                           (upgrade_steps.CONTROL_PLANE, "kubeadm upgrade node"),
                                           (upgrade_steps.WORKER, "kubeadm upgrade node")])
def test_the_upgrade_lets_pass_the_preflight_checks_init_and_join_let_pass(tmp_path, role, command):
    box = cluster_node(tmp_path)
    result = run(box, upgrade_steps.kubeadm("1.35.9", role, None, ("NumCPU", "SystemVerification")))
    assert result.returncode == 0, result.stderr
    upgrades = [c for c in box.calls() if c.startswith(("kubeadm upgrade plan", "kubeadm upgrade apply",
                                                       "kubeadm upgrade node"))]
    assert any(c.startswith(command) for c in upgrades), upgrades
    assert all(c.endswith("--ignore-preflight-errors NumCPU,SystemVerification") for c in upgrades), upgrades


def test_without_checks_to_let_pass_the_upgrade_passes_no_flag(tmp_path):
    box = cluster_node(tmp_path)
    assert run(box, upgrade_steps.kubeadm("1.35.9", upgrade_steps.FIRST_CONTROL_PLANE)).returncode == 0
    assert not [c for c in box.calls() if "ignore-preflight-errors" in c]
