"""Rules across the bare-metal inventory: unique names and addresses, addresses against the networks, role
counts, the load balancer and its VIP. Pure: no Pulumi."""

from __future__ import annotations

import ipaddress

from components.host import CONTROL_PLANE, WORKER
from components.settings.inventory import (MAX_LOAD_BALANCERS, InventoryHost, LoadBalancerSettings,
                                           load_balancer_hosts)
from components.settings.reader import Problems, join


def check_inventory(hosts: list[InventoryHost], complete: bool, lb: tuple,
                    host_cidr: ipaddress.IPv4Network | None,
                    other_networks: list[tuple[str, ipaddress.IPv4Network | None]], tier: str | None,
                    problems: Problems) -> LoadBalancerSettings | None:
    """Rules across hosts: unique names and addresses, role counts, the VIP. Returns the load balancer settings.
    With a partial inventory (`complete` false) the rules between hosts run on the hosts that read; the counts, the
    load balancer and the VIP wait for a clean one."""
    _check_pairs(hosts, host_cidr, other_networks, problems)
    if not complete:
        return None
    _check_counts(hosts, tier, problems)
    return _check_load_balancer(hosts, lb, host_cidr, tier, problems)


def _check_pairs(hosts: list[InventoryHost], host_cidr: ipaddress.IPv4Network | None,
                 other_networks: list[tuple[str, ipaddress.IPv4Network | None]], problems: Problems) -> None:
    seen_names: dict[str, int] = {}
    seen_addresses: dict[str, int] = {}
    for host in hosts:
        i = host.index
        path = f"inventory.hosts[{i}]"
        if host.name in seen_names:
            problems.add(join(path, "name"), f"{host.name!r} is also the name of inventory.hosts[{seen_names[host.name]}]")
        seen_names.setdefault(host.name, i)
        if host.address in seen_addresses:
            problems.add(join(path, "address"), f"{host.address} is also the address of "
                                                f"inventory.hosts[{seen_addresses[host.address]}]")
        seen_addresses.setdefault(host.address, i)
        ip = ipaddress.IPv4Address(host.address)
        for key, network in other_networks:
            if network is not None and ip in network:
                problems.add(join(path, "address"), f"{host.address} lies inside {key} {network}")
        if host_cidr is not None and ip in (host_cidr.network_address, host_cidr.broadcast_address):
            problems.add(join(path, "address"), f"{host.address} is the network or broadcast address of "
                                                f"network.hostCidr {host_cidr}")


def _check_counts(hosts: list[InventoryHost], tier: str | None, problems: Problems) -> None:
    control_planes = [h for h in hosts if h.node_role == CONTROL_PLANE]
    workers = [h for h in hosts if h.node_role == WORKER]
    count = len(control_planes)
    if count == 0:
        problems.add("inventory.hosts", "needs at least one host with the control-plane role")
    elif count % 2 == 0 or count > 7:
        problems.add("inventory.hosts", f"etcd needs an odd number of control planes (1, 3, 5 or 7; prod 3, 5 or "
                                        f"7), the inventory has {count}")
    elif tier == "prod" and count < 3:
        problems.add("inventory.hosts", f"prod needs at least 3 control planes (3, 5 or 7), the inventory has {count}")
    if tier == "prod" and len(workers) < 2:
        problems.add("inventory.hosts", f"prod needs at least 2 workers so that a node failure leaves capacity, "
                                        f"the inventory has {len(workers)}")


def _check_load_balancer(hosts: list[InventoryHost], lb: tuple, host_cidr: ipaddress.IPv4Network | None,
                         tier: str | None, problems: Problems) -> LoadBalancerSettings | None:
    vip, mode, port, router_id, interface = lb
    if mode is None:
        return None
    balancers = load_balancer_hosts(hosts, mode)
    needed = 2 if tier == "prod" else 1
    if mode == "dedicated" and len(balancers) < needed:
        problems.add("inventory.hosts", f"tier {tier} needs at least {needed} host(s) with the load-balancer role "
                                        f"(two or more keep the API reachable when one fails), the inventory has "
                                        f"{len(balancers)}")
    if len(balancers) > MAX_LOAD_BALANCERS:
        problems.add("inventory.hosts", f"at most {MAX_LOAD_BALANCERS} hosts may hold the VIP, the inventory has "
                                        f"{len(balancers)}")
    for host in balancers:
        i = host.index
        if port is not None and port == host.ssh.port:
            problems.add("loadBalancer.port", f"{port} is the SSH port of inventory.hosts[{i}] ({host.name}), which "
                                              f"holds the VIP; choose another port")
        if host.vip_interface is None and interface is None:
            problems.add(f"inventory.hosts[{i}].vipInterface", "is required on hosts that hold the VIP (or set "
                                                               "loadBalancer.interface for all of them)")
        if host_cidr is not None and ipaddress.IPv4Address(host.address) not in host_cidr:
            problems.add(f"inventory.hosts[{i}].address", f"{host.address} holds the VIP, so it must be inside "
                                                          f"network.hostCidr {host_cidr}")
    if vip is not None and host_cidr is not None:
        ip = ipaddress.IPv4Address(vip)
        if ip not in host_cidr:
            problems.add("loadBalancer.vip", f"{vip} must be inside network.hostCidr {host_cidr}, the subnet of the "
                                             f"hosts that hold it")
        elif ip in (host_cidr.network_address, host_cidr.broadcast_address):
            problems.add("loadBalancer.vip", f"{vip} is the network or broadcast address of {host_cidr}")
        _check_bastions_are_not_the_vip(hosts, vip, problems)
        for host in hosts:
            if vip in (host.address, host.ssh.address):
                problems.add("loadBalancer.vip", f"{vip} is the address of inventory.hosts[{host.index}] ({host.name}); the "
                                                 f"VIP must be an unused address")
    if None in (vip, port, router_id) or host_cidr is None:
        return None
    return LoadBalancerSettings(vip, host_cidr.prefixlen, mode, port, router_id, interface)


def _check_bastions_are_not_the_vip(hosts: list[InventoryHost], vip: str, problems: Problems) -> None:
    """A bastion cannot be the API's virtual IP: that address answers only once keepalived runs, and the program
    installs keepalived through the bastion, so the first deploy could never connect."""
    at_vip = [host for host in hosts if host.bastion is not None and host.bastion.address == vip]
    shared = {id(host.bastion) for host in at_vip}
    why = (f"{vip} is loadBalancer.vip, which answers only once keepalived runs, and keepalived is installed through "
           f"the bastion: use a machine that is up before the cluster")
    if len(at_vip) > 1 and len(shared) == 1:
        problems.add("inventory.bastion.address", why)
        return
    for host in at_vip:
        problems.add(f"inventory.hosts[{host.index}].bastion.address", why)
