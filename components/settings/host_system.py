"""`hostSystem`: hosts that differ from a machine booted on its own hardware or VM with cgroup v2. Pure.

    hostSystem:
      cgroupV1: true          # the hosts still run cgroup v1 (RHEL 8, older Ubuntu LTS kernels booted so)
      containers: true        # the hosts are containers themselves, as kind's nodes are (systemd-nspawn, LXD, Docker)
      ignorePreflightErrors: [NumCPU]   # kubeadm preflight checks whose errors are let pass, by name

Each relaxes what a production node must be, so the policy pack refuses them in prod (host-system):
- cgroupV1: the kubelet's `failCgroupV1: false` (from 1.35 the kubelet refuses cgroup v1 unless told; v1 is in
  maintenance upstream) and kubeadm's SystemVerification preflight check, which fails on v1, let pass;
- containers: the host's kernel is shared, so nothing global is changed from a node: containerd's
  `restrict_oom_score_adj` (a container cannot lower an OOM score below its own), kube-proxy leaves the kernel's
  conntrack table size alone (a global sysctl), and the clock is the host's (no time service is installed);
- ignorePreflightErrors: kubeadm's names (Swap, NumCPU, Mem, FileContent--proc-sys-net-bridge-bridge-nf-call-
  iptables, ...); `all` is refused: it would hide every problem a preflight finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.settings.reader import Problems, Reader, join, shown

_CHECK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,127}")
CGROUP_V1_PREFLIGHT = "SystemVerification"  # kubeadm's check that fails on cgroup v1 (with failCgroupV1 false)


@dataclass(frozen=True)
class HostSystemSettings:
    cgroup_v1: bool = False
    containers: bool = False
    ignore_preflight_errors: tuple[str, ...] = ()

    @property
    def ignored_preflight_errors(self) -> tuple[str, ...]:
        """What kubeadm is told to let pass: the settings' names, and SystemVerification on cgroup v1."""
        extra = (CGROUP_V1_PREFLIGHT,) if self.cgroup_v1 else ()
        return tuple(sorted(set(self.ignore_preflight_errors) | set(extra)))

    @property
    def relaxed(self) -> tuple[str, ...]:
        """The settings that relax what a node must be (for the policy pack)."""
        return tuple(name for name, on in (("cgroupV1", self.cgroup_v1), ("containers", self.containers),
                                           ("ignorePreflightErrors", bool(self.ignore_preflight_errors))) if on)


def read_host_system(value: Any, problems: Problems) -> HostSystemSettings:
    r = Reader({} if value is None else value, "hostSystem", problems,
               ["cgroupV1", "containers", "ignorePreflightErrors"])
    cgroup_v1 = r.boolean("cgroupV1", False)
    containers = r.boolean("containers", False)
    names = r.string_list("ignorePreflightErrors", [])
    checked: list[str] = []
    for index, name in enumerate(names or []):
        path = join(join("hostSystem", "ignorePreflightErrors"), index)
        if name.lower() == "all":
            problems.add(path, "'all' would let every preflight error pass; name the checks, such as NumCPU or Swap")
        elif not _CHECK_NAME.fullmatch(name):
            problems.add(path, f"must be the name of a kubeadm preflight check (letters, digits, '.', '_', '-'), "
                               f"got {shown(name)}")
        elif name in checked:
            problems.add(path, f"{name} is listed twice")
        else:
            checked.append(name)
    return HostSystemSettings(bool(cgroup_v1), bool(containers), tuple(checked))
