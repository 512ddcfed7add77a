"""What must never be deployed as written (components/settings/examples.py): the shipped stacks' example key and
documentation ranges as allowed networks, and a private key that does not match sshPublicKey. An update refuses
before any resource is declared; a preview and the offline plan say so, naming the key path."""

from __future__ import annotations

import json
import subprocess

import pytest

from components import stack_config
from components.settings import PROJECT, load_settings
from components.settings.examples import deploy_refusals, key_pair_problem, public_key_of
from tests.helpers import PRIVATE_KEY, raw_config
from tools.plan import PlanError, run_program
from tools.plan_mocks import PlanMocks, RecordingMonitor


def keypair(tmp_path, kind: str, name: str) -> tuple[str, str]:
    """A key made by ssh-keygen (OpenSSH's own format): (private, public)."""
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "me@laptop", "-f", str(path)], check=True,
                   timeout=60)
    return path.read_text(), path.with_suffix(".pub").read_text()


def own(stack: str, public_key: str, network: str = "100.64.10.0/24") -> dict[str, str]:
    config = raw_config(stack)
    config[f"{PROJECT}:sshPublicKey"] = public_key
    access = json.loads(config[f"{PROJECT}:access"])
    access["sshAllowedCidrs"] = access["apiAllowedCidrs"] = [network]
    config[f"{PROJECT}:access"] = json.dumps(access)
    return config


@pytest.mark.parametrize("stack", ["lab", "dev", "prod"])
def test_the_shipped_stacks_example_key_and_documentation_ranges_are_named_by_key_path(stack):
    settings = load_settings(raw_config(stack), frozenset({PRIVATE_KEY}), stack)
    refused = deploy_refusals(settings, None)
    assert [line.split(":")[0] for line in refused] == ["sshPublicKey", "access.sshAllowedCidrs[0]",
                                                       "access.apiAllowedCidrs[0]"]
    assert "198.51.100.0/24 is a documentation range" in refused[1]


def test_a_stack_with_its_own_key_and_networks_is_deployable(tmp_path):
    private, public = keypair(tmp_path, "ed25519", "mine")
    settings = load_settings(own("dev", public.strip()), frozenset({PRIVATE_KEY}), "dev")
    assert deploy_refusals(settings, private) == []


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_the_public_half_read_from_an_openssh_private_key_is_what_ssh_keygen_wrote(tmp_path, kind):
    private, public = keypair(tmp_path, kind, kind)
    assert public_key_of(private) == " ".join(public.split()[:2])


def test_a_private_key_that_does_not_match_the_public_key_is_refused_and_a_pem_key_is_not_guessed(tmp_path):
    private, _ = keypair(tmp_path, "ed25519", "one")
    _, other = keypair(tmp_path, "ed25519", "two")
    problem = key_pair_problem(private, other)
    assert problem and problem.startswith("sshPrivateKey: does not match sshPublicKey")
    pem = tmp_path / "pem"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-m", "PEM", "-N", "", "-f", str(pem)], check=True, timeout=60)
    assert public_key_of(pem.read_text()) is None and key_pair_problem(pem.read_text(), other) is None


def _run(stack: str, config: dict[str, str], preview: bool) -> RecordingMonitor:
    monitor = RecordingMonitor(PlanMocks(config.get("aws:region", ""), preview=preview))
    run_program(stack, config, frozenset({PRIVATE_KEY}), monitor, preview=preview)
    return monitor


def test_an_update_with_the_example_values_refuses_before_any_resource_and_a_preview_only_warns(monkeypatch):
    config = raw_config("lab")
    monkeypatch.setattr(stack_config, "deploying", lambda: True)  # as a real `pulumi up` runs it
    monitor = RecordingMonitor(PlanMocks(config.get("aws:region", "")))
    with pytest.raises(PlanError, match=r"not deployable as written .*\n  - sshPublicKey: is the example key"):
        run_program("lab", config, frozenset({PRIVATE_KEY}), monitor)
    assert monitor.registrations == [], "refused before any resource is declared"
    monkeypatch.setattr(stack_config, "deploying", lambda: False)  # a preview, or the offline plan
    assert _run("lab", config, preview=True).registrations


def test_the_offline_plan_is_never_a_deployment_though_its_mocks_run_an_update(monkeypatch):
    import pulumi
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)  # an update, as the mocks run one
    monkeypatch.setattr(stack_config, "offline_plan", False)
    assert stack_config.deploying() is True
    monkeypatch.setattr(stack_config, "offline_plan", True)
    assert stack_config.deploying() is False
