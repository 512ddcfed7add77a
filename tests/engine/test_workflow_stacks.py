"""The workflows' way to a stack that previews: scripts/ci-stack-secrets before every pulumi/actions command, and
the committed stack file through the real CLI exactly so."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.engine.harness import EngineStack, everything_said
from tests.helpers import ROOT, stack_document

pytestmark = pytest.mark.usefixtures("engine_tools")
WORKFLOWS = ROOT / ".github" / "workflows"


def pulumi_commands(workflow: dict):
    for job in workflow["jobs"].values():
        steps = job.get("steps", [])
        for index, step in enumerate(steps):
            if str(step.get("uses", "")).startswith("pulumi/actions@") and step.get("with", {}).get("command"):
                yield steps[:index], step


@pytest.mark.parametrize("name", ["pr-preview.yml", "deploy.yml"])
def test_every_pulumi_command_runs_after_its_stack_got_its_key(name):
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    commands = list(pulumi_commands(workflow))
    assert commands
    for before, step in commands:
        prepared = [s for s in before if "scripts/ci-stack-secrets" in s.get("run", "")]
        assert prepared, f"{name}: {step['with']['command']} of {step['with']['stack-name']} has no key"
        env = prepared[-1]["env"]
        assert env["STACK"] == step["with"]["stack-name"]
        assert env["SSH_PRIVATE_KEY"] == "${{ secrets.SSH_PRIVATE_KEY }}"
        assert "SSH_PRIVATE_KEY" not in prepared[-1]["run"]  # on stdin, never on a command line


def test_the_committed_metal_stack_previews_the_way_the_workflow_runs_it(tmp_path, no_network):
    key_file = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key_file)], check=True)
    key = key_file.read_text()
    engine = EngineStack(tmp_path / "engine", "metal", stack_document("metal"), {"sshPrivateKey": key},
                         namespace=no_network)
    stack_file = yaml.safe_load(engine.stack_file.read_text())
    assert stack_file["encryptionsalt"].startswith("v1:")
    assert "secure" in stack_file["config"]["k8s-platform:sshPrivateKey"]
    result = engine.preview(policy_tier="prod")
    assert result["ok"], result.get("error")
    assert set(result["changeSummary"]) == {"create"} and result["changeSummary"]["create"] > 100
    said = everything_said(result, engine)
    for line in key.strip().splitlines()[1:-1]:
        assert line not in said
    # Run again (a later workflow run on the same stack): the same salt, the key still decrypts.
    engine.prepare_like_the_workflows(key)
    assert yaml.safe_load(engine.stack_file.read_text())["encryptionsalt"] == stack_file["encryptionsalt"]
    assert engine.preview()["ok"]


def test_without_the_key_the_real_preview_stops_naming_it(tmp_path, no_network):
    engine = EngineStack(tmp_path / "engine", "metal", stack_document("metal"), {},
                         namespace=no_network)
    result = engine.preview()
    assert not result["ok"]
    assert "sshPrivateKey" in result["error"]
