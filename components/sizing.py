"""Tiers, machine sizes, kubelet reservations and capacity planning. Pure: no Pulumi, no I/O.

The numbers of TIER_MINIMUMS and the prod kubelet baseline are requirements from the operations brief.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TIERS = ("lab", "dev", "prod")
ROLES = ("control-plane", "worker")

# Upstream tested limits of Kubernetes.
MAX_NODES = 5000
MAX_PODS_PER_NODE = 110
MAX_PODS_TOTAL = 150_000
# The largest machine a node may declare (bare metal) or ask for (AWS): beyond today's biggest servers, and small
# enough that every reservation stays exact integer arithmetic.
MAX_NODE_VCPU = 1024
MAX_NODE_MEMORY_GIB = 32768
MAX_NODE_DISK_GIB = 1_048_576

# Share of demand added on top for growth and failover (operations brief, capacity planning).
HEADROOM = 0.20


@dataclass(frozen=True)
class NodeSize:
    """A machine size: vCPUs, memory in GiB and root disk in GiB."""

    vcpu: int
    memory_gib: int
    disk_gib: int

    def meets(self, other: "NodeSize") -> bool:
        return self.vcpu >= other.vcpu and self.memory_gib >= other.memory_gib and self.disk_gib >= other.disk_gib

    def describe(self) -> str:
        return f"{self.vcpu} vCPU, {self.memory_gib} GiB memory, {self.disk_gib} GiB disk"


TIER_MINIMUMS: dict[tuple[str, str], NodeSize] = {
    ("lab", "control-plane"): NodeSize(2, 2, 20),
    ("lab", "worker"): NodeSize(2, 2, 20),
    ("dev", "control-plane"): NodeSize(2, 4, 40),
    ("dev", "worker"): NodeSize(4, 8, 40),
    ("prod", "control-plane"): NodeSize(4, 8, 100),
    ("prod", "worker"): NodeSize(8, 64, 500),
}


# A bare-metal host that only runs haproxy and keepalived is not a node: the brief has no row for it. It needs
# little (haproxy forwards TCP), so every tier asks for the lab floor.
LOAD_BALANCER_MINIMUM = NodeSize(2, 2, 20)


def tier_minimum(tier: str, role: str) -> NodeSize:
    if role == "load-balancer":
        return LOAD_BALANCER_MINIMUM
    return TIER_MINIMUMS[(tier, role)]


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpu: int
    memory_gib: int
    burstable: bool = False


# Candidate EC2 types, all current generation, x86_64, EBS-only. Families: t3 (burstable, 1:2 to 1:4),
# c7i (compute, 1:2 GiB per vCPU), m7i (general, 1:4), r7i (memory, 1:8). Several shapes per size so that the
# smallest fit is rarely wasteful. The order breaks ties between equal shapes: burstable first where allowed
# (cheapest), then c7i, m7i, r7i.
INSTANCE_TYPES: tuple[InstanceType, ...] = (
    InstanceType("t3.small", 2, 2, burstable=True),
    InstanceType("t3.medium", 2, 4, burstable=True),
    InstanceType("t3.large", 2, 8, burstable=True),
    InstanceType("t3.xlarge", 4, 16, burstable=True),
    InstanceType("t3.2xlarge", 8, 32, burstable=True),
    InstanceType("c7i.large", 2, 4),
    InstanceType("c7i.xlarge", 4, 8),
    InstanceType("c7i.2xlarge", 8, 16),
    InstanceType("c7i.4xlarge", 16, 32),
    InstanceType("c7i.8xlarge", 32, 64),
    InstanceType("c7i.12xlarge", 48, 96),
    InstanceType("c7i.16xlarge", 64, 128),
    InstanceType("m7i.large", 2, 8),
    InstanceType("m7i.xlarge", 4, 16),
    InstanceType("m7i.2xlarge", 8, 32),
    InstanceType("m7i.4xlarge", 16, 64),
    InstanceType("m7i.8xlarge", 32, 128),
    InstanceType("m7i.12xlarge", 48, 192),
    InstanceType("m7i.16xlarge", 64, 256),
    InstanceType("r7i.large", 2, 16),
    InstanceType("r7i.xlarge", 4, 32),
    InstanceType("r7i.2xlarge", 8, 64),
    InstanceType("r7i.4xlarge", 16, 128),
    InstanceType("r7i.8xlarge", 32, 256),
    InstanceType("r7i.12xlarge", 48, 384),
    InstanceType("r7i.16xlarge", 64, 512),
)
INSTANCE_TYPES_BY_NAME = {t.name: t for t in INSTANCE_TYPES}

# The bastion only forwards SSH; it is not a cluster node, so the tier table does not apply to it.
BASTION_INSTANCE_TYPE = "t3.micro"
BASTION_DISK_GIB = 10


def burstable_allowed(tier: str) -> bool:
    """Burstable types run out of CPU credits under sustained load: etcd then misses heartbeats. Not in prod."""
    return tier != "prod"


def smallest_instance_type(tier: str, vcpu: int, memory_gib: int) -> InstanceType | None:
    """The smallest candidate with at least `vcpu` and `memory_gib`: fewest vCPUs, then least memory."""
    fits = [
        t
        for t in INSTANCE_TYPES
        if t.vcpu >= vcpu and t.memory_gib >= memory_gib and (burstable_allowed(tier) or not t.burstable)
    ]
    if not fits:
        return None
    order = {t.name: i for i, t in enumerate(INSTANCE_TYPES)}
    return min(fits, key=lambda t: (t.vcpu, t.memory_gib, order[t.name]))


def instance_type_problem(tier: str, role: str, requested: NodeSize, name: str) -> str | None:
    """Why an explicitly chosen instance type is refused, or None when it is accepted."""
    chosen = INSTANCE_TYPES_BY_NAME.get(name)
    if chosen is None:
        return f"unknown instance type {name!r}; accepted: {', '.join(INSTANCE_TYPES_BY_NAME)}"
    if chosen.burstable and not burstable_allowed(tier):
        return f"{name} is burstable, which tier {tier} refuses; choose a c7i, m7i or r7i type"
    if chosen.vcpu < requested.vcpu or chosen.memory_gib < requested.memory_gib:
        minimum = tier_minimum(tier, role)
        return (
            f"{name} has {chosen.vcpu} vCPU and {chosen.memory_gib} GiB; the {role} nodes of this pool need at "
            f"least {requested.vcpu} vCPU and {requested.memory_gib} GiB (tier {tier} minimum: "
            f"{minimum.vcpu} vCPU, {minimum.memory_gib} GiB)"
        )
    return None


# --- kubelet reservations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KubeletReservations:
    """What the kubelet keeps away from pods on one node.

    system_* and kube_* are systemReserved and kubeReserved; eviction_* are the evictionHard thresholds and
    reclaim_* the evictionMinimumReclaim amounts. CPU in millicores, memory in MiB, disk in GiB.
    """

    system_cpu_m: int
    system_memory_mib: int
    kube_cpu_m: int
    kube_memory_mib: int
    eviction_memory_mib: int
    eviction_nodefs_gib: int
    eviction_imagefs_gib: int
    reclaim_memory_mib: int
    reclaim_nodefs_mib: int
    reclaim_imagefs_mib: int


# The operations brief's prod baseline: nothing in prod may reserve less than this.
PROD_BASELINE_CPU_M = 200
PROD_BASELINE_MEMORY_MIB = 250
PROD_EVICTION_MEMORY_MIB = 1024
BASELINE_EVICTION_DISK_GIB = 1
BASELINE_RECLAIM_MEMORY_MIB = 500
BASELINE_RECLAIM_NODEFS_MIB = 500
BASELINE_RECLAIM_IMAGEFS_MIB = 1024


def _reserved_cpu_m(vcpu: int) -> int:
    """Per reservation (system or kube): 100m plus 25m for each of the first 8 vCPUs and 10m for each beyond."""
    return 100 + 25 * min(vcpu, 8) + 10 * max(vcpu - 8, 0)


def _reserved_memory_mib(memory_gib: int) -> int:
    """Both reservations together, in the style of GKE's published formula: 25% of the first 4 GiB, 20% of the
    next 4, 10% of the next 8, 6% of the next 112 and 2% of the rest."""
    mib = memory_gib * 1024
    bands = ((4096, 0.25), (4096, 0.20), (8192, 0.10), (114688, 0.06), (math.inf, 0.02))
    total, left = 0.0, mib
    for width, share in bands:
        part = min(left, width)
        total += part * share
        left -= part
        if left <= 0:
            break
    return int(math.ceil(total))


def kubelet_reservations(tier: str, size: NodeSize) -> KubeletReservations:
    """Reservations that grow with the node; prod never goes below the brief's baseline.

    - CPU: each of system and kube reserve 100m + 25m per vCPU up to 8 vCPU, 10m per vCPU beyond.
    - Memory: the tiered share above, split evenly between system and kube reserve.
    - Memory eviction: 1 GiB in prod; elsewhere 5% of memory between 100 MiB and 1 GiB, so a 2 GiB lab node
      keeps more than 1 GiB allocatable.
    - Disk eviction (nodefs, imagefs): 5% of the root disk, at least 1 GiB.
    - Minimum reclaim: the brief's baseline, but never more than half the memory eviction threshold off prod.
    """
    cpu = _reserved_cpu_m(size.vcpu)
    memory_half = int(math.ceil(_reserved_memory_mib(size.memory_gib) / 2))
    if tier == "prod":
        cpu = max(cpu, PROD_BASELINE_CPU_M)
        memory_half = max(memory_half, PROD_BASELINE_MEMORY_MIB)
        eviction_memory = PROD_EVICTION_MEMORY_MIB
        reclaim_memory = BASELINE_RECLAIM_MEMORY_MIB
    else:
        eviction_memory = min(1024, max(100, int(math.ceil(size.memory_gib * 1024 * 0.05))))
        reclaim_memory = min(BASELINE_RECLAIM_MEMORY_MIB, eviction_memory // 2)
    disk_floor = max(BASELINE_EVICTION_DISK_GIB, int(math.ceil(size.disk_gib * 0.05)))
    return KubeletReservations(
        system_cpu_m=cpu,
        system_memory_mib=memory_half,
        kube_cpu_m=cpu,
        kube_memory_mib=memory_half,
        eviction_memory_mib=eviction_memory,
        eviction_nodefs_gib=disk_floor,
        eviction_imagefs_gib=disk_floor,
        reclaim_memory_mib=reclaim_memory,
        reclaim_nodefs_mib=BASELINE_RECLAIM_NODEFS_MIB,
        reclaim_imagefs_mib=BASELINE_RECLAIM_IMAGEFS_MIB,
    )


@dataclass(frozen=True)
class Allocatable:
    cpu_m: int
    memory_mib: int
    pods: int


def allocatable(tier: str, size: NodeSize, max_pods: int) -> Allocatable:
    """Capacity minus system reserve, kube reserve and the hard eviction threshold."""
    r = kubelet_reservations(tier, size)
    return Allocatable(
        cpu_m=size.vcpu * 1000 - r.system_cpu_m - r.kube_cpu_m,
        memory_mib=size.memory_gib * 1024 - r.system_memory_mib - r.kube_memory_mib - r.eviction_memory_mib,
        pods=max_pods,
    )


# --- capacity planning ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    cpu_m: int
    memory_mib: int
    pods: int


@dataclass(frozen=True)
class PoolCapacity:
    """One worker pool as capacity planning sees it: the node count and one node's allocatable resources."""

    name: str
    count: int
    per_node: Allocatable


