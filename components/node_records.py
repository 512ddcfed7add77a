"""The `Node` component per host that the policy pack (policies/) reads: the seam between the program and the pack.

Every host gets one, on AWS and on bare metal, so the pack counts nodes, control planes and zones the same way
everywhere. Its facts are the component's inputs, which `pulumi preview` policies see, and its outputs, which stack
policies see. It declares nothing else, so adding a host adds one and changes no other. Only bare-metal hosts carry
a capacity: theirs is declared in the inventory, while an AWS machine's comes from its instance type, which the
pack reads from the instance itself with a table of its own.
"""

from __future__ import annotations

import pulumi

from components.host import LOAD_BALANCER, Host
from components.settings import Settings

NODE_TYPE = "k8s-platform:hosts:Node"


def node_facts(s: Settings, host: Host, holds_vip: bool = False) -> dict:
    facts = {
        "cluster": s.cluster_name,
        "tier": s.tier,
        "infrastructure": s.infrastructure,
        "role": host.role,
        "pool": host.pool,
        "zone": host.zone,
    }
    if host.role != LOAD_BALANCER:  # a host that only holds the VIP runs no kubelet
        facts["maxPods"] = s.max_pods_per_node
        # What this node's runtime relaxes (hostSystem) and whether the platform gives it a pod network.
        facts["hostSystemRelaxed"] = list(s.host_system.relaxed)
        facts["podNetwork"] = "calico" if s.addons.calico else "none"
    if s.bare_metal:
        facts.update(vcpu=host.capacity.vcpu, memoryGiB=host.capacity.memory_gib, diskGiB=host.capacity.disk_gib,
                     holdsApiVip=holds_vip)
    return facts


class NodeRecord(pulumi.ComponentResource):
    def __init__(self, s: Settings, host: Host, holds_vip: bool = False, opts: pulumi.ResourceOptions | None = None):
        facts = node_facts(s, host, holds_vip)
        super().__init__(NODE_TYPE, f"{host.name}-node", facts, opts)
        self.register_outputs(facts)


def record_nodes(s: Settings, hosts: list[Host], vip_holders: set[str] | frozenset[str] = frozenset()) -> None:
    for host in hosts:
        NodeRecord(s, host, host.name in vip_holders)
