"""Real `pulumi up`: where waiting cannot help, the first step on a host fails within a minute, naming the host and
the cause (a host key other than the pinned one, a key the host refuses); where it can, a host gets its minutes
(an SSH server that starts 90 s late). The command provider retries every dial failure alike (its stand-in does
what it does: tests/engine/test_standins.py), so the program tells the two apart in `<host>-reachable`."""

from __future__ import annotations

import pytest

from tests.engine.harness import EngineStack
from tests.engine.hosts import ssh_key, ssh_lab
from tests.engine.test_up import HOSTS, stack_for

pytestmark = pytest.mark.usefixtures("engine_tools")
NAMES = ["cp-1", "worker-1"]


@pytest.fixture
def lab(tmp_path):
    with ssh_lab(tmp_path, "reach") as (hosts, key):
        yield hosts, key, tmp_path


def engine(lab, pinned: dict[str, str] | None = None) -> EngineStack:
    hosts, key, directory = lab
    document = stack_for(hosts, NAMES)
    for entry in document["config"]["k8s-platform:inventory"]["hosts"]:
        entry["hostKey"] = (pinned or {}).get(entry["name"], entry["hostKey"])
    return EngineStack(directory / "engine", "metal", document, {"sshPrivateKey": key.read_text()},
                       namespace=hosts.engine_namespace)


def failure_of(result: dict, resource: str) -> tuple[int, str]:
    """How long the resource ran before it failed (seconds, from the engine's events) and the engine's error."""
    events = [e for e in result["events"] if (e.get("urn") or "").endswith(f"::{resource}")]
    started = min(e["time"] for e in events if e["kind"] == "resource_pre_event")
    failed = [e["time"] for e in events if e["kind"] == "res_op_failed_event"]
    assert failed, f"{resource} did not fail: {events}"
    errors = " ".join(e["message"] for e in events if e["kind"] == "diagnostic_event" and e["severity"] == "error")
    return failed[0] - started, errors


def test_a_host_key_other_than_the_pinned_one_fails_the_hosts_first_step_within_a_minute(lab):
    hosts, key, _ = lab
    public = key.with_suffix(".pub").read_text()
    for name in NAMES:
        hosts.add(name, HOSTS[name], public)
    stranger = hosts.add("cp-2", HOSTS["cp-2"], public)  # another machine's key pinned for cp-1
    result = engine(lab, {"cp-1": stranger.host_key}).run("up")
    assert not result["ok"]
    seconds, error = failure_of(result, "cp-1-reachable")
    assert seconds <= 60
    assert "cp-1 (root@203.0.113.21:22) offers an SSH host key other than the one pinned for it" in error
    assert "kubeadm-init" not in hosts.hosts["cp-1"].step_names() and not hosts.hosts["cp-1"].steps()


def test_a_key_the_host_refuses_fails_the_hosts_first_step_within_a_minute(lab, tmp_path):
    hosts, key, _ = lab
    hosts.add("cp-1", HOSTS["cp-1"], ssh_key(tmp_path / "stranger").with_suffix(".pub").read_text())
    hosts.add("worker-1", HOSTS["worker-1"], key.with_suffix(".pub").read_text())
    result = engine(lab).run("up")
    assert not result["ok"]
    seconds, error = failure_of(result, "cp-1-reachable")
    assert seconds <= 60
    assert "cp-1 (root@203.0.113.21:22) refuses the SSH key (the stack's sshPrivateKey) for user root" in error


def test_a_host_whose_ssh_server_starts_90_seconds_late_still_gets_through(lab):
    hosts, key, _ = lab
    public = key.with_suffix(".pub").read_text()
    hosts.add("cp-1", HOSTS["cp-1"], public, start_after_s=90)
    hosts.add("worker-1", HOSTS["worker-1"], public)
    hosts.register_nodes()
    result = engine(lab).run("up")
    assert result["ok"], result.get("error", "")[-4000:]
    assert "kubeadm-init" in hosts.hosts["cp-1"].step_names()
    waited = [e["time"] for e in result["events"] if (e.get("urn") or "").endswith("::cp-1-reachable")]
    assert max(waited) - min(waited) >= 85, "it waited for the server"
