"""Test machines that are real Linux hosts to the program: systemd-nspawn machines booted with systemd as PID 1 and
sshd, each on its own root (an overlay over the cached Debian base, tests/realnodes/tools.py) and in its own network
namespace, wired to a lab bridge in a lab namespace that has no route out.

    with LabNetwork("ha") as lab:
        m1 = lab.machine("cp-1", "198.51.100.11", authorized_key)
        m1.boot()
        lab.run("ssh", ..., "root@198.51.100.11", "true")

The lab: namespace k8p<pid><tag>-lab, bridge br0 with 198.51.100.1/24 (the mirrors and the engine live there), no
default route, no NAT. A machine: namespace k8p<pid><tag>-<name> whose eth0 is the peer of a veth on br0, its address
on 198.51.100.0/24 and a default route to the lab (kubeadm and the kubelet pick the node address from the default
route); IP forwarding and bridged-traffic filtering on in its namespace (both are per namespace on this kernel).
Nothing is ever added to this machine's own network namespace.

What the sandbox needs that a real host would not (real-nodes.md, the research that found each):
- this host's PID 1 is not systemd: nspawn runs with --register=no --keep-unit, in a cgroup of its own per machine
  in every v1 hierarchy (else the machines' kubelets would manage one shared kubepods tree);
- nspawn mounts the cgroup v1 controllers read-only: a unit in the machine (lab-cgroup-rw) remounts them writable
  before containerd and the kubelet start;
- /proc/sys is read-only in the machine but for net.*: a kubelet drop-in (lab-sysctls) binds files holding the
  values the kubelet wants over the few kernel and vm entries it would write (the host's values never change);
- the kubelet needs /dev/kmsg (bound in); containerd's overlay snapshotter cannot sit on an overlay root, so
  /var/lib/containerd is a folder of the host bound in.
Everything a machine starts runs under its nspawn process; stop() ends it by process id, then unmounts, deletes
the namespace, the cgroups and the folders, whatever happened before.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests import netns
from tests.realnodes.cgroups import own_cgroups, remove_cgroup

LAB_ADDRESS = "198.51.100.1"
PREFIX = 24
BOOT_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
# The kubelet writes these when they differ (pkg/kubelet/cm: setupKernelTunables, protectKernelDefaults false).
KUBELET_SYSCTLS = {"vm/overcommit_memory": "1", "vm/panic_on_oom": "0", "kernel/panic": "10",
                   "kernel/panic_on_oops": "1", "kernel/keys/root_maxkeys": "1000000",
                   "kernel/keys/root_maxbytes": "25000000"}

CGROUP_RW_UNIT = """[Unit]
Description=Lab: cgroup v1 controllers writable (nspawn mounts them read-only)
DefaultDependencies=no
Before=containerd.service kubelet.service
After=local-fs.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/lab-cgroup-rw

[Install]
WantedBy=sysinit.target
"""
CGROUP_RW_PROGRAM = """#!/bin/sh
# Lab machine (tests/realnodes/machines.py): the v1 controllers nspawn mounted read-only, writable; / shared, as on a
# host that systemd booted.
for controller in /sys/fs/cgroup/*/; do
  case $controller in */unified/ | */systemd/) continue ;; esac
  mount -o remount,bind,rw "$controller" || true
