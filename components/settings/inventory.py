"""Bare-metal settings: the host inventory and the API load balancer (haproxy + keepalived). Pure: no Pulumi.

Read by `settings.load_settings` when `infrastructure` is `bareMetal`. Every problem is recorded with its key path
(`inventory.hosts[2].roles`) and what is accepted, like the rest of the settings.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from components import sizing
from components.host import CONTROL_PLANE, LOAD_BALANCER, WORKER, Taint
from components.settings.reader import REQUIRED, Problems, Reader, join, shown
from components.settings.rules import (MAX_DNS_LABEL, address, dns_label_rule, check_labels, is_dns_label, read_taints,
                                       special_address_problem, ssh_key_problem)
from components.settings.scalars import check_ssh_user
from components.sizing import NodeSize

HOST_ROLES = (CONTROL_PLANE, WORKER, LOAD_BALANCER)
LOAD_BALANCER_MODES = ("dedicated", "colocated")
DEFAULT_WORKER_POOL = "workers"
KUBE_API_PORT = 6443
# Ports a control plane's own components hold: a co-located haproxy must listen elsewhere.
CONTROL_PLANE_PORTS = (2379, 2380, 6443, 10250, 10257, 10259)
DEFAULT_COLOCATED_PORT = 8443
# haproxy's own health endpoint on every VIP holder (127.0.0.1), which keepalived polls.
LOAD_BALANCER_HEALTH_PORT = 8405
# keepalived priorities step down by 10 from 200 and a failed health check takes 100 off: with at most 8
# load balancers a failing one always ranks below every healthy one (lowest healthy: 130 > highest failed: 100).
MAX_LOAD_BALANCERS = 8
MAX_HOST_NAME = 40
# Stricter than a Node's name (a DNS subdomain: dots allowed, 253 characters), and said so in the error.
HOST_NAME_WHY = ("it becomes the node's name and the host's own name, and names each of the host's steps; no dots, "
                 "so that it stays one DNS label")
_INTERFACE = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.:]{0,14}")
_DNS_NAME_LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?")
MAX_DNS_NAME = 253
_HOST_KEYS = ("name", "address", "sshAddress", "sshUser", "sshPort", "hostKey", "bastion", "roles", "vcpu",
              "memoryGiB", "diskGiB", "labels", "taints", "vipInterface", "zone", "pool")


@dataclass(frozen=True)
class SshEndpoint:
    address: str
    user: str
    port: int = 22
    host_key: str | None = None  # pinned "<type> <base64>"; None: the key is not checked


@dataclass(frozen=True)
class InventoryHost:
    name: str
    address: str  # the cluster address: kubelet, etcd and haproxy backends use it
    ssh: SshEndpoint
    bastion: SshEndpoint | None
    roles: tuple[str, ...]
    capacity: NodeSize  # as declared; the preflight checks the real machine against it
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()
    vip_interface: str | None = None
    zone: str = ""  # a failure domain (rack, room): the node's topology.kubernetes.io/zone label
    pool: str = ""  # workers only
    index: int = 0  # the position in inventory.hosts, for messages

    @property
    def node_role(self) -> str | None:
        """The host's Kubernetes role, or None for a host that only balances the API."""
        return next((r for r in (CONTROL_PLANE, WORKER) if r in self.roles), None)

    @property
    def sizing_role(self) -> str:
        return sizing_role(self.roles)


def sizing_role(roles: tuple[str, ...]) -> str:
    """The role whose tier minimum applies: the node role, or load-balancer for a host that is no node."""
    return next((r for r in (CONTROL_PLANE, WORKER) if r in roles), LOAD_BALANCER)


@dataclass(frozen=True)
class LoadBalancerSettings:
    vip: str
    prefix_length: int  # of network.hostCidr: the VIP is added to the interface with it
    mode: str  # dedicated: load-balancer hosts; colocated: haproxy and keepalived on the control planes
    port: int  # where clients reach the API on the VIP
    virtual_router_id: int
    interface: str | None  # default for hosts that do not name their vipInterface


