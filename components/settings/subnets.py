"""How the VPC's address space is cut into per-zone subnets. Pure.

The VPC is split into 16 equal blocks (4 more prefix bits). Zone i gets block i as its public subnet and block 8+i
as its private subnet, so adding a zone never moves an existing subnet. Up to 8 zones fit.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SUBNET_EXTRA_BITS = 4
MAX_ZONES = 8
# AWS keeps five addresses of every subnet (network, router, DNS, future use, broadcast).
AWS_RESERVED_PER_SUBNET = 5


@dataclass(frozen=True)
class ZoneSubnets:
    zone: str
    public_cidr: str
    private_cidr: str


def zone_subnets(vpc_cidr: str, zones: tuple[str, ...]) -> tuple[ZoneSubnets, ...]:
    vpc = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(vpc.subnets(prefixlen_diff=SUBNET_EXTRA_BITS))
    half = len(blocks) // 2
    return tuple(
        ZoneSubnets(zone=zone, public_cidr=str(blocks[i]), private_cidr=str(blocks[half + i]))
        for i, zone in enumerate(zones)
    )


def usable_hosts_per_subnet(vpc_cidr: str) -> int:
    prefix = ipaddress.IPv4Network(vpc_cidr).prefixlen + SUBNET_EXTRA_BITS
    return 2 ** (32 - prefix) - AWS_RESERVED_PER_SUBNET


def zone_for_index(zones: tuple[str, ...], index: int) -> str:
    """Round-robin placement: node i of a pool goes to zone i mod len(zones), independent of every other node."""
    return zones[index % len(zones)]