@dataclass(frozen=True)
class CapacityShortfall:
    demand: Demand
    capacity: Demand
    # For each pool: how many more nodes of that pool alone would cover the demand.
    more_nodes: tuple[tuple[str, int], ...]

    def describe(self) -> str:
        options = " or ".join(f"{n} more worker(s) in pool '{p}'" for p, n in self.more_nodes)
        return (
            f"demand with {int(HEADROOM * 100)}% headroom is {_cores(self.demand.cpu_m)} vCPU, "
            f"{_gib(self.demand.memory_mib)} GiB and {self.demand.pods} pods, but the workers can allocate "
            f"{_cores(self.capacity.cpu_m)} vCPU, {_gib(self.capacity.memory_mib)} GiB and "
            f"{self.capacity.pods} pods after kubelet reservations; add {options}"
        )


def _cores(millis: int) -> str:
    return f"{millis / 1000:.1f}"


def _gib(mib: int) -> str:
    return f"{mib / 1024:.1f}"


def demand_with_headroom(requests: list[tuple[int, int, int]]) -> Demand:
    """Sum of replicas x per-replica request over (replicas, cpu_m, memory_mib), plus headroom, rounded up."""
    cpu = sum(replicas * cpu_m for replicas, cpu_m, _ in requests)
    memory = sum(replicas * memory for replicas, _, memory in requests)
    pods = sum(replicas for replicas, _, _ in requests)
    factor = 1 + HEADROOM
    return Demand(math.ceil(cpu * factor), math.ceil(memory * factor), math.ceil(pods * factor))


def capacity_shortfall(demand: Demand, pools: list[PoolCapacity]) -> CapacityShortfall | None:
    """None when the pools cover the demand in CPU, memory and pods; else what is missing and how to fix it."""
    capacity = Demand(
        sum(p.count * p.per_node.cpu_m for p in pools),
        sum(p.count * p.per_node.memory_mib for p in pools),
        sum(p.count * p.per_node.pods for p in pools),
    )
    missing = (
        max(0, demand.cpu_m - capacity.cpu_m),
        max(0, demand.memory_mib - capacity.memory_mib),
        max(0, demand.pods - capacity.pods),
    )
    if not any(missing):
        return None
    more = []
    for pool in pools:
        per = (pool.per_node.cpu_m, pool.per_node.memory_mib, pool.per_node.pods)
        needed = max(math.ceil(short / unit) if short else 0 for short, unit in zip(missing, per) if unit > 0)
        more.append((pool.name, needed))
    return CapacityShortfall(demand, capacity, tuple(more))
