"""The wait before a host's first step (`<host>-reachable`, wait-for-ssh.sh): a booting machine gets its minutes,
while a wrong host key or a refused key fails at once, naming the host and the cause. The remote steps themselves
dial only a few times, because the provider retries every dial failure alike (tests/engine/test_standins.py)."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from components.host import NEW_MACHINE, RUNNING_HOST
from components.remote import runner
from components.remote.ssh_read import wait_for_ssh_command
from tests.bootstrap.test_bootstrap import is_wrapped_secret, raw_inputs, unwrapped, urn_of
from tests.engine.hosts import EngineHosts, ssh_key, ssh_lab
from tests.plan_fixtures import of_type, shipped_plan

LOCAL = "command:local:Command"


def waits(result) -> dict[str, dict]:
    return {r["name"].removesuffix("-reachable"): r for r in of_type(result, LOCAL)
            if r["name"].endswith("-reachable")}


def patience(result, host: str) -> tuple[int, int]:
    script = raw_inputs(result, f"{host}-reachable")["environment"][runner.WAIT_SCRIPT_VARIABLE]
    values = dict(re.findall(r"^readonly (ANSWER_SECONDS|KEY_SECONDS)=(\d+)$", script, re.MULTILINE))
    return int(values["ANSWER_SECONDS"]), int(values["KEY_SECONDS"])


@pytest.mark.parametrize("stack, expected", [("metal", RUNNING_HOST), ("prod", NEW_MACHINE)])
def test_every_host_waits_for_its_ssh_server_before_its_preflight_as_its_infrastructure_needs(stack, expected):
    result = shipped_plan(stack)
    steps = {r["name"]: r for r in result.document["resources"]}
    preflights = sorted(name.removesuffix("-preflight") for name in steps if name.endswith("-preflight"))
    assert sorted(waits(result)) == preflights
    for host in preflights:
        assert urn_of(result, f"{host}-reachable") in steps[f"{host}-preflight"]["dependsOn"]
        assert patience(result, host) == (expected.answer_seconds, expected.key_seconds)
        raw = raw_inputs(result, f"{host}-reachable")
        assert is_wrapped_secret(raw["stdin"]), "the SSH key goes on stdin, as a secret"
        # One short, constant command line: a failure's message repeats it, and it carries neither key nor script.
        assert raw["create"] == f'exec /bin/bash -c "${runner.WAIT_SCRIPT_VARIABLE}"'
        assert raw["addPreviousOutputInEnv"] is False


def test_a_host_behind_a_bastion_is_waited_for_through_it():
    result = shipped_plan("metal")
    script = raw_inputs(result, "worker-2-reachable")["environment"][runner.WAIT_SCRIPT_VARIABLE]
    connection = unwrapped(raw_inputs(result, "worker-2-join")["connection"])
    assert f"readonly PROXY_HOST={connection['proxy']['host']}" in script
    assert f"readonly PROXY_HOST_KEY='{connection['proxy']['hostKey']}'" in script


@pytest.fixture
def lab(tmp_path):
    with ssh_lab(tmp_path, "wait") as made:
        yield made


def wait(hosts: EngineHosts, key, address: str, host_key: str | None, answer_s: int = 60, key_s: int = 0):
    script = wait_for_ssh_command("cp-1", address, 22, "root", host_key, None, answer_s, key_s)
    started = time.monotonic()
    done = subprocess.run(["ip", "netns", "exec", hosts.engine_namespace, "/bin/bash", "-c", script],
                          input=key.read_text().rstrip("\n"), capture_output=True, text=True, timeout=answer_s + 60)
    return done, time.monotonic() - started


def test_a_host_that_answers_passes_at_once(lab):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", key.with_suffix(".pub").read_text())
    done, elapsed = wait(hosts, key, host.address, host.host_key)
    assert done.returncode == 0, done.stderr
    assert re.search(r"cp-1 \(root@203.0.113.21:22\) answers over SSH after [01] s", done.stderr) and elapsed < 10


def test_a_host_whose_ssh_server_starts_late_gets_through(lab):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", key.with_suffix(".pub").read_text(), start_after_s=12)
    done, elapsed = wait(hosts, key, host.address, host.host_key)
    assert done.returncode == 0, done.stderr
    assert elapsed >= 10, "it waited for the server"


def test_a_host_key_other_than_the_pinned_one_fails_at_once_naming_the_host(lab):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", key.with_suffix(".pub").read_text())
    other = hosts.add("cp-2", "203.0.113.22", key.with_suffix(".pub").read_text())
    done, elapsed = wait(hosts, key, host.address, other.host_key, answer_s=120)
    assert done.returncode != 0 and elapsed < 10, "waiting cannot help: no second try"
    assert "cp-1 (root@203.0.113.21:22) offers an SSH host key other than the one pinned for it" in done.stderr


def test_a_refused_key_fails_at_once_on_a_running_host_naming_the_host(lab, tmp_path):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", ssh_key(tmp_path / "stranger").with_suffix(".pub").read_text())
    done, elapsed = wait(hosts, key, host.address, host.host_key, answer_s=120)
    assert done.returncode != 0 and elapsed < 10
    assert "cp-1 (root@203.0.113.21:22) refuses the SSH key (the stack's sshPrivateKey) for user root" in done.stderr


def test_a_new_machine_gets_its_grace_for_the_key_and_then_fails(lab, tmp_path):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", ssh_key(tmp_path / "stranger").with_suffix(".pub").read_text())
    done, elapsed = wait(hosts, key, host.address, host.host_key, answer_s=120, key_s=8)
    assert done.returncode != 0 and "refuses the SSH key" in done.stderr
    assert 8 <= elapsed < 30, "tried again for the grace, not for the whole wait"


def test_a_host_that_never_answers_fails_when_the_wait_is_over_with_what_ssh_said(lab):
    hosts, key = lab
    hosts.lab.add_host("cp-1", "203.0.113.21")  # a machine with no SSH server: every connection refused
    done, elapsed = wait(hosts, key, "203.0.113.21", None, answer_s=12)
    assert done.returncode != 0
    assert "cp-1 (root@203.0.113.21:22) did not answer over SSH within 12 s" in done.stderr
    assert "Connection refused" in done.stderr and 7 <= elapsed < 30
