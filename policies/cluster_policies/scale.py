"""Scale: upstream Kubernetes' tested limits, and the brief's preference for fewer, larger workers."""

from __future__ import annotations

import math

from cluster_policies import facts
from cluster_policies.ha import machines
from cluster_policies.sizing import instance_types
from cluster_policies.tables import LARGE_WORKER_VCPU, MANY_WORKERS, MAX_NODES, MAX_PODS_PER_NODE, NODE_ROLES, WORKER


def validate_scale(args, report_violation) -> None:
    config = args.get_config()
    max_nodes = facts.config_value(config, "maxNodes", MAX_NODES)
    max_pods = facts.config_value(config, "maxPodsPerNode", MAX_PODS_PER_NODE)
    records = [r for r in args.resources if r.resource_type == facts.NODE and r.props.get("role") in NODE_ROLES]
    count = max(len(machines(args.resources)), len(records))
    if count > max_nodes:
        report_violation(f"{count} nodes: Kubernetes is tested up to {max_nodes}", None)
    for record in records:
        pods = record.props.get("maxPods")
        if pods is not None and pods > max_pods:
            report_violation(f"{record.name}: maxPods {pods} is above {max_pods} per node", record.urn)


def _worker_vcpus(args) -> list[int]:
    table = instance_types({})
    vcpus = []
    for m in machines(args.resources):
        if m.role != WORKER:
            continue
        if m.resource.resource_type == facts.INSTANCE:
            shape = table.get(m.resource.props.get("instanceType"))
            if shape:
                vcpus.append(shape[0])
        elif m.resource.props.get("vcpu"):
            vcpus.append(m.resource.props["vcpu"])
    return vcpus


def validate_fewer_larger_workers(args, report_violation) -> None:
    config = args.get_config()
    many = facts.config_value(config, "manyWorkers", MANY_WORKERS)
    large = facts.config_value(config, "largeWorkerVcpu", LARGE_WORKER_VCPU)
    vcpus = _worker_vcpus(args)
    small = [v for v in vcpus if v < large]
    if len(vcpus) > many and len(small) > len(vcpus) / 2:
        total = sum(vcpus)
        report_violation(f"{len(vcpus)} workers, {len(small)} of them under {large} vCPU ({total} vCPU in total): "
                         f"about 10 to 20 larger workers schedule with less overhead, fewer image pulls and less "
                         f"fragmentation, e.g. {math.ceil(total / large)} workers of {large} vCPU", None)
