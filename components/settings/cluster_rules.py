"""Rules that span sections: node count and pod CIDR room, pod blocks, zone room, prod worker count and the
capacity plan of the declared workloads. Pure: no Pulumi."""

from __future__ import annotations

import ipaddress

from components import sizing
from components.settings import subnets
from components.settings.model import Settings
from components.settings.reader import Problems

def check_whole(s: Settings, problems: Problems) -> None:
    nodes = s.max_node_count
    if nodes > sizing.MAX_NODES:
        problems.add("workerPools", f"the settings allow {nodes} nodes; Kubernetes is tested up to "
                                    f"{sizing.MAX_NODES}")
    pods = ipaddress.IPv4Network(s.network.pod_cidr)
    mask = s.network.node_cidr_mask_size
    fits = 2 ** (mask - pods.prefixlen)
    if nodes > fits:
        problems.add("network.podCidr", f"{pods} with a /{mask} block per node fits {fits} nodes, but the settings "
                                        f"allow {nodes} (control planes plus every pool's maxCount); widen the pod "
                                        f"CIDR or lengthen network.nodeCidrMaskSize")
    if 2 ** (32 - mask) < s.max_pods_per_node:
        problems.add("network.nodeCidrMaskSize", f"a /{mask} pod block holds {2 ** (32 - mask)} addresses, fewer "
                                                 f"than maxPodsPerNode ({s.max_pods_per_node})")
    if not s.bare_metal:
        _check_zone_room(s, problems)
    if s.tier == "prod" and not s.bare_metal and sum(p.count for p in s.worker_pools) < 2:
        problems.add("workerPools", "prod needs at least 2 workers so that a node failure leaves capacity")
    total_replicas = sum(w.replicas for w in s.workloads)
    if total_replicas > sizing.MAX_PODS_TOTAL:
        problems.add("workloads", f"{total_replicas} pods in total exceed the tested limit of "
                                  f"{sizing.MAX_PODS_TOTAL}")
    if s.workloads:
        demand = sizing.demand_with_headroom([(w.replicas, w.cpu_m, w.memory_mib) for w in s.workloads])
        pools = [sizing.PoolCapacity(p.name, p.count, sizing.allocatable(s.tier, p.capacity, s.max_pods_per_node))
                 for p in s.worker_pools]
        short = sizing.capacity_shortfall(demand, pools)
        if short:
            problems.add("workloads", short.describe())


def _check_zone_room(s: Settings, problems: Problems) -> None:
    per_subnet = subnets.usable_hosts_per_subnet(s.network.vpc_cidr)
    zones = len(s.network.zones)
    busiest = max(-(-p.max_count // zones) for p in s.pools) * len(s.pools)
    if busiest > per_subnet:
        problems.add("network.vpcCidr", f"each zone's subnet holds {per_subnet} machines, but up to {busiest} may "
                                        f"land in one zone; widen the VPC CIDR")
