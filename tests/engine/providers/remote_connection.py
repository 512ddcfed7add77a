"""The remote Command's SSH connection, as the command stand-in makes it: upstream's dial rules over the OpenSSH
client.

Each rule follows pulumi-command v1.2.1, provider/pkg/provider/remote/connection.go (unchanged since that tag), and
what it calls: golang.org/x/crypto/ssh (v0.48.0) and the pulumi SDK's util/retry (v3.224.0).
- A dial is TCP connect, SSH handshake and authentication (x/crypto's ssh.Dial). Every failure of it is retried
  alike: refused or unanswered ports, a host key other than the pinned one, a key the host refuses.
- dialErrorLimit N allows N+1 attempts (the loop stops once more than N dials failed); -1, or anything below,
  retries without end. The final error is "after N failed attempts: <the last attempt's error>", N being the
  limit, not the number of attempts. Before each retry the provider reports "Dial k/N failed: retrying" as the
  resource's status.
- Between attempts it sleeps 100 ms, then 1.5 times longer each time, at most 5 s; nothing after the last one.
- perDialTimeout (seconds, 0 for none) bounds the TCP connect only (ClientConfig.Timeout feeds net.DialTimeout);
  the handshake and authentication have no timeout. Here tcp_dial.py connects and hands the socket to ssh.
- A pinned hostKey is the only key accepted (ssh.FixedHostKey), and the only host-key algorithm offered is its
  type; without one any key is accepted (InsecureIgnoreHostKey). Authentication is the private key alone.
- Errors in the settings themselves (a host key or private key that does not parse) fail before any dial.
- Through a proxy (bastion): three loops, each error prefixed "proxy: ": the bastion's dial (its own limit and
  timeout), the channel from the bastion to the host (the host's limit, no timeout), the host's handshake over
  that channel (the host's limit). The last loop retries on the channel its first failure closed, so its later
  attempts fail with "ssh: handshake failed: EOF" (x/crypto's NewClientConn closes the connection it was given).
  OpenSSH opens the channel and makes the handshake in one run here; a failure is sorted into loop 2 or 3 by what
  ssh reports.
- Once connected, the command runs in one session: a non-zero exit fails the step with "Process exited with
  status N: running \"COMMAND\":\n<stdout and stderr>" (commandOutputs.go, x/crypto's ExitError), whatever the
  logging setting says.
OpenSSH's texts are mapped onto x/crypto's; an unknown failure keeps ssh's own last line.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from tests.engine.providers.tcp_dial import DIAL_ERROR_MARK

SSH_FAILED = 255
FIRST_DELAY_S, BACKOFF, MAX_DELAY_S = 0.1, 1.5, 5.0
HOST_KEY_MISMATCH = "ssh: handshake failed: ssh: host key mismatch"
UNABLE_TO_AUTHENTICATE = ("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], "
                          "no supported methods remain")
HANDSHAKE_EOF = "ssh: handshake failed: EOF"
EXIT_MISSING = "wait: remote command exited without exit status or exit signal"


class CommandFailed(Exception):
    pass


class DialFailed(Exception):
    pass


def go_quote(text: str) -> str:
    """Go's %q of a string (printable characters as they are, the rest escaped)."""
    return json.dumps(text, ensure_ascii=False)


def retry_delays():
    """The sleeps between attempts: 100 ms, growing 1.5 times, capped at 5 s."""
    delay = FIRST_DELAY_S
    while True:
        yield min(delay, MAX_DELAY_S)
        delay *= BACKOFF


def dial_with_retry(what: str, limit: int, attempt: Callable[[int], str | None],
                    status: Callable[[str], None]) -> None:
    """Runs attempt(number) (None on success, else the error text) until it succeeds or more than `limit` attempts
    failed (limit < 0: no end); raises DialFailed("after N failed attempts: ...")."""
    delays = retry_delays()
    tries = 0
    while True:
        error = attempt(tries + 1)
        if error is None:
            return
        dials = tries + 1
        if limit > -1 and dials > limit:
            raise DialFailed(f"after {tries} failed attempts: {error}")
        status(f"{what} {dials}/{'inf' if limit == -1 else limit} failed: retrying")
        time.sleep(next(delays))
        tries += 1


