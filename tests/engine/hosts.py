"""Test hosts for `pulumi up`: one network namespace per host (203.0.113.0/24), each running a real OpenSSH server
that accepts the stack's key, and a namespace for the engine itself, all on one bridge (tests/netns.py).

What a host runs is confined to its own directory: sshd's ForceCommand (host/confined-shell.sh) puts the host's
stub system commands (tests/sandbox.py) first on PATH, and its `sudo` (host/sudo.sh) points the step's ROOT input
at the host's sandbox root and records every call. Nothing outside the test's directory and namespaces changes:
sshd runs in a mount namespace of its own with the test's directory bound over /run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import signal
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests import netns
from tests.sandbox import Sandbox

HOST_FILES = Path(__file__).resolve().parent / "host"
ENGINE_ADDRESS = "203.0.113.2"
SSHD_START_TIMEOUT_S = 20
# What the machine running Pulumi reads over SSH at every preview and update (bootstrap/certificate_renewal.py):
# the read's step name, and the commands it runs (they change nothing).
READS = ("certificates-check", "credentials-read")
READ_CALLS = ("kubeadm certs check-expiration", "kubectl --kubeconfig {root}/etc/kubernetes/admin.conf get nodes -o "
              "jsonpath={{range .items[*]}}{{.metadata.name}}{{\"|\"}}{{.metadata.annotations.k8s-platform")
# What the stub `kubeadm init` leaves as admin.conf on an engine host: a kubeconfig (the program reads it back).
ADMIN_CONF = ("apiVersion: v1\nkind: Config\nclusters:\n- name: kubernetes\n  cluster:\n"
              "    server: https://127.0.0.1:6443\n    certificate-authority-data: Q0E=\n"
              "users:\n- name: kubernetes-admin\n  user:\n    client-key-data: S0VZ\n"
              "contexts:\n- name: admin\n  context: {cluster: kubernetes, user: kubernetes-admin}\n"
              "current-context: admin\n")


def ssh_key(path: Path, comment: str = "test") -> Path:
    """A new ed25519 key pair at `path` (and `path`.pub), without a passphrase."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path


@contextlib.contextmanager
def ssh_lab(directory: Path, tag: str):
    """(EngineHosts, a key for them) in `directory`; everything stopped and removed afterwards."""
    netns.require()
    key = ssh_key(directory / "id_ed25519", tag)
    hosts = EngineHosts(directory / "hosts", tag)
    try:
        yield hosts, key
    finally:
        hosts.close()


@dataclass
class EngineHost:
    name: str
    address: str
    directory: Path
    sandbox: Sandbox
    host_key: str  # "ssh-ed25519 AAAA...", as the inventory pins it
    harness_connections: int = 0  # the harness's own, made while it waited for the server to answer

    def steps(self) -> list[tuple[float, str, str, str]]:
        """(time, start|end, step name, status) of every step the host ran, in order."""
        path = self.directory / "steps.log"
        rows = [line.split() for line in path.read_text().splitlines()] if path.exists() else []
        return [(float(r[0]), r[1], r[2], r[4] if len(r) > 4 else "") for r in rows]

    def step_names(self) -> list[str]:
        """The steps the host ran, without the reads every preview and update makes (READS: they change nothing)."""
        return [name for _, event, name, _ in self.steps() if event == "start" and name not in READS]

    def step_calls(self) -> list[str]:
        """The stub commands the host's steps ran, without the reads'."""
        reads = tuple(call.format(root=self.sandbox.root) for call in READ_CALLS)
        return [c for c in self.sandbox.calls() if not c.startswith(reads)]

    def reads(self) -> int:
        return sum(1 for _, event, name, _ in self.steps() if event == "start" and name in READS)

    def connections(self) -> int:
        """How many TCP connections its sshd accepted from others than the harness (sshd logs each at LogLevel
        VERBOSE)."""
        return (self.directory / "sshd.log").read_text().count("Connection from ") - self.harness_connections

    def command_lines(self) -> str:
        path = self.directory / "command-lines.log"
        return path.read_text() if path.exists() else ""


