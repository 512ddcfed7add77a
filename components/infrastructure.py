"""Hosts and the API endpoint for the stack's infrastructure, checked by the preflight and ready to bootstrap.

AWS: the program creates the machines and a Network Load Balancer. Bare metal: the inventory lists the hosts, and
haproxy + keepalived on the VIP holders balance the API. Either way the bootstrap gets `Host` records whose
`ready_after` includes their preflight, and an `ApiEndpoint`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.aws_infrastructure import AwsInfrastructure, AwsInfrastructureArgs
from components.host import LOAD_BALANCER, ApiEndpoint, Host
from components.host_preflight import HostPreflight, HostPreflightArgs
from components.inventory_hosts import inventory_hosts
from components.settings import Settings
from components.node_record import record_nodes
from components.vip_configs import holders
from components.vip_load_balancer import VipLoadBalancer, VipLoadBalancerArgs


@dataclass
class Provisioned:
    nodes: list[Host]  # Kubernetes nodes, each after its preflight
    endpoint: ApiEndpoint
    node_domain: str = ""  # a DNS zone with a record per node ("" when there is none)
    bastion_address: Any = None
    control_plane_role: Any = None  # AWS: the control planes' IAM role (in-cluster controllers there use it)
    ingress_address: Any = None  # AWS: the ingress load balancer's DNS name; bare metal: the workers serve it
    artifacts: dict[str, pulumi.Output[str]] = field(default_factory=dict)


def provision(s: Settings, ssh_private_key: pulumi.Input[str]) -> Provisioned:
    name = s.cluster_name
    if not s.bare_metal:
        infra = AwsInfrastructure(name, AwsInfrastructureArgs(s))
        # EC2 gives every instance its own product UUID and cloud-init a fresh machine id: no clash to look for.
        checked = HostPreflight(name, HostPreflightArgs(s.tier, infra.hosts, ssh_private_key))
        record_nodes(s, infra.hosts)
        return Provisioned(checked.hosts, infra.endpoint, infra.node_domain, infra.bastion_address,
                           infra.control_plane_role, infra.ingress_address, checked.artifacts)
    vip_ports = {peer.name: s.load_balancer.port for peer in holders(s)}
    checked = HostPreflight(name, HostPreflightArgs(s.tier, inventory_hosts(s), ssh_private_key, vip_ports,
                                                    compare_identities=True))
    record_nodes(s, inventory_hosts(s), set(vip_ports))
    balancer = VipLoadBalancer(name, VipLoadBalancerArgs(
        s, [h for h in checked.hosts if h.name in vip_ports], ssh_private_key))
    nodes = [h for h in checked.hosts if h.role != LOAD_BALANCER]
    return Provisioned(nodes, balancer.endpoint, artifacts={**checked.artifacts, **balancer.artifacts})
