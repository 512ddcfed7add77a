"""Everything below Kubernetes on AWS: network, security groups, machines, bastion and the API load balancer.

Hands the next layer a list of Host records and the API endpoint, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import versions
from components.aws import firewall
from components.aws.api_load_balancer import ApiLoadBalancer, ApiLoadBalancerArgs
from components.aws.bastion import Bastion, BastionArgs
from components.aws.iam import ControlPlaneIdentity
from components.aws.ingress_load_balancer import IngressLoadBalancer, IngressLoadBalancerArgs
from components.aws.network import Network, NetworkArgs
from components.aws.node_pool import NodePool, NodePoolArgs
from components.aws.security import SecurityGroups, SecurityGroupsArgs
from components.aws.tags import resource_tags
from components.host import ApiEndpoint, Host
from components.settings import Settings


@dataclass(frozen=True)
class AwsInfrastructureArgs:
    settings: Settings


def _warn_waiting(roll: dict) -> None:
    if roll["waiting"]:
        pulumi.log.warn(f"machines still to replace for their new instance type or image, in later updates (at most "
                        f"one control plane and upgrade.maxUnavailableWorkers workers per pool each; a single control "
                        f"plane is never replaced: add two first): {', '.join(roll['waiting'])}; this update replaces "
                        f"{', '.join(roll['replaced']) or 'none'}")


class AwsInfrastructure(pulumi.ComponentResource):
    hosts: list[Host]
    endpoint: ApiEndpoint
    bastion_address: pulumi.Output[str] | None
    node_domain: str

    def __init__(self, name: str, args: AwsInfrastructureArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:Infrastructure", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)

        image_id = s.image_id or aws.ec2.get_ami_output(
            owners=[versions.UBUNTU_AMI_OWNER],
            most_recent=True,
            filters=[
                aws.ec2.GetAmiFilterArgs(name="name", values=[versions.UBUNTU_AMI_NAME_FILTER]),
                aws.ec2.GetAmiFilterArgs(name="architecture", values=[versions.UBUNTU_AMI_ARCHITECTURE]),
                aws.ec2.GetAmiFilterArgs(name="virtualization-type", values=["hvm"]),
                aws.ec2.GetAmiFilterArgs(name="root-device-type", values=["ebs"]),
            ],
            opts=pulumi.InvokeOptions(parent=self),
        ).id
        key = aws.ec2.KeyPair(f"{name}-ssh", public_key=s.ssh_public_key,
                              tags=resource_tags(s, f"{name}-ssh", "ssh"), opts=child)

        network = Network(name, NetworkArgs(s), opts=child)
        # Every node resolvable by name: a private zone in the VPC with one A record per node (added with the
        # node, so nothing else changes when a node is added).
        self.node_domain = f"{s.cluster_name}.internal"
        zone = aws.route53.Zone(f"{name}-nodes", name=self.node_domain,
                                comment=f"Node names of cluster {s.cluster_name}",
                                vpcs=[aws.route53.ZoneVpcArgs(vpc_id=network.vpc_id)],
                                tags=resource_tags(s, f"{name}-nodes", "dns"), opts=child)
        groups = SecurityGroups(name, SecurityGroupsArgs(s, network.vpc_id), opts=child).group_ids

        bastion = None
        if s.nodes_private:
            bastion = Bastion(f"{name}-bastion", BastionArgs(
                settings=s,
                subnet_id=network.public_subnet_ids[s.network.zones[0]],
                security_group_id=groups[firewall.BASTION],
                image_id=image_id,
                key_name=key.key_name,
            ), opts=child)
        self.bastion_address = bastion.public_ip if bastion else None

        identity = ControlPlaneIdentity(f"{name}-control-plane", s, opts=child)
        self.control_plane_role = identity.role
        node_subnets = network.node_subnet_ids(s.nodes_private)
        source_dest_check = not firewall.needs_source_dest_check_off(s)
        self.hosts = []
        replaced, waiting = [], []
        for pool in s.pools:
            security_groups = [groups[firewall.NODES]]
            is_control_plane = pool.role == "control-plane"
            if is_control_plane:
                security_groups.append(groups[firewall.CONTROL_PLANE])
            node_pool = NodePool(f"{name}-{pool.name}", NodePoolArgs(
                settings=s,
                pool=pool,
                subnet_ids=node_subnets,
                security_group_ids=security_groups,
                image_id=image_id,
                key_name=key.key_name,
                source_dest_check=source_dest_check,
                bastion=bastion.hop if bastion else None,
                dns_zone_id=zone.zone_id,
                dns_domain=self.node_domain,
                instance_profile=identity.profile_name if is_control_plane else None,
                metadata_hop_limit=2 if is_control_plane else 1,
                # Control planes one at a time, always (none when there is only one: nothing could hand its
                # replacement credentials); workers as many as an upgrade drains at once.
                roll_batch=(0 if pool.count == 1 else 1) if is_control_plane else s.upgrade.max_unavailable_workers,
            ), opts=child)
            self.hosts.extend(node_pool.hosts)
            replaced.append(node_pool.replaced)
            waiting.append(node_pool.waiting)

        lb_subnets = network.public_subnet_ids if s.access.api_load_balancer == "internet-facing" else node_subnets
        api = ApiLoadBalancer(f"{s.cluster_name}-api", ApiLoadBalancerArgs(
            settings=s,
            vpc_id=network.vpc_id,
            subnet_ids=[lb_subnets[zone] for zone in s.network.zones],
            security_group_id=groups[firewall.API_LB],
            control_planes=[h for h in self.hosts if h.role == "control-plane"],
        ), opts=child)
        self.endpoint = api.endpoint
        # The machines this update replaces for a new instance type or pinned image, and those left for the next.
        self.machine_roll = pulumi.Output.all(pulumi.Output.all(*replaced), pulumi.Output.all(*waiting)).apply(
            lambda v: {"replaced": [n for names in v[0] for n in names],
                       "waiting": [n for names in v[1] for n in names]})
        self.machine_roll.apply(_warn_waiting)
        self.ingress_address = None
        if s.addons.ingress:
            ingress = IngressLoadBalancer(f"{s.cluster_name}-ing", IngressLoadBalancerArgs(
                settings=s, vpc_id=network.vpc_id, subnet_ids=[lb_subnets[zone] for zone in s.network.zones],
                security_group_id=groups[firewall.INGRESS_LB],
                workers=[h for h in self.hosts if h.role != "control-plane"]), opts=child)
            self.ingress_address = ingress.dns_name
            # Harbor and Grafana in the cluster's private zone, for the nodes (pulls) and the VPC's clients.
            for host in s.addons.web_hosts():
                if host and host.endswith(f".{self.node_domain}"):
                    aws.route53.Record(f"{name}-{host.split('.')[0]}-dns", zone_id=zone.zone_id, name=host, type="A",
                                       aliases=[aws.route53.RecordAliasArgs(name=ingress.dns_name,
                                                                            zone_id=ingress.zone_id,
                                                                            evaluate_target_health=True)],
                                       opts=child)
        self.register_outputs({"apiEndpoint": api.dns_name})