def check_host_key(host_key: str) -> str:
    """The host key's type; a key that does not parse fails before any dial, as ssh.ParseAuthorizedKey does."""
    fields = host_key.split()
    try:
        kind, blob = fields[0], base64.b64decode(fields[1], validate=True)
        encoded_kind = blob[4:4 + int.from_bytes(blob[:4], "big")].decode()
    except (IndexError, ValueError, UnicodeDecodeError):
        raise DialFailed("failed to parse host key: ssh: no key found") from None
    if encoded_kind != kind:
        raise DialFailed("failed to parse host key: ssh: no key found")
    return kind


def handshake_error(stderr: str) -> str:
    """x/crypto's text for what OpenSSH reported of a failed dial."""
    for line in stderr.splitlines():
        if line.startswith(DIAL_ERROR_MARK):
            return line[len(DIAL_ERROR_MARK):]
    if "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        return HOST_KEY_MISMATCH
    if "Permission denied" in stderr:
        return UNABLE_TO_AUTHENTICATE
    if "no matching host key type found" in stderr:
        return "ssh: handshake failed: ssh: no common algorithm for host key"
    lines = [line for line in stderr.splitlines() if line.strip()]
    return f"ssh: handshake failed: {lines[-1] if lines else 'EOF'}"


def channel_error(stderr: str) -> str | None:
    """x/crypto's OpenChannelError text when the bastion refused to open the channel to the host, else None."""
    for line in stderr.splitlines():
        if "open failed:" in line:  # "channel 0: open failed: connect failed: Connection refused"
            reason = line.split("open failed:", 1)[1].strip()
            kind, _, message = reason.partition(":")
            return f"ssh: rejected: {kind.strip()} ({message.strip()})"
    return None


@dataclass
class Hop:
    host: str
    port: int
    user: str
    private_key: str
    host_key: str | None
    dial_error_limit: int
    per_dial_timeout: int

    @classmethod
    def of(cls, connection: dict) -> "Hop":
        return cls(connection["host"], int(connection["port"]), connection["user"],
                   connection.get("privateKey") or "", (connection.get("hostKey") or "").strip() or None,
                   int(connection["dialErrorLimit"]), int(connection["perDialTimeout"]))


