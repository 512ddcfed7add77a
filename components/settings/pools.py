"""The AWS `controlPlane` and `workerPools` sections, the bare-metal inventory seen as pools, and the
`workloads` of capacity planning. Pure: no Pulumi."""

from __future__ import annotations

import re
from typing import Any

from components import sizing
from components.host import CONTROL_PLANE, WORKER
from components.settings import catalog
from components.settings.inventory import InventoryHost
from components.settings.model import MAX_POOL_NAME, RESERVED_POOL_NAMES, PoolSettings, Workload
from components.settings.quantities import QuantityError, cpu_millicores, memory_mib
from components.settings.reader import Problems, Reader, join, shown
from components.settings.rules import MAX_DNS_LABEL, check_labels, dns_label_rule, is_dns_label, read_taints
from components.sizing import NodeSize
WORKLOAD_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

_POOL_SIZE_KEYS = ("vcpu", "memoryGiB", "diskGiB", "instanceType")
# As quantities.py accepts them: a number or a string.
CPU_QUANTITY = catalog.Kind("CPU quantity: cores (2, 0.5) or millicores (\"500m\")")
MEMORY_QUANTITY = catalog.Kind("memory quantity: bytes or a number with Ki, Mi, Gi, Ti, k, M, G or T (\"512Mi\")")


def _read_size(r: Reader, tier: str | None, role: str, path: str, problems: Problems) -> tuple[NodeSize, str, NodeSize] | None:
    """The requested size (defaults: the tier minimum), the chosen instance type and the resulting capacity."""
    minimum = sizing.tier_minimum(tier, role) if tier else NodeSize(1, 1, 1)
    vcpu = r.integer("vcpu", minimum.vcpu, minimum=1, maximum=sizing.MAX_NODE_VCPU)
    memory = r.integer("memoryGiB", minimum.memory_gib, minimum=1, maximum=sizing.MAX_NODE_MEMORY_GIB)
    disk = r.integer("diskGiB", minimum.disk_gib, minimum=1, maximum=16384)
    explicit = r.string("instanceType", None)
    if tier is None or None in (vcpu, memory, disk):
        return None
    for key, got, least in (("vcpu", vcpu, minimum.vcpu), ("memoryGiB", memory, minimum.memory_gib),
                            ("diskGiB", disk, minimum.disk_gib)):
        if got < least:
            problems.add(join(path, key), f"{got} is below the tier {tier} minimum of {least} for {role} nodes "
                                          f"({minimum.describe()})")
    requested = NodeSize(max(vcpu, minimum.vcpu), max(memory, minimum.memory_gib), max(disk, minimum.disk_gib))
    if explicit is not None:
        why = sizing.instance_type_problem(tier, role, requested, explicit)
        if why:
            problems.add(join(path, "instanceType"), why)
            return None
        chosen = sizing.INSTANCE_TYPES_BY_NAME[explicit]
    else:
        chosen = sizing.smallest_instance_type(tier, requested.vcpu, requested.memory_gib)
        if chosen is None:
            problems.add(path, f"no known instance type has {requested.vcpu} vCPU and {requested.memory_gib} GiB; "
                               f"the largest is {sizing.INSTANCE_TYPES[-1].name}")
            return None
    return requested, chosen.name, NodeSize(chosen.vcpu, chosen.memory_gib, requested.disk_gib)


def read_control_plane(value: Any, tier: str | None, problems: Problems) -> PoolSettings | None:
    r = Reader(value, "controlPlane", problems, ("count",) + _POOL_SIZE_KEYS)
    count = r.integer("count", minimum=1, maximum=7)
    size = _read_size(r, tier, CONTROL_PLANE, "controlPlane", problems)
    if count is not None:
        if count % 2 == 0:
            problems.add("controlPlane.count", f"etcd needs an odd member count (1, 3, 5 or 7; prod 3, 5 or 7), "
                                               f"got {count}")
        elif tier == "prod" and count < 3:
            problems.add("controlPlane.count", f"prod needs an odd count of at least 3 (3, 5 or 7), got {count}")
    if count is None or size is None or not r.ok:
        return None
    requested, instance_type, capacity = size
    return PoolSettings("cp", CONTROL_PLANE, count, count, requested, instance_type, capacity)


