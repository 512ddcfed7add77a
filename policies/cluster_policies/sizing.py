"""Sizing: every machine meets the vCPU, memory and disk minimum of its role and tier; control planes keep etcd
on SSD-class volumes."""

from __future__ import annotations

from cluster_policies import facts
from cluster_policies.tables import CONTROL_PLANE, INSTANCE_TYPES, MINIMUMS, NODE_ROLES, SSD_VOLUME_TYPES, TIERS


def _gib(value) -> str:
    return f"{value:g} GiB"


def instance_types(config) -> dict:
    """The pack's table plus the `instanceTypes` config: {"x8g.large": {"vcpu": 2, "memoryGiB": 32}}."""
    extra = facts.config_value(config, "instanceTypes", {})
    table = dict(INSTANCE_TYPES)
    table.update({name: (shape["vcpu"], shape["memoryGiB"]) for name, shape in extra.items()})
    return table


def validate_machine_size(args, report_violation) -> None:
    if args.resource_type != facts.INSTANCE:
        return
    tags = facts.tags(args.props)
    tier, role = tags.get("tier"), tags.get("role")
    if tier not in TIERS or role not in NODE_ROLES:
        return  # a bastion, or a machine the required-tags policy already reports
    vcpu_min, memory_min, disk_min = MINIMUMS[(tier, role)]
    name = args.props.get("instanceType")
    shape = instance_types(args.get_config()).get(name)
    if shape is None:
        report_violation(f"instance type {name!r} is not in the policy pack's table, so its size cannot be checked; "
                         f"add it to the machine-size policy's instanceTypes config", None)
    elif shape[0] < vcpu_min or shape[1] < memory_min:
        report_violation(f"{name} ({shape[0]} vCPU, {_gib(shape[1])}) is smaller than the {tier} {role} minimum of "
                         f"{vcpu_min} vCPU and {_gib(memory_min)}", None)
    root = args.props.get("rootBlockDevice") or {}
    size = root.get("volumeSize")
    if size is None or size < disk_min:
        found = "not set (the image's default, 8 GiB on Ubuntu)" if size is None else _gib(size)
        report_violation(f"root volume {found} is smaller than the {tier} {role} minimum of {_gib(disk_min)}", None)
    if role == CONTROL_PLANE and root.get("volumeType") not in SSD_VOLUME_TYPES:
        report_violation(f"control-plane root volume type {root.get('volumeType')!r} is not SSD-class "
                         f"({', '.join(SSD_VOLUME_TYPES)}): etcd needs low write latency", None)


def validate_bare_metal_capacity(args, report_violation) -> None:
    """Bare-metal hosts' declared capacity, from the Node components the program declares per host."""
    for node in args.resources:
        if node.resource_type != facts.NODE or node.props.get("infrastructure") != "bareMetal":
            continue
        tier, role = node.props.get("tier"), node.props.get("role")
        minimum = MINIMUMS.get((tier, role))
        if minimum is None:
            continue  # required-tags reports a missing or unknown tier or role
        declared = tuple(node.props.get(k) for k in ("vcpu", "memoryGiB", "diskGiB"))
        if None in declared:
            report_violation(f"{node.name}: declares no capacity (vcpu, memoryGiB, diskGiB)", node.urn)
            continue
        short = [f"{what} {have:g} < {need:g}" for what, have, need in
                 zip(("vCPU", "memory GiB", "disk GiB"), declared, minimum) if have < need]
        if short:
            report_violation(f"{node.name}: declared {', '.join(short)}: below the {tier} {role} minimum of "
                             f"{minimum[0]} vCPU, {_gib(minimum[1])} memory, {_gib(minimum[2])} disk", node.urn)
