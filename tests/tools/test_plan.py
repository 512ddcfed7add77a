"""The offline plan command: output, exit codes, determinism, and what adding a worker changes."""

import json
import os
import subprocess
import sys

from tests.helpers import ROOT, edited, write_stack
from tools.plan import PlanError, build_plan, plan_json, render_tree, run_program
from tools.plan_mocks import PlanMocks, RecordingMonitor
from tools.stack_file import read_stack_file


def run_cli(*args, cwd=ROOT, hash_seed="0"):
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run([sys.executable, "-m", "tools.plan", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def test_cli_plans_prod_and_prints_tree_and_counts(tmp_path):
    out = tmp_path / "prod.json"
    proc = run_cli("--stack", "prod", "--json", str(out), "--emit", str(tmp_path / "emit"))
    assert proc.returncode == 0, proc.stderr
    assert "Instance k8s-prod-cp-2  c7i.xlarge, 100 GiB gp3 encrypted, zone eu-west-1c" in proc.stdout
    assert "aws:ec2/instance:Instance" in proc.stdout.split("Resources:")[1]
    document = json.loads(out.read_text())
    assert set(document) == {"stack", "resources", "outputs", "violations"}
    assert document["violations"] == [] and "policies: no violations" in proc.stdout
    assert {"urn", "type", "name", "parent", "inputs", "dependsOn"} <= set(document["resources"][0])
    hosts = json.loads((tmp_path / "emit" / "inventory" / "hosts.json").read_text())
    assert [h["name"] for h in hosts if h["role"] == "control-plane"] == [f"k8s-prod-cp-{i}" for i in range(3)]
    assert all(h["bastion"] is not None for h in hosts)


def test_plan_json_is_byte_identical_across_processes(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    # Different hash seeds: set and dict-order accidents would show up as a difference.
    assert run_cli("--stack", "prod", "--json", str(first), hash_seed="1").returncode == 0
    assert run_cli("--stack", "prod", "--json", str(second), hash_seed="2").returncode == 0
    assert first.read_bytes() == second.read_bytes()


def _pools(count):
    return [{"name": "general", "count": count, "maxCount": 30}]


def test_adding_one_worker_only_adds_resources(tmp_path):
    base = build_plan("custom", write_stack(tmp_path, edited("prod", workerPools=_pools(3)), "base"))
    head = build_plan("custom", write_stack(tmp_path, edited("prod", workerPools=_pools(4)), "head"))
    before = {r["urn"]: json.dumps(r, sort_keys=True) for r in json.loads(plan_json(base))["resources"]}
    after = {r["urn"]: json.dumps(r, sort_keys=True) for r in json.loads(plan_json(head))["resources"]}
    assert set(before) <= set(after)
    changed = [urn for urn in before if before[urn] != after[urn]]
    assert changed == []
    added = sorted(urn.split("::")[-1] for urn in set(after) - set(before))
    # The machine, its DNS record, the wait for its SSH server, its preflight, its four bootstrap steps (prepare,
    # install, credentials, join), its trust in the registry's CA, its two ingress load-balancer targets, its four
    # upgrade steps in an upgrade batch of its own (prod upgrades one worker at a time), nothing else.
    assert added == ["k8s-prod-general-3", "k8s-prod-general-3-credentials", "k8s-prod-general-3-dns",
                     "k8s-prod-general-3-install", "k8s-prod-general-3-join", "k8s-prod-general-3-labels",
                     "k8s-prod-general-3-leave",
                     "k8s-prod-general-3-member", "k8s-prod-general-3-node", "k8s-prod-general-3-preflight",
                     "k8s-prod-general-3-prepare", "k8s-prod-general-3-reachable",
                     "k8s-prod-general-3-registry-trust", "k8s-prod-general-3-reset",
                     "k8s-prod-general-3-upgrade-batch", "k8s-prod-general-3-upgrade-containerd",
                     "k8s-prod-general-3-upgrade-drain",
                     "k8s-prod-general-3-upgrade-kubeadm", "k8s-prod-general-3-upgrade-kubelet",
                     "k8s-prod-general-3-upgrade-ready",
                     "k8s-prod-ing-443-k8s-prod-general-3", "k8s-prod-ing-80-k8s-prod-general-3"]


def test_invalid_stack_exits_2_with_every_problem_and_no_resources(tmp_path):
    document = edited("prod", tier="staging", kubernetesVersion="1.35",
                      controlPlane={"count": 2, "vcpu": "4"},
                      access={"sshVia": "public", "sshAllowedCidrs": ["0.0.0.0/0"], "apiAllowedCidrs": []})
    path = write_stack(tmp_path, document, "broken")
    out = tmp_path / "plan.json"
    proc = run_cli("--stack", "broken", "--config-file", str(path), "--json", str(out))
    assert proc.returncode == 2
    for fragment in ("tier:", "kubernetesVersion:", "controlPlane.count:", "controlPlane.vcpu:",
                     "access.apiAllowedCidrs:"):
        assert fragment in proc.stderr
    assert proc.stdout == "" and not out.exists()


def test_program_itself_declares_nothing_on_invalid_settings(tmp_path):
    # Bypass the plan's own pre-check: __main__.py must refuse before declaring any resource.
    stack = read_stack_file(write_stack(tmp_path, edited("prod", controlPlane={"count": 2})))
    monitor = RecordingMonitor(PlanMocks("eu-west-1"))
    try:
        run_program("custom", stack.values, stack.secret_keys, monitor)
    except PlanError as error:
        assert "controlPlane.count" in str(error)
    else:
        raise AssertionError("the program accepted an even control-plane count")
    assert monitor.registrations == []


def test_plaintext_private_key_is_refused(tmp_path):
    document = edited("dev", sshPrivateKey="-----BEGIN OPENSSH PRIVATE KEY-----")
    proc = run_cli("--stack", "x", "--config-file", str(write_stack(tmp_path, document)))
    assert proc.returncode == 2 and "sshPrivateKey: must be a secret" in proc.stderr
    assert "BEGIN OPENSSH" not in proc.stderr


def test_encrypted_settings_stay_secret_in_the_plan(tmp_path):
    document = edited("dev", sshPrivateKey={"secure": "v1:c2VjcmV0"})
    result = build_plan("custom", write_stack(tmp_path, document))
    assert "v1:c2VjcmV0" not in plan_json(result)
    # No note about the key (it is set, encrypted); only that the example values are not deployable.
    assert [n for n in result.notes if not n.startswith("NOT DEPLOYABLE AS WRITTEN")] == []


def test_dev_plan_reports_the_missing_private_key_as_a_note():
    result = build_plan("dev")
    assert any("sshPrivateKey is not set" in note for note in result.notes)


def test_tree_lists_every_resource_once():
    result = build_plan("dev")
    tree = render_tree(result)
    assert f"Resources: {len(result.document['resources'])}" in tree
    listed = [line.split()[1] for line in tree.split("\n\nResources:")[0].splitlines()[1:]]
    assert sorted(listed) == sorted(r["name"] for r in result.document["resources"])


def test_the_tree_names_each_target_group_s_health_check_without_empty_parts():
    tree = render_tree(build_plan("prod", check_policies=False))
    groups = [line for line in tree.splitlines() if " TargetGroup " in line]
    assert groups and not [line for line in groups if "None" in line], groups
    assert any("health HTTPS /readyz every 10s" in line for line in groups)
    assert any(line.endswith("health TCP every 10s") for line in groups)
