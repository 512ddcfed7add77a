"""What the policy pack (policies/) reads about each host: the facts of a `Node` component's inputs. Pure.

Every host gets one, on AWS and on bare metal, so the pack counts nodes, control planes and zones the same way
everywhere. Only bare-metal hosts carry a capacity: theirs is declared in the inventory, while an AWS machine's
comes from its instance type, which the pack reads from the instance itself with a table of its own.
"""

from __future__ import annotations

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
    if s.bare_metal:
        facts.update(vcpu=host.capacity.vcpu, memoryGiB=host.capacity.memory_gib, diskGiB=host.capacity.disk_gib,
                     holdsApiVip=holds_vip)
    return facts