def read_load_balancer(value: Any, problems: Problems) -> tuple[str | None, str | None, int | None, int | None, str | None] | None:
    """vip, mode, port, virtual router id and interface, each None when invalid; checked against hosts later."""
    r = Reader(value, "loadBalancer", problems, ["vip", "mode", "port", "virtualRouterId", "interface"])
    vip = address(r.string("vip"), "loadBalancer.vip", problems)
    mode = r.choice("mode", LOAD_BALANCER_MODES, "dedicated")
    default_port = DEFAULT_COLOCATED_PORT if mode == "colocated" else KUBE_API_PORT
    port = r.integer("port", default_port, minimum=1, maximum=65535,
                     default_text=f"{KUBE_API_PORT}; {DEFAULT_COLOCATED_PORT} when mode is colocated")
    router_id = r.integer("virtualRouterId", 51, minimum=1, maximum=255)
    interface = r.string("interface", None)
    if interface is not None and not _INTERFACE.fullmatch(interface):
        problems.add("loadBalancer.interface", f"must be a network interface name such as eth0, got {interface!r}")
        interface = None
    if port in (22, LOAD_BALANCER_HEALTH_PORT):
        owner = "sshd" if port == 22 else "haproxy's own health check (keepalived polls it)"
        problems.add("loadBalancer.port", f"{port} is taken on every VIP holder by {owner}; choose another port "
                                          f"(default {default_port})")
        port = None
    elif mode == "colocated" and port in CONTROL_PLANE_PORTS:
        problems.add("loadBalancer.port", f"haproxy on the control planes cannot use {port}, a control-plane port "
                                          f"({', '.join(map(str, CONTROL_PLANE_PORTS))}); the default is "
                                          f"{DEFAULT_COLOCATED_PORT}")
    if not r.ok:
        return None
    return (None if vip is None else str(vip)), mode, port, router_id, interface


def ssh_address_problem(value: str) -> str:
    """Why an SSH address is neither a unicast IPv4 address nor a DNS name, or ""."""
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        labels = value.rstrip(".").split(".")
        if len(value) > MAX_DNS_NAME or not all(_DNS_NAME_LABEL.fullmatch(label) for label in labels):
            return "must be an IPv4 address or a DNS name"
        if labels[-1].isdigit():
            return "looks like an IPv4 address but is not one (a DNS name never ends in a number)"
        return ""
    why = special_address_problem(ip)
    return f"{ip} is {why}" if why else ""


def _read_endpoint(r: Reader, path: str, address_key: str, user_key: str, port_key: str, default_user: str,
                   default_address: Any, problems: Problems) -> SshEndpoint | None:
    """`default_address`: REQUIRED (a bastion), or the host's cluster address (None when that did not read)."""
    ssh_address = r.string(address_key, default_address,
                           default_text=None if default_address is REQUIRED else "the host's address")
    user = r.string(user_key, default_user, default_text="the value of sshUser")
    port = r.integer(port_key, 22, minimum=1, maximum=65535)
    host_key = r.string("hostKey", None)
    if ssh_address is not None and ssh_address_problem(ssh_address):
        problems.add(join(path, address_key), f"{ssh_address_problem(ssh_address)}, got {shown(ssh_address)}")
        ssh_address = None
    if user is not None and not check_ssh_user(user, join(path, user_key), problems):
        user = None
    if host_key is not None and ssh_key_problem(host_key.strip(), comment_allowed=False):
        problems.add(join(path, "hostKey"), f"must be a public host key as ssh-keyscan prints it without the host "
                                            f"name, '<type> <base64>': "
                                            f"{ssh_key_problem(host_key.strip(), comment_allowed=False)}")
        host_key = None
    if None in (ssh_address, user, port) or (r.raw("hostKey", None) is not None and host_key is None):
        return None
    return SshEndpoint(ssh_address, user, port, None if host_key is None else host_key.strip())


def _read_bastion(value: Any, path: str, default_user: str, problems: Problems) -> SshEndpoint | None:
    b = Reader(value, path, problems, ["address", "user", "port", "hostKey"])
    if b.ok and b.raw("address", None) is None:
        problems.add(join(path, "address"), "is required: the bastion's IPv4 address or DNS name")
        return None
    # Required, though checked above already: REQUIRED adds no second problem (a present address is read, and a
    # bastion that is no mapping reports only that), and the catalogue lists the address as required.
    bastion = _read_endpoint(b, path, "address", "user", "port", default_user, REQUIRED, problems)
    return bastion if b.ok else None


def _read_roles(r: Reader, path: str, mode: str | None, problems: Problems) -> tuple[str, ...] | None:
    roles = r.string_list("roles")
    if roles is None:
        return None
    where = join(path, "roles")
    bad = [role for role in roles if role not in HOST_ROLES]
    if not roles or bad:
        problems.add(where, f"must list one or more of {', '.join(HOST_ROLES)}, got {roles!r}")
        return None
    if len(set(roles)) != len(roles):
        problems.add(where, f"must not repeat a role, got {roles!r}")
        return None
    if CONTROL_PLANE in roles and WORKER in roles:
        problems.add(where, "a host is a control plane or a worker, not both; control planes run only the "
                            "control plane")
        return None
    if LOAD_BALANCER in roles and mode == "colocated":
        problems.add(where, "loadBalancer.mode is colocated: the control planes run the load balancer, so no host "
                            "has the load-balancer role (or set loadBalancer.mode: dedicated)")
        return None
    if LOAD_BALANCER in roles and CONTROL_PLANE in roles:
        problems.add(where, "haproxy cannot share port 6443 with the apiserver on a control plane; to run the "
                            "load balancer on the control planes set loadBalancer.mode: colocated")
        return None
    return tuple(role for role in HOST_ROLES if role in roles)  # canonical order


