"""The engine harness: a stack in a test's own directory, on a local file backend, driven by the real Pulumi CLI.

Each operation runs `python -m tests.engine.drive` in a process of its own (see drive.py). Nothing outside the
test's directory changes: the state, the stack file and the secrets' encryption live there; the CLI and the
plugins come from .engine-tools (scripts/engine-tools).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT

TOOLS = ROOT / ".engine-tools"
PASSPHRASE = "engine-test-passphrase"
POLICY_PACK = TOOLS / "bin" / "policy-pack"
OPERATION_TIMEOUT_S = 600


def ensure_engine_tools() -> None:
    """Builds or reuses the engine tools; without them an engine test fails under CI and is skipped elsewhere."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "engine-tools")], capture_output=True, text=True,
                          timeout=3600)
    if done.returncode != 0:
        message = f"scripts/engine-tools failed:\n{done.stdout}\n{done.stderr}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def engine_env(state: Path) -> dict[str, str]:
    return {
        "PULUMI_HOME": str(TOOLS / "home"),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
        "PATH": f"{TOOLS / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    }


class EngineStack:
    def __init__(self, directory: Path, stack: str, document: dict, secrets: dict[str, str], *, namespace: str):
        """`namespace`: the network namespace the engine runs in: the test hosts' (tests/engine/hosts.py), or one
        with loopback only (the `no_network` fixture). Never this machine's own network."""
        self.directory, self.stack, self.secrets, self.namespace = directory, stack, secrets, namespace
        self.work = directory / "work"
        self.state = directory / "state"
        self.work.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(exist_ok=True)
        shutil.copy(ROOT / "Pulumi.yaml", self.work / "Pulumi.yaml")
        self.write_settings(document)
        self.runs = 0
        if "sshPrivateKey" in secrets:
            self.prepare_like_the_workflows(secrets["sshPrivateKey"])

    def prepare_like_the_workflows(self, key: str) -> subprocess.CompletedProcess:
        """What a workflow runs before `pulumi preview` or `pulumi up`: scripts/ci-stack-secrets (login, select
        or create the stack, the key set as a secret through stdin)."""
        done = subprocess.run(["bash", str(ROOT / "scripts" / "ci-stack-secrets"), self.stack], cwd=self.work,
                              capture_output=True, text=True, timeout=120,
                              env={**engine_env(self.state), "SSH_PRIVATE_KEY": key, "HOME": str(self.directory)})
        assert done.returncode == 0, f"ci-stack-secrets failed:\n{done.stdout}\n{done.stderr}"
        return done

    @property
    def stack_file(self) -> Path:
        return self.work / f"Pulumi.{self.stack}.yaml"

    def write_settings(self, document: dict) -> None:
        """The stack file's settings; the secrets the engine encrypted into it (and its salt) are kept."""
        kept = {}
        if self.stack_file.exists():
            current = yaml.safe_load(self.stack_file.read_text())
            kept = {k: v for k, v in current.items() if k == "encryptionsalt"}
            kept["config"] = {k: v for k, v in current.get("config", {}).items() if isinstance(v, dict)
                              and "secure" in v}
        config = {**document.get("config", {}), **kept.get("config", {})}
        self.stack_file.write_text(yaml.safe_dump({**kept, "config": config}, sort_keys=True))

    def run(self, operation: str, timeout_s: float = OPERATION_TIMEOUT_S, **options) -> dict:
        self.runs += 1
        request = {"workDir": str(self.work), "stack": self.stack, "operation": operation,
                   "pulumiRoot": str(TOOLS), "env": engine_env(self.state), **options}
        request_path = self.directory / f"request-{self.runs}.json"
        result_path = self.directory / f"result-{self.runs}.json"
        request_path.write_text(json.dumps(request))
        inside = ["ip", "netns", "exec", self.namespace]
        # A session of its own: on a timeout the driver, the CLI and every plugin it started stop together.
        driver = subprocess.Popen([*inside, sys.executable, "-m", "tests.engine.drive", str(request_path),
                                   str(result_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        try:
            stdout, stderr = driver.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.communicate()
            raise
        done = subprocess.CompletedProcess(driver.args, driver.returncode, stdout, stderr)
        assert done.returncode == 0, f"driver failed:\n{done.stdout}\n{done.stderr}"
        result = json.loads(result_path.read_text())
        result["driverStderr"] = done.stderr
        return result

    def cli(self, *arguments: str) -> str:
        """What a user's `pulumi ARGUMENTS --stack STACK` prints, run by the CLI itself."""
        done = subprocess.run([str(TOOLS / "bin" / "pulumi"), *arguments, "--stack", self.stack], cwd=self.work,
                              capture_output=True, text=True, timeout=120,
                              env={**engine_env(self.state), "HOME": str(self.directory)})
        assert done.returncode == 0, done.stderr
        return done.stdout

    def export(self) -> dict:
        """`pulumi stack export` as a user runs it (secrets stay encrypted; the Automation API's export shows them)."""
        return json.loads(self.cli("stack", "export"))["deployment"]

    def backend_files(self) -> dict[str, str]:
        """Every file the local backend keeps (the stack, its .bak, each update's history and checkpoint, backups),
        by path relative to the state folder."""
        return {str(path.relative_to(self.state)): path.read_text(errors="replace")
                for path in sorted(self.state.rglob("*")) if path.is_file()}

    def preview(self, policy_tier: str | None = None, **options) -> dict:
        if policy_tier is not None:
            options.update(policyPacks=[str(POLICY_PACK)],
                           policyPackConfigs=[str(ROOT / "policies" / "config" / f"{policy_tier}.json")])
        return self.run("preview", **options)


def created(result: dict) -> dict[str, str]:
    """urn -> type of every resource the program declared and the engine announced it would create (the stack
    and the default providers are the engine's own)."""
    return {e["urn"]: e["type"] for e in result["events"]
            if e["kind"] == "resource_pre_event" and e["op"] == "create" and e["type"] != "pulumi:pulumi:Stack"
            and not (e["type"].startswith("pulumi:providers:") and e["urn"].split("::")[-1].startswith("default"))}


def everything_said(result: dict, stack: EngineStack) -> str:
    """All the engine and the program showed: output, events, logs, the stack file and the state's files."""
    parts = [result.get("output", ""), result.get("stderr", ""), result.get("error", ""), result["driverStderr"],
             json.dumps(result["events"]), stack.stack_file.read_text()]
    parts += [p.read_text(errors="replace") for p in stack.state.rglob("*") if p.is_file() and p.suffix == ".json"]
    return "\n".join(parts)
