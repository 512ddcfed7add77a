"""Rules that span sections: node count and pod CIDR room, pod blocks, zone room, prod worker count and the
capacity plan of the declared workloads. Pure: no Pulumi.

Each rule runs on the sections it reads as soon as those read cleanly, whatever else is wrong in the file, so two
independent mistakes are reported together. A section that did not read cleanly is None here: rules that need it
wait for the next run rather than guess.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from components import sizing
from components.settings import subnets
from components.settings.model import NetworkSettings, PoolSettings, Workload
from components.settings.reader import Problems


@dataclass(frozen=True)
class Sections:
    tier: str | None
    bare_metal: bool
    network: NetworkSettings | None
    pools: tuple[PoolSettings, ...] | None  # the control planes first, then the workers; None unless all read
    max_pods: int | None
    workloads: tuple[Workload, ...] | None


def check_whole(s: Sections, problems: Problems) -> None:
    if s.pools is not None:
        _check_node_count(s, problems)
    if s.network is not None and s.max_pods is not None:
        mask = s.network.node_cidr_mask_size
        if 2 ** (32 - mask) < s.max_pods:
            problems.add("network.nodeCidrMaskSize", f"a /{mask} pod block holds {2 ** (32 - mask)} addresses, "
                                                     f"fewer than maxPodsPerNode ({s.max_pods})")
    if s.workloads is not None:
        total_replicas = sum(w.replicas for w in s.workloads)
        if total_replicas > sizing.MAX_PODS_TOTAL:
            problems.add("workloads", f"{total_replicas} pods in total exceed the tested limit of "
                                      f"{sizing.MAX_PODS_TOTAL}")
        if s.workloads and s.pools is not None and s.tier is not None and s.max_pods is not None:
            _check_capacity(s, problems)


def _check_node_count(s: Sections, problems: Problems) -> None:
    nodes = sum(p.max_count for p in s.pools)
    if nodes > sizing.MAX_NODES:
        problems.add("workerPools", f"the settings allow {nodes} nodes; Kubernetes is tested up to "
                                    f"{sizing.MAX_NODES}")
    if s.network is not None:
        pods = ipaddress.IPv4Network(s.network.pod_cidr)
        mask = s.network.node_cidr_mask_size
        fits = 2 ** (mask - pods.prefixlen)
        if nodes > fits:
            problems.add("network.podCidr", f"{pods} with a /{mask} block per node fits {fits} nodes, but the "
                                            f"settings allow {nodes} (control planes plus every pool's maxCount); "
                                            f"widen the pod CIDR or lengthen network.nodeCidrMaskSize")
        if not s.bare_metal:
            _check_zone_room(s.network, s.pools, problems)
    workers = sum(p.count for p in s.pools[1:])
    if s.tier == "prod" and not s.bare_metal and workers < 2:
        problems.add("workerPools", "prod needs at least 2 workers so that a node failure leaves capacity")


def _check_capacity(s: Sections, problems: Problems) -> None:
    demand = sizing.demand_with_headroom([(w.replicas, w.cpu_m, w.memory_mib) for w in s.workloads])
    pools = [sizing.PoolCapacity(p.name, p.count, sizing.allocatable(s.tier, p.capacity, s.max_pods))
             for p in s.pools[1:]]
    short = sizing.capacity_shortfall(demand, pools)
    if short:
        problems.add("workloads", short.describe())


def _check_zone_room(network: NetworkSettings, pools: tuple[PoolSettings, ...], problems: Problems) -> None:
    per_subnet = subnets.usable_hosts_per_subnet(network.vpc_cidr)
    zones = len(network.zones)
    busiest = max(-(-p.max_count // zones) for p in pools) * len(pools)
    if busiest > per_subnet:
        problems.add("network.vpcCidr", f"each zone's subnet holds {per_subnet} machines, but up to {busiest} may "
                                        f"land in one zone; widen the VPC CIDR")
