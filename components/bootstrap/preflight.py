"""What the preflight checks on each host, and the comparison of host identities across hosts. Pure.

A host's own facts (CPUs, memory, disk, OS, clock, ports) are checked on the host by scripts/preflight.sh; what
no single host can know, that it is the only one with its machine id, is checked here from every host's report.
"""

from __future__ import annotations

import json

from components import sizing, versions
from components.host import CONTROL_PLANE, WORKER, Host
from components.remote import host_scripts

# Firmware, the kernel and the filesystem take part of the nominal memory and disk size.
TOLERANCE_PERCENT = 10
DATA_PATH = "/var/lib"
CLOCK_WAIT_SECONDS = 60
# Ports each role's components listen on, with the process name `ss` shows for them (the kernel keeps 15
# characters: kube-controller-manager shows as kube-controller).
ROLE_PORTS = {
    CONTROL_PLANE: ((6443, "kube-apiserver"), (2379, "etcd"), (2380, "etcd"), (10250, "kubelet"),
                    (10257, "kube-controller"), (10259, "kube-scheduler")),
    WORKER: ((10250, "kubelet"), (10256, "kube-proxy")),
}
LOAD_BALANCER_OWNER = "haproxy"


def required_ports(host: Host, load_balancer_port: int | None) -> list[tuple[int, str]]:
    ports = list(ROLE_PORTS.get(host.role, ()))
    if load_balancer_port is not None:
        ports.append((load_balancer_port, LOAD_BALANCER_OWNER))
    return sorted(set(ports))


def script(host: Host, tier: str, load_balancer_port: int | None = None, container_host: bool = False) -> str:
    """`container_host`: the host is a container (hostSystem.containers): its clock and product UUID are its
    machine's."""
    minimum = sizing.tier_minimum(tier, host.role)
    return host_scripts.render("preflight.sh", {
        "HOST_NAME": host.name,
        "ROLE": host.role,
        "TIER": tier,
        "MIN_VCPU": minimum.vcpu,
        "MIN_MEMORY_GIB": minimum.memory_gib,
        "MIN_DISK_GIB": minimum.disk_gib,
        "DECLARED_VCPU": host.capacity.vcpu,
        "DECLARED_MEMORY_GIB": host.capacity.memory_gib,
        "DECLARED_DISK_GIB": host.capacity.disk_gib,
        "TOLERANCE_PERCENT": TOLERANCE_PERCENT,
        "SUPPORTED_OS": " ".join(f"{os_id}:{version}" for os_id, version in versions.SUPPORTED_OS),
        "REQUIRED_PORTS": " ".join(f"{port}:{owner}" for port, owner in required_ports(host, load_balancer_port)),
        "DATA_PATH": DATA_PATH,
        "CLOCK_WAIT_SECONDS": CLOCK_WAIT_SECONDS,
        "CONTAINER_HOST": "yes" if container_host else "no",
    })


def identity(stdout: str) -> dict[str, str]:
    """The JSON identity the preflight prints as its last line (with whether the host has been a cluster member)."""
    return json.loads(stdout.strip().splitlines()[-1])


class IdentityLedger:
    """The identities of the hosts admitted so far, indexed so that each new host is compared in constant time.

    Problems of a host are those against the hosts admitted before it: a shared machine id or product UUID (cloned
    machines: systemd, DHCP and kubelet mistake them for one another), or a current hostname that is another
    host's name in the inventory (until that host is renamed, two machines answer to one node name). Checking each
    host only against the hosts before it finds every duplicate pair once, and adding a host at the end of the
    inventory changes nothing for the hosts already there. A ledger is filled in inventory order by one chain of
    outputs (host_preflight.py), each link owning it after the one before."""

    _KEYS = (("machineId", "/etc/machine-id"), ("productUuid", "product UUID"))

    def __init__(self) -> None:
        self._holders: dict[tuple[str, str], list[str]] = {}  # (key, value) -> hosts reporting it
        self._names: set[str] = set()  # inventory names admitted
        self._hostnames: dict[str, list[str]] = {}  # current hostname -> hosts reporting it

    def admit(self, report: dict[str, str]) -> list[str]:
        host, problems = report["host"], []
        for key, what in self._KEYS:
            value = report.get(key, "")
            twins = self._holders.get((key, value), []) if value else []
            if twins:
                problems.append(f"{host}: {what} {value} is also the one of {', '.join(twins)}; regenerate it "
                                f"(cloned machine)")
        current = report.get("hostname", "")
        if current != host and current in self._names:
            problems.append(f"{host}: its hostname is {current!r}, the inventory name of another host")
        for other in self._hostnames.get(host, []):
            if other != host:
                problems.append(f"{other}: its hostname is {host!r}, the inventory name of another host")
        for key, _ in self._KEYS:
            if report.get(key, ""):
                self._holders.setdefault((key, report[key]), []).append(host)
        self._names.add(host)
        if current:
            self._hostnames.setdefault(current, []).append(host)
        return problems


def identity_problems(reports: list[dict[str, str]]) -> list[str]:
    """Problems of the last report against the ones before it (see IdentityLedger)."""
    ledger = IdentityLedger()
    problems: list[str] = []
    for report in reports:
        problems = ledger.admit(report)
    return problems