class EngineHosts:
    def __init__(self, directory: Path, tag: str):
        self.directory = directory
        self.lab = netns.Lab(tag)
        self.hosts: dict[str, EngineHost] = {}
        self.lab.add_host("engine", ENGINE_ADDRESS)

    @property
    def engine_namespace(self) -> str:
        return self.lab.ns("engine")

    def add(self, name: str, address: str, authorized_key: str, start_after_s: float = 0) -> EngineHost:
        """A host whose sshd answers at `address`; with `start_after_s`, only that long after this returns (a
        machine still booting: connections are refused until then)."""
        base = self.directory / name
        sandbox = Sandbox(base)
        for sub in ("home", "run/sshd", "ssh"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        (base / "run/sshd").chmod(0o755)
        # Distinct machines: the identity check refuses clones.
        (sandbox.root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        (sandbox.state / "hostname").write_text(f"{name}\n")
        kubeadm = sandbox.bin / "kubeadm"
        kubeadm.write_text(kubeadm.read_text().replace(
            'echo admin >"$R/etc/kubernetes/admin.conf"',
            f'printf %s {shlex.quote(ADMIN_CONF)} >"$R/etc/kubernetes/admin.conf"'))
        shutil.copy(HOST_FILES / "sudo.sh", sandbox.bin / "sudo")
        (sandbox.bin / "sudo").chmod(0o755)
        # sshd runs the steps as root here, but the host acts as a login that is not root: every step goes through
        # the confined sudo above (the program runs `bash -s` directly for root, through sudo otherwise).
        (sandbox.bin / "id").write_text('#!/bin/sh\n[ "$1" = -u ] && { echo 1000; exit 0; }\nexec /usr/bin/id "$@"\n')
        (sandbox.bin / "id").chmod(0o755)
        key_file = base / "ssh" / "ssh_host_ed25519_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key_file)], check=True)
        (base / "ssh" / "authorized_keys").write_text(authorized_key.strip() + "\n")
        (base / "ssh" / "sshd_config").write_text("\n".join([
            f"ListenAddress {address}", "Port 22", f"HostKey {key_file}", f"PidFile {base / 'run' / 'sshd.pid'}",
            f"AuthorizedKeysFile {base / 'ssh' / 'authorized_keys'}", "PermitRootLogin prohibit-password",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
            "PrintMotd no", "PrintLastLog no", "LogLevel VERBOSE",  # VERBOSE: a line per connection
            f"ForceCommand /usr/bin/env bash {HOST_FILES / 'confined-shell.sh'} {base}", "",
        ]))
        self.lab.add_host(name, address)
        self.lab.start(name, "unshare", "--mount", "--propagation", "private", "sh", "-c",
                       'sleep "$2" && mount --bind "$1/run" /run && exec /usr/sbin/sshd -D -e -f "$1/ssh/sshd_config"',
                       "sh", str(base), str(start_after_s), log=base / "sshd.log")
        if not start_after_s:
            waited = netns.wait_until(lambda: self._answers(address), SSHD_START_TIMEOUT_S, 0.2)
            assert waited is not None, f"sshd of {name} did not answer:\n{(base / 'sshd.log').read_text()}"
        public = (key_file.with_suffix(".pub")).read_text().split()
        host = EngineHost(name, address, base, sandbox, f"{public[0]} {public[1]}")
        if not start_after_s:  # the probe that saw it answer is logged a moment later
            netns.wait_until(lambda: host.connections() >= 1, 5, 0.05)
            host.harness_connections = host.connections()
        self.hosts[name] = host
        return host

    def register_nodes(self) -> None:
        """Every host's stub kubectl sees every host as a Node, with the kubelet that host has installed: one
        cluster, so a Node deleted or annotated through one host is so for all (their node folders, and the folders
        of the identities their joins record, are one folder each)."""
        hosts = list(self.hosts.values())
        for kind in ("nodes", "identity", "notready"):
            shared = hosts[0].sandbox.state / kind
            shared.mkdir(exist_ok=True)
            for host in hosts[1:]:
                folder = host.sandbox.state / kind
                if folder.exists():
                    for entry in folder.iterdir():
                        entry.unlink()
                    folder.rmdir()
                folder.symlink_to(shared, target_is_directory=True)
        for other in hosts:
            (hosts[0].sandbox.state / "nodes" / other.name).write_text(str(other.sandbox.state))

    def reimage(self, name: str) -> EngineHost:
        """Host `name` installed afresh under the same name and address: no Kubernetes files or packages, a new
        machine-id and a new SSH host key (sshd re-reads its keys on SIGHUP). The cluster still has its Node, NotReady
        now that its kubelet is gone."""
        host = self.hosts[name]
        box = host.sandbox
        shutil.rmtree(box.root / "etc/kubernetes", ignore_errors=True)
        for kind in ("pkgs", "held", "active", "enabled"):
            for entry in (box.state / kind).iterdir():
                entry.unlink()
        (box.root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        (box.state / "notready" / name).touch()
        key_file = host.directory / "ssh" / "ssh_host_ed25519_key"
        key_file.unlink()
        key_file.with_suffix(".pub").unlink()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key_file)], check=True)
        os.kill(int((host.directory / "run" / "sshd.pid").read_text()), signal.SIGHUP)
        public = key_file.with_suffix(".pub").read_text().split()
        host.host_key = f"{public[0]} {public[1]}"
        waited = netns.wait_until(lambda: self._answers_with(host), SSHD_START_TIMEOUT_S, 0.2)
        assert waited is not None, f"sshd of {name} did not come back:\n{(host.directory / 'sshd.log').read_text()}"
        return host

    def stop(self, name: str) -> None:
        """Host `name` lost: its sshd stops (its files stay), so every SSH dial to it is refused."""
        host = self.hosts[name]
        os.kill(int((host.directory / "run" / "sshd.pid").read_text()), signal.SIGTERM)
        gone = netns.wait_until(lambda: not self._answers(host.address), SSHD_START_TIMEOUT_S, 0.2)
        assert gone is not None, f"sshd of {name} still answers"

    def _answers_with(self, host: EngineHost) -> bool:
        """sshd at host's address offers host's (new) key."""
        probe = self.lab.exec(self.engine_namespace, "ssh-keyscan", "-T", "2", "-t", "ed25519", host.address,
                              check=False)
        return host.host_key.split()[1] in probe.stdout

    def _answers(self, address: str) -> bool:
        probe = self.lab.exec(self.engine_namespace, "bash", "-c", f"exec 3<>/dev/tcp/{address}/22", check=False)
        return probe.returncode == 0

    def close(self) -> None:
        self.lab.close()
