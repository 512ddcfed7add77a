"""Real `pulumi preview` of bare-metal stacks: the CLI built from pinned modules, the program as an inline
Automation API program, the policy pack at the tier's levels, the secrets set with `pulumi config set --secret`."""

from __future__ import annotations

import copy
import json
import subprocess

import pytest

from tests.engine.harness import EngineStack, created, everything_said
from tests.helpers import stack_document
from tests.policy_breaks import METAL_BREAKS
from tools.plan import plan_config
from tools.stack_file import read_stack_file

pytestmark = pytest.mark.usefixtures("engine_tools")


def fresh_key(directory) -> str:
    path = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "engine-test", "-f", str(path)], check=True)
    return path.read_text()


def lab_metal_document() -> dict:
    """A lab-tier bare-metal stack: one control plane holding the VIP with haproxy beside it, one worker."""
    document = copy.deepcopy(stack_document("metal"))
    config = document["config"]
    config["k8s-platform:tier"] = "lab"
    config["k8s-platform:clusterName"] = "k8s-lab"
    config["k8s-platform:loadBalancer"] = {**config["k8s-platform:loadBalancer"], "mode": "colocated"}
    inventory = config["k8s-platform:inventory"]
    inventory["hosts"] = [
        {"name": "cp-1", "address": "203.0.113.21", "roles": ["control-plane"], "vcpu": 2, "memoryGiB": 4,
         "diskGiB": 40, "zone": "rack-a"},
        {"name": "worker-1", "address": "203.0.113.31", "roles": ["worker"], "vcpu": 2, "memoryGiB": 4,
         "diskGiB": 40, "zone": "rack-a"},
    ]
    return document


def offline_plan(stack_file, stack: str) -> dict[str, str]:
    config = read_stack_file(stack_file)
    document = plan_config(stack, config).document
    return {r["urn"]: r["type"] for r in document["resources"]}


@pytest.mark.parametrize("stack,document", [("metal", stack_document("metal")), ("lab", lab_metal_document())],
                         ids=["metal-example", "lab-tier"])
def test_a_real_preview_plans_exactly_the_offline_plan_and_shows_no_secret(stack, document, tmp_path, no_network):
    key = fresh_key(tmp_path)
    engine = EngineStack(tmp_path / "engine", stack, document, {"sshPrivateKey": key},
                         namespace=no_network)
    result = engine.preview()
    assert result["ok"], result.get("error")
    planned = created(result)
    # The offline plan of the same settings (the key as the CLI hands it over: decrypted, marked secret).
    stack_text = engine.stack_file.read_text()
    assert "sshPrivateKey" in stack_text and "secure:" in stack_text and "encryptionsalt" in stack_text
    offline_file = tmp_path / f"Pulumi.{stack}.yaml"
    offline_file.write_text(stack_text)
    offline = offline_plan(offline_file, stack)
    assert planned == offline
    assert len(planned) > 10
    said = everything_said(result, engine)
    body = "".join(key.strip().splitlines()[1:-1])
    for line in key.strip().splitlines()[1:-1]:
        assert line not in said
    assert body[:40] not in said


def test_preview_json_and_the_engine_log_at_high_verbosity_show_no_secret(tmp_path, no_network):
    key = fresh_key(tmp_path)
    engine = EngineStack(tmp_path / "engine", "lab", lab_metal_document(), {"sshPrivateKey": key},
                         namespace=no_network)
    result = engine.preview(logVerbosity=9, json=True)
    assert result["ok"], result.get("error")
    assert "RegisterResource" in result["stderr"]  # the verbose log is really there
    document = json.loads(result["output"])  # `pulumi preview --json`
    assert len(document["steps"]) > 10
    said = everything_said(result, engine)
    for line in key.strip().splitlines()[1:-1]:
        assert line not in said


def test_every_policy_runs_in_the_real_preview_and_passes(tmp_path, no_network):
    engine = EngineStack(tmp_path / "engine", "metal", stack_document("metal"), {"sshPrivateKey": fresh_key(tmp_path)},
                         namespace=no_network)
    result = engine.preview(policy_tier="prod")
    assert result["ok"], result.get("error")
    assert "Policy Packs run" in result["output"] and "k8s-platform" in result["output"]
    said = everything_said(result, engine)
    assert "can't run policy" not in said
    assert not [e for e in result["events"] if e["kind"] == "policy_event" and e["level"] == "mandatory"]


@pytest.mark.parametrize("policy", sorted(METAL_BREAKS))
def test_a_broken_stack_policy_fails_the_real_preview_by_name(policy, tmp_path, no_network):
    engine = EngineStack(tmp_path / "engine", "metal", stack_document("metal"), {"sshPrivateKey": fresh_key(tmp_path)},
                         namespace=no_network)
    result = engine.preview(policy_tier="prod", breaks=[policy])
    assert not result["ok"]
    mandatory = {e["policy"] for e in result["events"] if e["kind"] == "policy_event" and e["level"] == "mandatory"}
    assert policy in mandatory, result["events"]
    assert policy in result["output"] + result.get("error", "")
