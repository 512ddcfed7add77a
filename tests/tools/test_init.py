"""`python -m tools.init` writes a stack file a user only has to review: every required setting under its
description from the settings catalogue, valid for the same readers as `pulumi up`, deployable (not the examples'
values), and passing the offline plan as written; bad arguments write nothing and say why."""

from __future__ import annotations

import subprocess

import pytest

from components.settings import PROJECT
from tools import init, plan
from tools.settings_catalog import description

BARE_METAL = ["--infrastructure", "bareMetal", "--tier", "lab", "--host", "cp-1=10.0.0.11:control-plane",
              "--host", "worker-1=10.0.0.21:worker,vcpu=8,memoryGiB=32,diskGiB=200,zone=rack-a",
              "--host-cidr", "10.0.0.0/24", "--vip", "10.0.0.10"]


def aws(tmp_path) -> list[str]:
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=60)
    return ["--infrastructure", "aws", "--tier", "dev", "--region", "eu-west-1", "--zones", "eu-west-1a,eu-west-1b",
            "--ssh-public-key", str(key.with_suffix(".pub")), "--allowed-cidr", "100.64.10.0/24"]


@pytest.mark.parametrize("kind", ["bareMetal", "aws"])
def test_the_written_stack_file_passes_the_offline_plan_as_written_with_nothing_refused(tmp_path, kind):
    output = tmp_path / "Pulumi.mine.yaml"
    arguments = BARE_METAL if kind == "bareMetal" else aws(tmp_path)
    assert init.main(["--stack", "mine", *arguments, "--output", str(output)]) == 0
    result = plan.build_plan("mine", output)
    assert not any("NOT DEPLOYABLE" in note for note in result.notes), result.notes
    assert result.document["violations"] == [] or all(v["level"] != "mandatory" for v in result.document["violations"])
    text = output.read_text()
    # Each setting written sits under its description from the catalogue.
    for key in ("tier", "clusterName", "kubernetesVersion", "network", "addons"):
        assert f"# {key}: {description(key)}\n  {PROJECT}:{key}:" in text, key
    assert "pulumi config set --secret sshPrivateKey" in text and "sshPrivateKey:" not in text.split("config:")[1]


def test_a_host_gets_the_tiers_minimum_unless_its_size_is_given(tmp_path):
    output = tmp_path / "Pulumi.mine.yaml"
    assert init.main(["--stack", "mine", *BARE_METAL, "--output", str(output)]) == 0
    text = output.read_text()
    assert "- name: worker-1\n      address: 10.0.0.21\n      roles: [worker]\n      vcpu: 8\n      memoryGiB: 32" in text
    assert "zone: rack-a" in text and "zone: default" in text


@pytest.mark.parametrize("change, said", [
    (["--vip", ""], "bareMetal needs --host-cidr (the hosts' network) and --vip"),
    (["--host", "cp-2=10.0.0.12:master"], "unknown role 'master'; one of control-plane, worker, load-balancer"),
    (["--vip", "10.0.1.10"], "loadBalancer.vip"),
    (["--host", "cp-2"], "expected NAME=ADDRESS:ROLE"),
])
def test_bad_arguments_write_nothing_and_say_which(tmp_path, capsys, change, said):
    output = tmp_path / "Pulumi.mine.yaml"
    assert init.main(["--stack", "mine", *BARE_METAL, *change, "--output", str(output)]) == 2
    assert said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_example_values_are_refused_and_an_existing_file_is_kept(tmp_path, capsys):
    output = tmp_path / "Pulumi.mine.yaml"
    arguments = aws(tmp_path)
    arguments[arguments.index("100.64.10.0/24")] = "198.51.100.0/24"
    assert init.main(["--stack", "mine", *arguments, "--output", str(output)]) == 2
    assert "access.sshAllowedCidrs[0]: 198.51.100.0/24 is a documentation range" in capsys.readouterr().err
    output.write_text("mine\n")
    assert init.main(["--stack", "mine", *BARE_METAL, "--output", str(output)]) == 1
    assert output.read_text() == "mine\n"
