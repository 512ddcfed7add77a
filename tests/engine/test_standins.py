"""The provider stand-ins do what the real plugins do, rule by rule (each rule and the upstream source it follows are
written in the stand-in's module): a kinder stand-in would hide exactly the defects the real plugin shows.

random_standin.py: the resource IDs, which the engine keeps in clear. command_standin.py and remote_connection.py:
which dial failures are retried, how often and how far apart, what bounds a dial, what a failure says. The dial
rules run against real OpenSSH servers in network namespaces (tests/engine/hosts.py), the stand-in inside the
engine's namespace (tests/engine/standin_probe.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from pulumi.runtime.proto import provider_pb2

from tests import netns
from tests.engine.hosts import EngineHosts, ssh_key, ssh_lab
from tests.engine.providers import command_standin, random_standin, remote_connection
from tests.engine.providers.plugin_server import decode, encode
from tests.helpers import ROOT

URN = "urn:pulumi:s::k8s-platform::{type}::{name}"


def created(provider, type_: str, name: str, inputs: dict, preview: bool = False) -> provider_pb2.CreateResponse:
    request = provider_pb2.CreateRequest(urn=URN.format(type=type_, name=name), properties=encode(inputs),
                                         preview=preview)
    return provider.Create(request, None)


def test_random_ids_are_upstreams_bytes_by_value_string_by_result_password_none():
    provider = random_standin.RandomStandin(None)
    made = created(provider, "random:index/randomBytes:RandomBytes", "key", {"length": 32})
    assert made.id == decode(made.properties)["base64"], "computeRandomBytesID: the ID is the value, in clear"
    made = created(provider, "random:index/randomString:RandomString", "token-id", {"length": 6, "special": False})
    assert made.id == decode(made.properties)["result"]
    made = created(provider, "random:index/randomPassword:RandomPassword", "secret", {"length": 16})
    assert made.id == "none" and len(decode(made.properties)["result"]) == 16
    assert created(provider, "random:index/randomBytes:RandomBytes", "key", {"length": 32}, preview=True).id == ""


def test_a_commands_id_is_its_name_and_eight_random_hex_digits():
    provider = command_standin.CommandStandin(None)
    ids = {created(provider, "command:local:Command", "step", {"create": "true"}).id for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"step[0-9a-f]{8}", ident) for ident in ids)


def test_the_backoff_starts_at_100_ms_grows_by_half_and_stops_at_5_s_with_no_sleep_after_the_last(monkeypatch):
    slept, statuses = [], []
    monkeypatch.setattr(remote_connection.time, "sleep", slept.append)
    with pytest.raises(remote_connection.DialFailed) as failure:
        remote_connection.dial_with_retry("Dial", 12, lambda attempt: f"failure {attempt}", statuses.append)
    assert str(failure.value) == "after 12 failed attempts: failure 13", "13 attempts; the text names the limit"
    assert slept == pytest.approx([0.1 * 1.5 ** k for k in range(10)] + [5.0, 5.0])
    assert statuses == [f"Dial {k}/12 failed: retrying" for k in range(1, 13)]
    slept.clear()
    with pytest.raises(remote_connection.DialFailed, match="^after 0 failed attempts: failure 1$"):
        remote_connection.dial_with_retry("Dial", 0, lambda attempt: f"failure {attempt}", statuses.append)
    assert slept == []
    answers = iter(["refused"] * 20 + [None])
    remote_connection.dial_with_retry("Dial", -1, lambda attempt: next(answers), statuses.append)
    assert statuses[-1] == "Dial 20/inf failed: retrying", "-1: no limit"


@pytest.fixture
def lab(tmp_path):
    with ssh_lab(tmp_path, "std") as made:
        yield made


def probe(hosts: EngineHosts, connection: dict, command: str = "echo answered", timeout: float = 120) -> dict:
    done = subprocess.run(["ip", "netns", "exec", hosts.engine_namespace, sys.executable, "-m",
                           "tests.engine.standin_probe"], input=json.dumps({"connection": connection,
                                                                            "command": command}),
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def connection(key, address: str, host_key: str | None = None, **extra) -> dict:
    return {"host": address, "privateKey": key.read_text(), **({"hostKey": host_key} if host_key else {}), **extra}


def test_a_host_that_accepts_the_key_runs_the_command_after_one_dial(lab):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", key.with_suffix(".pub").read_text())
    answer = probe(hosts, connection(key, host.address, host.host_key))
    assert answer == {**answer, "stdout": "answered", "stderr": "", "statuses": []}
    assert host.connections() == 1


def stranger_key(tmp_path):
    return ssh_key(tmp_path / "stranger").with_suffix(".pub").read_text()


@pytest.mark.parametrize("failure", ["host key", "refused key"])
def test_a_wrong_host_key_or_a_refused_key_is_retried_like_any_dial_failure(lab, tmp_path, failure):
    hosts, key = lab
    authorized = stranger_key(tmp_path) if failure == "refused key" else key.with_suffix(".pub").read_text()
    host = hosts.add("cp-1", "203.0.113.21", authorized)
    pinned = hosts.add("cp-2", "203.0.113.22", authorized).host_key if failure == "host key" else host.host_key
    answer = probe(hosts, connection(key, host.address, pinned, dialErrorLimit=4))
    expected = {"host key": remote_connection.HOST_KEY_MISMATCH,
                "refused key": remote_connection.UNABLE_TO_AUTHENTICATE}[failure]
    assert answer["error"] == f"after 4 failed attempts: {expected}"
    assert [text for _, text in answer["statuses"]] == [f"Dial {k}/4 failed: retrying" for k in range(1, 5)]
    assert host.connections() == 5, "limit + 1 dials reached the host"
    assert answer["elapsed"] >= 0.1 + 0.15 + 0.225 + 0.3375, "the backoff between them"


def test_a_refused_port_is_retried_with_gos_dial_error(lab):
    hosts, key = lab
    hosts.lab.add_host("cp-1", "203.0.113.21")  # no SSH server
    answer = probe(hosts, connection(key, "203.0.113.21", dialErrorLimit=2))
    assert answer["error"] == "after 2 failed attempts: dial tcp 203.0.113.21:22: connect: connection refused"
    assert len(answer["statuses"]) == 2


def test_a_limit_of_minus_one_waits_for_a_server_that_starts_late(lab):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", key.with_suffix(".pub").read_text(), start_after_s=4)
    answer = probe(hosts, connection(key, host.address, host.host_key, dialErrorLimit=-1))
    assert answer.get("stdout") == "answered", answer
    assert answer["statuses"] and all(text.endswith("/inf failed: retrying") for _, text in answer["statuses"])


def test_the_per_dial_timeout_bounds_the_tcp_connect(lab):
    hosts, key = lab
    hosts.lab.add_host("cp-1", "203.0.113.21")
    # The host drops every packet to port 22 (its own namespace's firewall): a connect never completes.
    hosts.lab.run("cp-1", "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP")
    answer = probe(hosts, connection(key, "203.0.113.21", dialErrorLimit=1, perDialTimeout=2))
    assert answer["error"] == "after 1 failed attempts: dial tcp 203.0.113.21:22: i/o timeout"
    assert 4 <= answer["elapsed"] < 10, "two connects of 2 s each"


def test_the_per_dial_timeout_does_not_bound_a_handshake_that_stalls(lab, tmp_path):
    hosts, key = lab
    hosts.lab.add_host("cp-1", "203.0.113.21")
    # Accepts connections and never says a word: upstream's handshake has no timeout.
    silent = hosts.lab.start("cp-1", sys.executable, "-c", "import socket, time\n"
                             "s = socket.create_server(('203.0.113.21', 22)); c = s.accept(); time.sleep(600)",
                             log=tmp_path / "silent.log")
    assert netns.wait_until(lambda: "203.0.113.21:22" in hosts.lab.run("cp-1", "ss", "-ltn").stdout, 10)
    with pytest.raises(subprocess.TimeoutExpired):
        probe(hosts, connection(key, "203.0.113.21", dialErrorLimit=0, perDialTimeout=1), timeout=8)
    hosts.lab.stop(silent)


def test_settings_that_do_not_parse_fail_before_any_dial(lab):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", key.with_suffix(".pub").read_text())
    answer = probe(hosts, connection(key, host.address, "ssh-ed25519 bm90IGEga2V5"))
    assert answer["error"] == "failed to parse host key: ssh: no key found" and answer["statuses"] == []
    assert host.connections() == 0


def test_a_failed_command_says_upstreams_words_with_its_output(lab):
    hosts, key = lab
    host = hosts.add("cp-1", "203.0.113.21", key.with_suffix(".pub").read_text())
    answer = probe(hosts, connection(key, host.address, host.host_key), "echo out; echo err >&2; exit 3")
    assert answer["error"] == 'Process exited with status 3: running "echo out; echo err >&2; exit 3":\nout\nerr\n'


def through(key, bastion, target_address: str, target_key: str | None, limit: int = 2) -> dict:
    return connection(key, target_address, target_key, dialErrorLimit=limit,
                      proxy={"host": bastion.address, "privateKey": key.read_text(), "hostKey": bastion.host_key,
                             "user": "root", "port": 22, "dialErrorLimit": limit, "perDialTimeout": 15})


def test_through_a_bastion_each_hop_has_its_own_loop_and_errors_say_proxy(lab, tmp_path):
    hosts, key = lab
    public = key.with_suffix(".pub").read_text()
    bastion = hosts.add("bastion", "203.0.113.5", public)
    host = hosts.add("cp-1", "203.0.113.21", public)
    answer = probe(hosts, through(key, bastion, host.address, host.host_key))
    assert answer.get("stdout") == "answered", answer
    hosts.lab.add_host("cp-2", "203.0.113.22")  # no SSH server behind the bastion
    answer = probe(hosts, through(key, bastion, "203.0.113.22", None))
    assert answer["error"] == "proxy: after 2 failed attempts: ssh: rejected: connect failed (Connection refused)"
    # A wrong host key behind the bastion: the first handshake closes the channel, the retries meet its end.
    other = hosts.add("cp-3", "203.0.113.23", public)
    answer = probe(hosts, through(key, bastion, host.address, other.host_key))
    assert answer["error"] == f"proxy: after 2 failed attempts: {remote_connection.HANDSHAKE_EOF}"
    assert host.connections() == 2, "the first command, then one handshake: the retries never reach the host"
    stopped = {**through(key, bastion, host.address, host.host_key), "proxy": {
        **through(key, bastion, host.address, host.host_key)["proxy"], "host": "203.0.113.9"}}
    hosts.lab.add_host("gone", "203.0.113.9")
    answer = probe(hosts, stopped)
    assert answer["error"] == "proxy: after 2 failed attempts: dial tcp 203.0.113.9:22: connect: connection refused"
