"""The `network` and `access` sections of an AWS or bare-metal stack. Pure: no Pulumi."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from components.settings import subnets
from components.settings.model import (API_LOAD_BALANCER_SCHEMES, CALICO_ENCAPSULATIONS, NAT_GATEWAY_MODES,
                                       SSH_PATHS, AccessSettings, NetworkSettings)
from components.settings.reader import Problems, Reader, shown
from components.settings.rules import cidr, special_address_problem, special_range_problem

_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]$")


_CLUSTER_NETWORK_KEYS = ("podCidr", "serviceCidr", "nodeCidrMaskSize", "calicoEncapsulation")


def networks_as_written(value: Any) -> dict[str, ipaddress.IPv4Network | None]:
    """The host, pod and service networks as written (defaults where unset; None where unreadable), without
    judging them: when another network value is wrong, the inventory's checks against these still run (one bad
    value hides no other problem)."""
    value = value if isinstance(value, dict) else {}
    found: dict[str, ipaddress.IPv4Network | None] = {}
    for key, default in (("hostCidr", None), ("podCidr", "10.244.0.0/16"), ("serviceCidr", "10.96.0.0/12")):
        try:
            found[key] = ipaddress.IPv4Network(value.get(key, default))
        except (TypeError, ValueError):
            found[key] = None
    return found


def read_network(value: Any, tier: str | None, region: str | None, problems: Problems,
                 bare_metal: bool = False) -> NetworkSettings | None:
    before = len(problems)
    if bare_metal:
        r = Reader(value, "network", problems, ("hostCidr", "mtu") + _CLUSTER_NETWORK_KEYS)
        host_cidr = cidr(r.string("hostCidr"), "network.hostCidr", problems)
        mtu = r.integer("mtu", 1500, minimum=1280, maximum=9216)
        zones, vpc, nat = [], None, "single"
    else:
        r = Reader(value, "network", problems, ("zones", "vpcCidr", "natGateways") + _CLUSTER_NETWORK_KEYS)
        host_cidr, mtu = None, 9001
        zones = r.string_list("zones")
        vpc = cidr(r.string("vpcCidr", "10.0.0.0/16"), "network.vpcCidr", problems)
    pods = cidr(r.string("podCidr", "10.244.0.0/16"), "network.podCidr", problems)
    services = cidr(r.string("serviceCidr", "10.96.0.0/12"), "network.serviceCidr", problems)
    mask = r.integer("nodeCidrMaskSize", 24, minimum=16, maximum=28)
    if not bare_metal:
        nat = r.choice("natGateways", NAT_GATEWAY_MODES, "single")
    encapsulation = r.choice("calicoEncapsulation", CALICO_ENCAPSULATIONS, "VXLAN")

    if zones is not None and not bare_metal:
        needed = 3 if tier == "prod" else 1
        if len(zones) < needed:
            problems.add("network.zones", f"needs at least {needed} availability zone(s) in tier {tier}, "
                                          f"got {len(zones)}")
        if len(zones) > subnets.MAX_ZONES:
            problems.add("network.zones", f"at most {subnets.MAX_ZONES} zones fit the subnet layout")
        if len(set(zones)) != len(zones):
            problems.add("network.zones", "must not repeat a zone")
        for i, zone in enumerate(zones):
            if not _ZONE.fullmatch(zone):
                problems.add(f"network.zones[{i}]", f"must be an availability zone name such as eu-west-1a, "
                                                    f"got {shown(zone)}")
            elif region and not (zone.startswith(region) and len(zone) == len(region) + 1):
                problems.add(f"network.zones[{i}]", f"zone {zone!r} is not in region {region!r} (aws:region)")
    if not bare_metal and zones and len(zones) > 1 and encapsulation == "None":
        # Unencapsulated pod traffic leaves each node with pod addresses: only the nodes' own subnet carries it (with
        # the source/destination check off); between zones it crosses the VPC's routers, which have no pod routes.
        accepted = ", ".join(e for e in CALICO_ENCAPSULATIONS if e != "None")
        problems.add("network.calicoEncapsulation",
                     f"'None' cannot route pods between the {len(zones)} zones of network.zones (the VPC has no "
                     f"routes to pod addresses): use one of {accepted} (CrossSubnet encapsulates only between "
                     f"zones)")
    if host_cidr is not None and not 8 <= host_cidr.prefixlen <= 30:
        problems.add("network.hostCidr", f"prefix must be from /8 to /30, got /{host_cidr.prefixlen}")
    if pods is not None and not 8 <= pods.prefixlen <= 28:
        problems.add("network.podCidr", f"prefix must be from /8 to /28, got /{pods.prefixlen}")
    if vpc is not None and not 16 <= vpc.prefixlen <= 24:
        problems.add("network.vpcCidr", f"prefix must be from /16 to /24, got /{vpc.prefixlen}")
    if services is not None and not 12 <= services.prefixlen <= 24:
        problems.add("network.serviceCidr", f"prefix must be from /12 to /24 (kube-apiserver allows at most "
                                            f"2^20 addresses), got /{services.prefixlen}")
    if pods is not None and mask is not None and mask <= pods.prefixlen:
        problems.add("network.nodeCidrMaskSize", f"must be longer than the pod CIDR's /{pods.prefixlen}, got /{mask}")
    named = [("network.hostCidr", host_cidr) if bare_metal else ("network.vpcCidr", vpc),
             ("network.podCidr", pods), ("network.serviceCidr", services)]
    for name, net in named:
        if net is not None and (why := special_range_problem(net)):
            problems.add(name, why)
    for i, (name_a, a) in enumerate(named):
        for name_b, b in named[i + 1:]:
            if a is not None and b is not None and a.overlaps(b):
                problems.add(name_b, f"{b} overlaps {name_a} {a}")
    if None in (zones, pods, services, mask, nat, encapsulation, mtu) or not r.ok or len(problems) > before:
        return None
    if (host_cidr if bare_metal else vpc) is None:
        return None
    return NetworkSettings(tuple(zones), None if vpc is None else str(vpc), str(pods), str(services), mask, nat,
                           encapsulation, None if host_cidr is None else str(host_cidr), mtu)


def read_access(value: Any, tier: str | None, problems: Problems) -> AccessSettings | None:
    r = Reader(value, "access", problems, ["sshVia", "sshAllowedCidrs", "apiAllowedCidrs", "apiLoadBalancer"])
    ssh_via = r.choice("sshVia", SSH_PATHS, "bastion")
    scheme = r.choice("apiLoadBalancer", API_LOAD_BALANCER_SCHEMES, "internal")
    lists = {}
    for key in ("sshAllowedCidrs", "apiAllowedCidrs"):
        items = r.string_list(key)
        path = f"access.{key}"
        if items is not None and not items:
            problems.add(path, "must list at least one CIDR")
        parsed = [_allowed_network(item, f"{path}[{i}]", tier, problems) for i, item in enumerate(items or [])]
        seen: dict = {}
        for i, net in enumerate(parsed):
            if net is not None and net in seen:
                problems.add(f"{path}[{i}]", f"{net} is listed already at {path}[{seen[net]}]")
                parsed[i] = None
            elif net is not None:
                seen[net] = i
        lists[key] = None if items is None or None in parsed else tuple(str(n) for n in parsed)
    if tier == "prod" and ssh_via == "public":
        problems.add("access.sshVia", "prod machines sit in private subnets: must be bastion, got 'public'")
    if None in (ssh_via, scheme, *lists.values()) or not r.ok:
        return None
    return AccessSettings(ssh_via, lists["sshAllowedCidrs"], lists["apiAllowedCidrs"], scheme)


# The broadest network a prod stack may open SSH or the API to: no one's own network is larger, and two halves of
# the Internet (0.0.0.0/1 and 128.0.0.0/1) are the Internet.
PROD_WIDEST_PREFIX = 8


def _allowed_network(item: str, path: str, tier: str | None, problems: Problems):
    """A network allowed to reach the cluster: a real source of traffic, and in prod no wider than a /8."""
    net = cidr(item, path, problems)
    if net is None:
        return None
    if tier == "prod" and net.prefixlen < PROD_WIDEST_PREFIX:
        problems.add(path, f"{net} is refused in prod: name the networks that need access (at most a "
                           f"/{PROD_WIDEST_PREFIX} each)")
        return None
    why = special_address_problem(net.network_address) if net.prefixlen >= PROD_WIDEST_PREFIX else ""
    if why:
        problems.add(path, f"{net} starts at {why}: no client connects from there")
        return None
    return net
