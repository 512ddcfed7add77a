"""The settings command end to end: as a process, in both formats and per infrastructure, its content checked
against the constants the validation uses (not against a copy of its own output)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from components import sizing, versions
from components.host import CONTROL_PLANE
from components.settings.descriptions import DESCRIPTIONS
from components.settings.inventory import DEFAULT_COLOCATED_PORT, KUBE_API_PORT
from components.settings.model import AWS_ONLY, BARE_METAL_ONLY, MIN_PODS_PER_NODE, SCALAR_DEFAULTS
from tests.helpers import ROOT
from tools import settings_print


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tools.settings_print", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def text_blocks(output: str) -> dict[str, dict[str, str]]:
    """The text format's blocks: the path, then "  field: value" lines."""
    blocks = {}
    for block in output.split("\n\n")[1:]:
        path, *lines = block.strip("\n").splitlines()
        blocks[path] = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines}
    return blocks


@pytest.fixture(scope="module")
def text():
    return text_blocks(run())


@pytest.fixture(scope="module")
def by_infrastructure():
    return {infra: {r["path"]: r for r in yaml.safe_load(run("--format", "yaml", "--infrastructure", infra))}
            for infra in ("aws", "bareMetal")}


def test_the_text_lists_every_setting_with_type_default_applicability_and_its_description(text):
    assert len(text) > 100
    assert text["tier"] == {"type": "one of " + ", ".join(sizing.TIERS), "default": "required",
                            "applies to": "aws, bareMetal", "description": DESCRIPTIONS["tier"]}
    pods = text["maxPodsPerNode"]
    assert pods["type"] == f"whole number, {MIN_PODS_PER_NODE} to {sizing.MAX_PODS_PER_NODE}"
    assert pods["default"] == str(SCALAR_DEFAULTS["maxPodsPerNode"])
    assert text["kubernetesVersion"]["default"] == versions.DEFAULT_KUBERNETES_VERSION
    assert text["sshPublicKey"]["applies to"] == "aws" and text["network.hostCidr"]["applies to"] == "bareMetal"
    for path, fields in text.items():
        assert fields["description"] == DESCRIPTIONS.get(path), path
        assert fields["type"] and fields["default"], path


def test_each_infrastructure_lists_only_its_settings_with_its_defaults(by_infrastructure):
    aws, metal = by_infrastructure["aws"], by_infrastructure["bareMetal"]
    for path in AWS_ONLY:
        assert path in aws and path not in metal
    for path in BARE_METAL_ONLY:
        assert path in metal and path not in aws
    assert "network.zones" in aws and "network.zones" not in metal
    assert aws["addons.etcdBackup.s3"]["default"] is True and metal["addons.etcdBackup.s3"]["default"] is False
    assert metal["loadBalancer.port"]["default"] == f"{KUBE_API_PORT}; {DEFAULT_COLOCATED_PORT} when mode is colocated"
    assert metal["inventory.hosts[].sshUser"]["default"] == "the value of sshUser"
    assert aws["aws:region"]["default"] == "required" and aws["sshPublicKey"]["default"] == "required"


def test_the_yaml_gives_bounds_choices_and_keys_as_fields(by_infrastructure):
    aws = by_infrastructure["aws"]
    pods = aws["maxPodsPerNode"]
    assert (pods["type"], pods["minimum"], pods["maximum"], pods["default"]) == (
        "whole number", MIN_PODS_PER_NODE, sizing.MAX_PODS_PER_NODE, SCALAR_DEFAULTS["maxPodsPerNode"])
    assert aws["tier"]["choices"] == list(sizing.TIERS)
    assert aws["workerPools[]"]["keys"][:3] == ["name", "count", "maxCount"]
    assert aws["controlPlane.vcpu"]["default"] == "per tier: " + ", ".join(
        f"{t} {sizing.tier_minimum(t, CONTROL_PLANE).vcpu}" for t in sizing.TIERS)
    assert all(r["description"] == DESCRIPTIONS.get(path) for path, r in aws.items())


def test_main_refuses_an_unknown_infrastructure(capsys):
    with pytest.raises(SystemExit) as exited:
        settings_print.main(["--infrastructure", "gcp"])
    assert exited.value.code == 2 and "invalid choice: 'gcp'" in capsys.readouterr().err
    assert settings_print.main(["--infrastructure", "aws"]) == 0
    assert "\ncontrolPlane.count\n" in capsys.readouterr().out