done
mount --make-rshared /
"""
SYSCTLS_DROPIN = """[Service]
ExecStartPre=/usr/local/sbin/lab-sysctls
"""


def _sysctls_program() -> str:
    lines = ["#!/bin/sh", "# Lab machine (tests/realnodes/machines.py): /proc/sys is read-only here but for net.*; the",
             "# entries the kubelet would write get a file holding its value bound over them (this machine only).",
             "mkdir -p /run/lab-sysctls"]
    for key, value in KUBELET_SYSCTLS.items():
        path = f"/proc/sys/{key}"
        copy = f"/run/lab-sysctls/{key.replace('/', '.')}"
        lines.append(f'[ "$(cat {path})" = {value} ] || {{ echo {value} >{copy}; mount --bind {copy} {path}; }}')
    return "\n".join(lines) + "\n"


def _run(*command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=timeout)


@dataclass
class Machine:
    lab: "LabNetwork"
    name: str
    address: str
    directory: Path
    authorized_key: str
    process: subprocess.Popen | None = None
    cgroups: list[Path] = field(default_factory=list)
    host_key: str = ""  # "ssh-ed25519 AAAA...", as an inventory pins it

    @property
    def namespace(self) -> str:
        return f"{self.lab.prefix}-{self.name}"

    @property
    def root(self) -> Path:
        return self.directory / "root"

    def _network(self) -> None:
        _run("ip", "netns", "add", self.namespace)
        self.lab.namespaces.append(self.namespace)
        port = f"v{len(self.lab.machines)}"
        _run("ip", "-n", self.lab.namespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
             self.namespace)
        self.lab.exec("ip", "link", "set", port, "master", "br0")
        self.lab.exec("ip", "link", "set", port, "up")
        inside = ["ip", "netns", "exec", self.namespace]
        for command in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{self.address}/{PREFIX}", "dev", "eth0"],
                        ["ip", "link", "set", "eth0", "up"], ["ip", "route", "add", "default", "via", LAB_ADDRESS],
                        ["sysctl", "-qw", "net.ipv4.ip_forward=1"],
                        ["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"]):
            _run(*inside, *command)

    def _root(self, base: Path, files: dict[str, str | bytes]) -> None:
        for folder in ("upper", "work", "root", "containerd"):
            (self.directory / folder).mkdir(parents=True, exist_ok=True)
        _run("mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={base},upperdir={self.directory / 'upper'},workdir={self.directory / 'work'}", str(self.root))
        self.lab.mounts.append(self.root)
        root = self.root
        (root / "etc/hostname").write_text(f"{self.name}\n")
        (root / "etc/hosts").write_text(f"127.0.0.1 localhost\n{self.address} {self.name}\n")
        # Its own machine id (nspawn would give every machine the same one; the program refuses clones).
        (root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        (root / "etc/resolv.conf").unlink(missing_ok=True)
        (root / "etc/resolv.conf").write_text(f"nameserver {LAB_ADDRESS}\n")
        for old in (root / "etc/ssh").glob("ssh_host_*"):
            old.unlink()
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.name, "-f",
             str(root / "etc/ssh/ssh_host_ed25519_key"))
        public = (root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        self.host_key = f"{public[0]} {public[1]}"
        ssh = root / "root/.ssh"
        ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
        (ssh / "authorized_keys").write_text(self.authorized_key.strip() + "\n")
        (ssh / "authorized_keys").chmod(0o600)
        sbin = root / "usr/local/sbin"
        sbin.mkdir(parents=True, exist_ok=True)
        for name, text in (("lab-cgroup-rw", CGROUP_RW_PROGRAM), ("lab-sysctls", _sysctls_program())):
            (sbin / name).write_text(text)
            (sbin / name).chmod(0o755)
        units = root / "etc/systemd/system"
        (units / "lab-cgroup-rw.service").write_text(CGROUP_RW_UNIT)
        wants = units / "sysinit.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        (wants / "lab-cgroup-rw.service").symlink_to("/etc/systemd/system/lab-cgroup-rw.service")
        (units / "kubelet.service.d").mkdir(parents=True, exist_ok=True)
        (units / "kubelet.service.d/05-lab-sysctls.conf").write_text(SYSCTLS_DROPIN)
        # The network comes from outside and the clock is the host's. No console login, no login sessions: every
        # inotify instance counts against one per-user limit of this host (fs.inotify.max_user_instances, 128 for
        # root), which the machines share with everything else; eight machines of a cluster need most of it.
        for unit in ("systemd-networkd-wait-online.service", "systemd-resolved.service",
                     "systemd-timesyncd.service", "console-getty.service", "systemd-logind.service"):
            (units / unit).unlink(missing_ok=True)
            (units / unit).symlink_to("/dev/null")
        for path, content in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())

    def _cgroups(self) -> None:
        """A cgroup of its own in every v1 hierarchy, below this process's (cpuset needs its cpus and mems)."""
        for mount, own in own_cgroups().items():
            folder = own / self.lab.prefix / self.name
            for level in (folder.parent, folder):
                level.mkdir(exist_ok=True)
                if mount.name == "cpuset":
                    for knob in ("cpuset.cpus", "cpuset.mems"):
                        (level / knob).write_text((level.parent / knob).read_text())
            self.cgroups.append(folder)

    def boot(self, base: Path, files: dict[str, str | bytes] | None = None) -> None:
        """`files`: more of the machine's own configuration (path in its root -> content), written before it boots."""
        self._network()
        self._root(base, files or {})
        self._cgroups()
        enter = " ".join(f"echo $$ >{shlex.quote(str(folder / 'cgroup.procs'))};" for folder in self.cgroups)
        nspawn = ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", f"--machine={self.name}",
                  f"--directory={self.root}", f"--network-namespace-path=/run/netns/{self.namespace}",
                  "--capability=all", "--drop-capability=CAP_SYS_MODULE", "--resolv-conf=off", "--timezone=off",
                  "--link-journal=no", f"--bind={self.directory / 'containerd'}:/var/lib/containerd",
                  "--bind=/dev/kmsg"]
        log = (self.directory / "console.log").open("ab")
        self.process = subprocess.Popen(["sh", "-c", f"{enter} exec {shlex.join(nspawn)}"], stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                        env={**os.environ, "SYSTEMD_SECCOMP": "0"})
        waited = netns.wait_until(self.answers, BOOT_TIMEOUT_S, 0.5)
        if waited is None:
            raise AssertionError(f"machine {self.name} did not answer over SSH within {BOOT_TIMEOUT_S} s:\n"
                                 + (self.directory / "console.log").read_text(errors="replace")[-3000:])

    def answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"machine {self.name} stopped while booting:\n"
                                 + (self.directory / "console.log").read_text(errors="replace")[-3000:])
        probe = self.lab.exec("bash", "-c", f"exec 3<>/dev/tcp/{self.address}/22", check=False)
        return probe.returncode == 0

    def ssh(self, command: str, key: Path, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run(["ip", "netns", "exec", self.lab.namespace, "ssh", "-F", "/dev/null", "-i", str(key),
                               "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o",
                               "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"root@{self.address}",
                               command], capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"on {self.name}: {command}\n{done.stdout}{done.stderr}")
        return done

    def power_off(self) -> None:
        """Stops the machine as a power button would: systemd shuts it down (SIGTERM to nspawn)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def remove(self) -> None:
        """Powers off, then takes away everything the machine had: its root, its cgroups, its folders."""
        self.power_off()
        if self.root in self.lab.mounts:
            if _run("umount", str(self.root), check=False).returncode != 0:
                _run("umount", "-l", str(self.root), check=False)
            self.lab.mounts.remove(self.root)
        for folder in self.cgroups:
            remove_cgroup(folder)
            with contextlib.suppress(OSError):
                folder.parent.rmdir()  # the lab's level, once its last machine is gone
        self.cgroups.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


class LabNetwork:
    def __init__(self, directory: Path, tag: str, base: Path):
        netns.require()
        self.directory, self.base = directory, base
        self.prefix = f"k8p{os.getpid()}{tag}"
        self.namespace = f"{self.prefix}-lab"
        self.namespaces: list[str] = []
        self.mounts: list[Path] = []
        self.machines: dict[str, Machine] = {}
        self.processes: list[subprocess.Popen] = []
        _run("ip", "netns", "add", self.namespace)
        self.namespaces.append(self.namespace)
        for command in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "br0", "type", "bridge"],
                        ["ip", "addr", "add", f"{LAB_ADDRESS}/{PREFIX}", "dev", "br0"],
                        ["ip", "link", "set", "br0", "up"]):
            self.exec(*command)

    def exec(self, *command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return _run("ip", "netns", "exec", self.namespace, *command, check=check, timeout=timeout)

    def start(self, *command: str, log: Path) -> subprocess.Popen:
        """A process in the lab namespace (a mirror), stopped by close()."""
        process = subprocess.Popen(["ip", "netns", "exec", self.namespace, *command], stdout=log.open("ab"),
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.processes.append(process)
        return process

    def add_address(self, address: str) -> None:
        """Another address of the lab on br0 (a service the machines reach, a test's client)."""
        netns.check_test_address(address)
        self.exec("ip", "addr", "add", f"{address}/{PREFIX}", "dev", "br0")

    def machine(self, name: str, address: str, authorized_key: str) -> Machine:
        netns.check_test_address(address)
        assert ipaddress.IPv4Address(address) in ipaddress.IPv4Network(f"{LAB_ADDRESS}/{PREFIX}", strict=False)
        made = Machine(self, name, address, self.directory / name, authorized_key)
        self.machines[name] = made
        return made

    def close(self) -> None:
        for made in reversed(list(self.machines.values())):
            with contextlib.suppress(Exception):
                made.remove()
        for process in reversed(self.processes):
            netns.stop_group(process, 10)
        for mount in reversed(self.mounts):
            _run("umount", "-l", str(mount), check=False)
        for namespace in reversed(self.namespaces):
            _run("ip", "netns", "del", namespace, check=False)
        self.namespaces.clear()

    def __enter__(self) -> "LabNetwork":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def wait_for(condition, timeout: float, interval: float = 1.0, what: str = "") -> float:
    """Seconds until `condition()` held; fails naming `what` after `timeout` seconds."""
    started = time.monotonic()
    waited = netns.wait_until(condition, timeout, interval)
    assert waited is not None, f"not within {timeout} s: {what}"
    return time.monotonic() - started