def read_worker_pools(value: Any, tier: str | None, problems: Problems) -> list[PoolSettings]:
    holder = Reader({"workerPools": value}, "", problems, ["workerPools"])
    items = holder.list_of("workerPools")
    if items is None:
        return []
    if not items:
        problems.add("workerPools", "must list at least one worker pool")
    pools, seen = [], set()
    for path, item in items:
        r = Reader(item, path, problems, ("name", "count", "maxCount", "labels", "taints") + _POOL_SIZE_KEYS)
        name = r.string("name")
        count = r.integer("count", minimum=1, maximum=sizing.MAX_NODES)
        max_count = r.integer("maxCount", count, minimum=1, maximum=sizing.MAX_NODES, default_text="the pool's count")
        labels = r.string_map("labels", {})
        taints = read_taints(r, path, problems)
        size = _read_size(r, tier, WORKER, path, problems)
        if name is not None:
            if not is_dns_label(name, MAX_POOL_NAME):
                problems.add(join(path, "name"), dns_label_rule(MAX_POOL_NAME, "it names the pool's machines, "
                                                 "<cluster>-<pool>-<n>, which AWS limits") + f", got {shown(name)}")
            elif name in RESERVED_POOL_NAMES:
                problems.add(join(path, "name"), f"{name!r} is reserved ({', '.join(RESERVED_POOL_NAMES)})")
            elif name in seen:
                problems.add(join(path, "name"), f"pool name {name!r} is used twice")
            seen.add(name)
        if count is not None and max_count is not None and max_count < count:
            problems.add(join(path, "maxCount"), f"must be at least count ({count}), got {max_count}")
        check_labels(labels, path, problems)
        if None in (name, count, max_count, labels, taints, size) or not r.ok:
            continue
        requested, instance_type, capacity = size
        pools.append(PoolSettings(name, WORKER, count, max_count, requested, instance_type, capacity,
                                  tuple(sorted(labels.items())), tuple(taints)))
    return pools


def read_workloads(value: Any, problems: Problems) -> list[Workload]:
    holder = Reader({"workloads": value}, "", problems, ["workloads"])
    result, seen = [], {}
    for path, item in holder.list_of("workloads", []) or []:
        r = Reader(item, path, problems, ["name", "replicas", "cpu", "memory"])
        name = r.string("name")
        replicas = r.integer("replicas", minimum=1, maximum=sizing.MAX_PODS_TOTAL)
        cpu = _quantity(r, "cpu", cpu_millicores, CPU_QUANTITY, path, problems)
        memory = _quantity(r, "memory", memory_mib, MEMORY_QUANTITY, path, problems)
        if name is not None and not (len(name) <= MAX_DNS_LABEL and WORKLOAD_NAME.fullmatch(name)):
            problems.add(join(path, "name"), f"must be a name of at most {MAX_DNS_LABEL} characters (a-z, 0-9, "
                                             f"'-'), as the workload's Deployment would be named, got {shown(name)}")
            name = None
        elif name is not None and name in seen:
            problems.add(join(path, "name"), f"{name!r} is also the name of {seen[name]}: each workload once")
        elif name is not None:
            seen[name] = path
        if None not in (name, replicas, cpu, memory) and r.ok:
            result.append(Workload(name, replicas, cpu, memory))
    return result


def _quantity(r: Reader, key: str, parse, kind: catalog.Kind, path: str, problems: Problems) -> int | None:
    raw = r.raw(key, kind=kind)
    if raw is None:
        return None
    try:
        return parse(raw)
    except QuantityError as error:
        problems.add(join(path, key), str(error))
        return None



def inventory_pools(hosts: list[InventoryHost]) -> tuple[PoolSettings | None, list[PoolSettings]]:
    """The inventory as pools, for the rules every infrastructure shares (node count, pod CIDR room, capacity
    planning). A pool's capacity is the smallest declared one among its hosts: what every node surely has."""
    def pool(name: str, role: str, members: list[InventoryHost]) -> PoolSettings:
        smallest = NodeSize(min(h.capacity.vcpu for h in members), min(h.capacity.memory_gib for h in members),
                            min(h.capacity.disk_gib for h in members))
        return PoolSettings(name, role, len(members), len(members), smallest, "", smallest)

    control_planes = [h for h in hosts if h.node_role == CONTROL_PLANE]
    by_pool: dict[str, list[InventoryHost]] = {}
    for host in hosts:
        if host.node_role == WORKER:
            by_pool.setdefault(host.pool, []).append(host)
    workers = [pool(name, WORKER, members) for name, members in by_pool.items()]
    return (pool("cp", CONTROL_PLANE, control_planes) if control_planes else None), workers
