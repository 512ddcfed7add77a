"""High availability: an odd etcd quorum, spread in prod; enough workers in prod; an API load balancer that spans
zones and sends traffic to every control plane."""

from __future__ import annotations

from dataclasses import dataclass

from cluster_policies import facts
from cluster_policies.tables import CONTROL_PLANE, NODE_ROLES, WORKER

API_LB_ROLE = "api-load-balancer"


@dataclass(frozen=True)
class Machine:
    name: str
    role: str
    zone: str | None
    resource: object  # the PolicyResource: an AWS instance or a bare-metal Node component


def _subnet_zone(instance, by_urn: dict) -> str | None:
    """An instance's zone: its own input, or its subnet's (an output of the instance, unknown in a preview that
    creates it, is never read)."""
    if facts.known(instance.props, "availabilityZone"):
        return instance.props["availabilityZone"]
    for dependency in (instance.property_dependencies or {}).get("subnetId", []):
        subnet = by_urn.get(getattr(dependency, "urn", dependency))
        if subnet is not None and facts.known(subnet.props, "availabilityZone"):
            return subnet.props["availabilityZone"]
    return None


def machines(resources) -> list[Machine]:
    """Kubernetes nodes: AWS instances by their tags (zone from their subnet), bare-metal hosts by their Node
    components (zone as the inventory declares it)."""
    by_urn = {r.urn: r for r in resources}
    found = []
    for r in resources:
        if r.resource_type == facts.INSTANCE:
            tags = facts.tags(r.props)
            if tags.get("role") in NODE_ROLES:
                found.append(Machine(r.name, tags["role"], _subnet_zone(r, by_urn), r))
        elif r.resource_type == facts.NODE and r.props.get("infrastructure") == "bareMetal":
            if r.props.get("role") in NODE_ROLES:
                found.append(Machine(r.name, r.props["role"], r.props.get("zone"), r))
    return found


def validate_control_plane_ha(args, report_violation) -> None:
    control_planes = [m for m in machines(args.resources) if m.role == CONTROL_PLANE]
    if not control_planes:
        return
    count = len(control_planes)
    tier = facts.one_tier(args.resources)
    if count % 2 == 0:
        report_violation(f"{count} control planes: etcd needs an odd member count (3 or 5); {count} members "
                         f"tolerate no more failures than {count - 1}", None)
    if tier != "prod":
        return
    if count < 3:
        report_violation(f"{count} control plane(s) in prod: at least 3 are needed to survive the loss of one",
                         None)
    if any(m.resource.resource_type == facts.NODE for m in control_planes):
        return  # bare metal: three separate hosts are the requirement, checked by the count
    unknown = [m.name for m in control_planes if m.zone is None]
    if unknown:
        report_violation(f"cannot tell the availability zone of {', '.join(unknown)}", None)
        return
    zones = sorted({m.zone for m in control_planes})
    if len(zones) < 3:
        report_violation(f"control planes span {len(zones)} zone(s) ({', '.join(zones)}) in prod: spread them "
                         f"over at least 3 so one zone's outage keeps the etcd quorum", None)


def validate_worker_ha(args, report_violation) -> None:
    if facts.one_tier(args.resources) != "prod":
        return
    nodes = machines(args.resources)
    workers = [m for m in nodes if m.role == WORKER]
    if nodes and len(workers) < 2:
        report_violation(f"{len(workers)} worker(s) in prod: at least 2 are needed to reschedule workloads when "
                         f"one fails", None)


def _comes_from(resource, prop: str, source, *source_keys: str) -> bool:
    """Whether `prop` of `resource` was computed from `source`. Its property dependencies say so, and a preview
    knows them before any id or address exists; only a value the program wrote as a literal (no dependencies) is
    compared with the source's known values of `source_keys`. Nothing unknown in a preview is read, so the policy
    runs in the previews that create the machines."""
    dependencies = (resource.property_dependencies or {}).get(prop, [])
    if any(getattr(d, "urn", d) == source.urn for d in dependencies):
        return True
    if dependencies:
        return False
    value = facts.known(resource.props, prop)
    return value is not None and value in [facts.known(source.props, key) for key in source_keys]


def validate_api_load_balancer(args, report_violation) -> None:
    resources = args.resources
    tier = facts.one_tier(resources)
    control_planes = [m for m in machines(resources) if m.role == CONTROL_PLANE]
    vips = [r for r in resources if r.resource_type == facts.VIP_LOAD_BALANCER]
    # A bare-metal host's Node component is named "<host>-node"; the VIP's backends are host names.
    hosts = {m.name.removesuffix("-node") for m in control_planes if m.resource.resource_type == facts.NODE}
    for vip in vips:
        missing = sorted(hosts - set(vip.props.get("backends") or []))
        if missing:
            report_violation(f"the API VIP does not balance control plane(s) {', '.join(missing)}", vip.urn)
        holders = vip.props.get("holders") or []
        if tier == "prod" and len(holders) < 2:
            report_violation(f"the API VIP has {len(holders)} holder(s) in prod: at least 2, so it moves when one "
                             f"fails", vip.urn)
    aws_control_planes = [m for m in control_planes if m.resource.resource_type == facts.INSTANCE]
    if not aws_control_planes:
        return
    balancers = [r for r in resources if r.resource_type == facts.LOAD_BALANCER
                 and facts.tags(r.props).get("role") == API_LB_ROLE]
    groups = [r for r in resources if r.resource_type == facts.TARGET_GROUP
              and facts.tags(r.props).get("role") == API_LB_ROLE]
    if not balancers or not groups:
        report_violation("no load balancer tagged role=api-load-balancer fronts the control planes", None)
        return
    for balancer in balancers:
        subnets = balancer.props.get("subnets") or [m.get("subnetId") for m in balancer.props.get("subnetMappings")
                                                     or []]
        if tier == "prod" and len(subnets) < 2:
            report_violation(f"the API load balancer spans {len(subnets)} zone(s) in prod: it must span at least 2",
                             balancer.urn)
    attachments = [r for r in resources if r.resource_type == facts.TARGET_ATTACHMENT]
    for group in groups:
        mine = [a for a in attachments if _comes_from(a, "targetGroupArn", group, "arn")]
        missing = [m.name for m in aws_control_planes if not any(
            _comes_from(a, "targetId", m.resource, "privateIp", "id") for a in mine)]
        if missing:
            report_violation(f"the API target group does not target control plane(s) {', '.join(missing)}",
                             group.urn)