def read_inventory(value: Any, tier: str | None, default_user: str, mode: str | None,
                   problems: Problems) -> tuple[list[InventoryHost], bool]:
    """The hosts that read cleanly, and whether that is all of them (a bad bastion or host makes it partial: the
    rules across hosts still check the ones that read, the rules that count hosts wait)."""
    r = Reader(value, "inventory", problems, ["bastion", "hosts"])
    items = r.list_of("hosts")
    # A bad bastion, label, taint, zone, interface or pool is reported and leaves the host in the rules across hosts
    # (counts, names, addresses, the VIP): those problems are independent and all reported in one run. Only a host
    # whose name, addresses, roles or sizes do not read is left out, and makes the inventory partial.
    shared_bastion, complete = None, r.ok
    if r.raw("bastion", None) is not None:
        shared_bastion = _read_bastion(r.raw("bastion"), "inventory.bastion", default_user, problems)
    if items is None:
        return [], False
    if not items:
        problems.add("inventory.hosts", "must list the cluster's hosts")
        return [], False
    hosts: list[InventoryHost] = []
    for index, (path, item) in enumerate(items):
        h = Reader(item, path, problems, _HOST_KEYS)
        name = h.string("name")
        cluster_address = address(h.string("address"), join(path, "address"), problems)
        ssh = _read_endpoint(h, path, "sshAddress", "sshUser", "sshPort", default_user,
                             None if cluster_address is None else str(cluster_address), problems)
        bastion = shared_bastion
        if h.raw("bastion", None) is not None:
            bastion = _read_bastion(h.raw("bastion"), join(path, "bastion"), default_user, problems)
        roles = _read_roles(h, path, mode, problems)
        vcpu = h.integer("vcpu", minimum=1, maximum=sizing.MAX_NODE_VCPU)
        memory = h.integer("memoryGiB", minimum=1, maximum=sizing.MAX_NODE_MEMORY_GIB)
        disk = h.integer("diskGiB", minimum=1, maximum=sizing.MAX_NODE_DISK_GIB)
        labels = h.string_map("labels", {})
        taints = read_taints(h, path, problems)
        interface = h.string("vipInterface", None)
        zone = h.string("zone", "")
        pool = h.string("pool", None)
        if name is not None and not is_dns_label(name, MAX_HOST_NAME):
            problems.add(join(path, "name"), dns_label_rule(MAX_HOST_NAME, HOST_NAME_WHY) + f", got {shown(name)}")
            name = None
        if interface is not None and not _INTERFACE.fullmatch(interface):
            problems.add(join(path, "vipInterface"), f"must be a network interface name such as eth0, got "
                                                     f"{interface!r}")
            interface = None
        if zone and not is_dns_label(zone):
            problems.add(join(path, "zone"), f"must be a DNS label of at most {MAX_DNS_LABEL} characters naming a "
                                             f"failure domain, got {shown(zone)}")
            zone = None
        if pool is not None:
            if roles is not None and WORKER not in roles:
                problems.add(join(path, "pool"), "only workers belong to a pool")
                pool = None
            elif not is_dns_label(pool, MAX_HOST_NAME) or pool in ("cp", "bastion", "api"):
                problems.add(join(path, "pool"), dns_label_rule(MAX_HOST_NAME, "it names the pool's nodes") +
                             f", other than cp, bastion and api, got {shown(pool)}")
                pool = None
        check_labels(labels, path, problems)
        if roles is not None and tier is not None and None not in (vcpu, memory, disk):
            role = sizing_role(roles)
            minimum = sizing.tier_minimum(tier, role)
            for key, got, least in (("vcpu", vcpu, minimum.vcpu), ("memoryGiB", memory, minimum.memory_gib),
                                    ("diskGiB", disk, minimum.disk_gib)):
                if got < least:
                    problems.add(join(path, key), f"declares {got}, below the tier {tier} minimum of {least} for "
                                                  f"{role} hosts ({minimum.describe()})")
        if None in (name, cluster_address, ssh, roles, vcpu, memory, disk):
            complete = False
            continue
        labels, taints, zone = labels or {}, taints or [], zone or ""
        is_worker = WORKER in roles
        hosts.append(InventoryHost(
            name=name, address=str(cluster_address), ssh=ssh, bastion=bastion, roles=roles,
            capacity=NodeSize(vcpu, memory, disk), labels=tuple(sorted(labels.items())), taints=tuple(taints),
            vip_interface=interface, zone=zone, pool=(pool or DEFAULT_WORKER_POOL) if is_worker else "",
            index=index))
    return hosts, complete


def load_balancer_hosts(hosts: list[InventoryHost] | tuple[InventoryHost, ...], mode: str) -> list[InventoryHost]:
    """Where haproxy and keepalived run, in inventory order (the first one holds the VIP when all are healthy)."""
    role = CONTROL_PLANE if mode == "colocated" else LOAD_BALANCER
    return [h for h in hosts if role in h.roles]
