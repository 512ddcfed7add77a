"""A second Network Load Balancer for the ingress controller: 80 and 443 to its NodePorts on every worker."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.firewall import INGRESS_PORTS
from components.aws.nlb import network_load_balancer
from components.aws.tags import resource_tags
from components.host import Host
from components.settings import Settings

ROLE = "ingress-load-balancer"


@dataclass(frozen=True)
class IngressLoadBalancerArgs:
    settings: Settings
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]  # one per zone
    security_group_id: pulumi.Input[str]
    workers: list[Host]


class IngressLoadBalancer(pulumi.ComponentResource):
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]

    def __init__(self, name: str, args: IngressLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:IngressLoadBalancer", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        tags = resource_tags(s, name, ROLE)
        lb = network_load_balancer(name, s, args.subnet_ids, args.security_group_id, tags, child)
        for port, node_port in INGRESS_PORTS:
            # IP targets without client IP preservation, as for the API: a node reaching Harbor through this load
            # balancer may land on itself. Target group names allow 32 characters: a short prefix, not the name.
            group = aws.lb.TargetGroup(f"{name}-{port}", name_prefix=f"i{port}-", port=node_port, protocol="TCP",
                                       target_type="ip", preserve_client_ip="false", vpc_id=args.vpc_id,
                                       deregistration_delay=30,
                                       health_check=aws.lb.TargetGroupHealthCheckArgs(
                                           enabled=True, protocol="TCP", port="traffic-port", interval=10,
                                           healthy_threshold=2, unhealthy_threshold=2),
                                       tags=tags, opts=child)
            aws.lb.Listener(f"{name}-{port}", load_balancer_arn=lb.arn, port=port, protocol="TCP",
                            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward",
                                                                              target_group_arn=group.arn)],
                            tags=tags, opts=child)
            for host in args.workers:
                aws.lb.TargetGroupAttachment(f"{name}-{port}-{host.name}", target_group_arn=group.arn,
                                             target_id=host.private_address, port=node_port, opts=child)
        self.dns_name, self.zone_id = lb.dns_name, lb.zone_id
        self.register_outputs({"dnsName": self.dns_name})