class Session:
    """One SSH connection, dialled as upstream dials, then used for one command (a context manager)."""

    def __init__(self, connection: dict, workdir: str, status: Callable[[str], None]):
        self.target = Hop.of(connection)
        proxy = connection.get("proxy")
        self.proxy = Hop.of(proxy) if isinstance(proxy, dict) else None
        self.workdir, self.status = workdir, status
        self.masters: list[list[str]] = []
        self.control = os.path.join(workdir, "target.ctl")

    def _options(self, hop: Hop, label: str) -> list[str]:
        options = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes",
                   "-o", "IdentityAgent=none", "-o", "PreferredAuthentications=publickey", "-p", str(hop.port),
                   "-l", hop.user]
        if hop.private_key:
            key_file = os.path.join(self.workdir, f"{label}.key")
            with open(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
                handle.write(hop.private_key if hop.private_key.endswith("\n") else hop.private_key + "\n")
            if subprocess.run(["ssh-keygen", "-y", "-f", key_file], capture_output=True).returncode != 0:
                raise DialFailed("ssh: no key found")  # ssh.ParsePrivateKey, before any dial
            options += ["-i", key_file]
        if hop.host_key:
            kind = check_host_key(hop.host_key)
            known_hosts = os.path.join(self.workdir, f"{label}.known_hosts")
            name = hop.host if hop.port == 22 else f"[{hop.host}]:{hop.port}"
            with open(known_hosts, "w") as handle:
                handle.write(f"{name} {' '.join(hop.host_key.split()[:2])}\n")
            options += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
                        "-o", f"HostKeyAlgorithms={kind}"]
        else:
            options += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return options

    def _master(self, hop: Hop, label: str, proxy_command: str) -> list[str]:
        control = os.path.join(self.workdir, f"{label}.ctl")
        options = [*self._options(hop, label), "-o", f"ControlPath={control}", "-o", f"ProxyCommand={proxy_command}"]
        if "tcp_dial" in proxy_command:
            options += ["-o", "ProxyUseFdpass=yes"]
        return options

    def _start_master(self, options: list[str], hop: Hop) -> str | None:
        """ssh in the background once authenticated (-f -N): None, or what it reported. Its messages go to a file:
        a ProxyCommand it starts keeps a pipe open for as long as the connection lives."""
        messages = os.path.join(self.workdir, "dial.err")
        with open(messages, "wb") as errors:
            done = subprocess.run(["ssh", *options, "-o", "ControlMaster=yes", "-f", "-N", hop.host],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, timeout=3600)
        if done.returncode == 0:
            self.masters.append(options)
            return None
        with open(messages, "rb") as errors:
            return errors.read().decode(errors="replace")

    def _dial_command(self, hop: Hop) -> str:
        return " ".join([sys.executable, "-m", "tests.engine.providers.tcp_dial", "%h", "%p",
                         str(hop.per_dial_timeout)])

    def __enter__(self) -> "Session":
        try:
            if self.proxy is None:
                options = self._master(self.target, "target", self._dial_command(self.target))
                dial_with_retry("Dial", self.target.dial_error_limit,
                                lambda _: self._failed(self._start_master(options, self.target)), self.status)
            else:
                self._enter_through_proxy()
        except BaseException:
            self.close()
            raise
        return self

    def _failed(self, stderr: str | None) -> str | None:
        return None if stderr is None else handshake_error(stderr)

    def _enter_through_proxy(self) -> None:
        bastion = self._master(self.proxy, "proxy", self._dial_command(self.proxy))
        try:
            dial_with_retry("Dial proxy", self.proxy.dial_error_limit,
                            lambda _: self._failed(self._start_master(bastion, self.proxy)), self.status)
        except DialFailed as failure:
            raise DialFailed(f"proxy: {failure}") from None
        # The channel to the host: `ssh -W` over a connection of its own to the bastion (through the dialled one,
        # OpenSSH's multiplexing would hide why the bastion refused the channel).
        # LogLevel INFO: ssh tells why the bastion refused the channel only at that level.
        channel = [arg if arg != "LogLevel=ERROR" else "LogLevel=INFO" for arg in self._options(self.proxy, "proxy")]
        through = " ".join(shlex.quote(arg) for arg in ["ssh", *channel, "-W", "%h:%p", self.proxy.host])
        target = self._master(self.target, "target", through)
        handshake_failed = False

        def attempt(_: int) -> str | None:
            nonlocal handshake_failed
            if handshake_failed:  # the channel is closed: x/crypto writes its version line into it and gets EOF
                return HANDSHAKE_EOF
            stderr = self._start_master(target, self.target)
            if stderr is None:
                return None
            rejected = channel_error(stderr)
            if rejected is not None:
                return rejected
            handshake_failed = True
            return handshake_error(stderr)

        try:
            dial_with_retry("Dial", self.target.dial_error_limit, attempt, self.status)
        except DialFailed as failure:
            raise DialFailed(f"proxy: {failure}") from None

    def run(self, command: str, stdin: str, environment: dict[str, str]) -> tuple[str, str]:
        argv = ["ssh", "-F", "/dev/null", "-o", "LogLevel=ERROR", "-o", f"ControlPath={self.control}",
                "-o", "ControlMaster=no"]
        for name, value in sorted(environment.items()):
            argv += ["-o", f"SetEnv={name}={value}"]
        done = subprocess.run([*argv, self.target.host, command], input=stdin.encode() if stdin else None,
                              stdin=None if stdin else subprocess.DEVNULL, capture_output=True, timeout=3600)
        out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
        if done.returncode == SSH_FAILED and "Control socket" in err:
            raise CommandFailed(f"{EXIT_MISSING}: running {go_quote(command)}:\n{out}{err}")
        if done.returncode != 0:
            raise CommandFailed(f"Process exited with status {done.returncode}: running {go_quote(command)}:\n"
                                f"{out}{err}")
        return out.removesuffix("\n"), err.removesuffix("\n")

    def close(self) -> None:
        for options in reversed(self.masters):
            subprocess.run(["ssh", *options, "-O", "exit", "x"], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30)
        self.masters.clear()

    def __exit__(self, *exc) -> None:
        self.close()
