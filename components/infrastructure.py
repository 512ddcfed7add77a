"""Hosts and the API endpoint for the stack's infrastructure, checked by the preflight and ready to bootstrap.

AWS: the program creates the machines and a Network Load Balancer. Bare metal: the inventory lists the hosts, and
haproxy + keepalived on the VIP holders balance the API. Either way the bootstrap gets `Host` records whose
`ready_after` includes their preflight, and an `ApiEndpoint`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi

from components.aws.backup_bucket import etcd_backup_store
from components.aws.infrastructure import AwsInfrastructure, AwsInfrastructureArgs
from components.baremetal.hosts import inventory_hosts
from components.baremetal.vip_configs import holders
from components.baremetal.vip_load_balancer import VipLoadBalancer, VipLoadBalancerArgs
from components.bootstrap.host_preflight import HostPreflight, HostPreflightArgs
from components.host import LOAD_BALANCER, ApiEndpoint, Host
from components.node_records import record_nodes
from components.settings import Settings


@dataclass
class Provisioned:
    nodes: list[Host]  # Kubernetes nodes, each after its preflight
    endpoint: ApiEndpoint
    node_domain: str = ""  # a DNS zone with a record per node ("" when there is none)
    bastion_address: Any = None
    # AWS: declares the bucket etcd snapshots are copied to and gives its name; None where there is none.
    backup_store: Callable[[], pulumi.Output[str]] | None = None
    ingress_address: Any = None  # AWS: the ingress load balancer's DNS name; bare metal: the workers serve it
    artifacts: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    machine_roll: Any = None  # AWS: {"replaced": [...], "waiting": [...]} machine names (components/aws/machine_roll)


def provision(s: Settings, ssh_private_key: pulumi.Input[str]) -> Provisioned:
    name = s.cluster_name
    if not s.bare_metal:
        infra = AwsInfrastructure(name, AwsInfrastructureArgs(s))
        # EC2 gives every instance its own product UUID and cloud-init a fresh machine id: no clash to look for.
        checked = HostPreflight(name, HostPreflightArgs(s.tier, infra.hosts, ssh_private_key,
                                                        container_hosts=s.host_system.containers))
        record_nodes(s, infra.hosts)
        return Provisioned(checked.hosts, infra.endpoint, infra.node_domain, infra.bastion_address,
                           etcd_backup_store(s, infra.control_plane_role), infra.ingress_address, checked.artifacts,
                           infra.machine_roll)
    vip_ports = {peer.name: s.load_balancer.port for peer in holders(s)}
    checked = HostPreflight(name, HostPreflightArgs(s.tier, inventory_hosts(s), ssh_private_key, vip_ports,
                                                    compare_identities=True,
                                                    container_hosts=s.host_system.containers))
    record_nodes(s, inventory_hosts(s), set(vip_ports))
    balancer = VipLoadBalancer(name, VipLoadBalancerArgs(
        s, [h for h in checked.hosts if h.name in vip_ports], ssh_private_key))
    nodes = [h for h in checked.hosts if h.role != LOAD_BALANCER]
    return Provisioned(nodes, balancer.endpoint, artifacts={**checked.artifacts, **balancer.artifacts})
