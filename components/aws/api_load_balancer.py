"""A Network Load Balancer for the kube-apiservers: TCP 6443 across the zones, every control plane a target."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.firewall import API_PORT
from components.aws.nlb import network_load_balancer
from components.aws.tags import resource_tags
from components.host import ApiEndpoint, Host
from components.settings import Settings

ROLE = "api-load-balancer"

# Readiness, not liveness: an apiserver that is up but not ready (etcd unreachable, still starting) leaves
# rotation. /readyz is readable without credentials (system:public-info-viewer). Two checks 10 s apart move a
# target in or out within about 20 s; while only the first control plane is up during `kubeadm init`, it alone is
# healthy and takes the traffic (an NLB with no healthy target fails open to all targets, so a cold start works).
HEALTH_CHECK = dict(
    enabled=True,
    protocol="HTTPS",
    port="traffic-port",
    path="/readyz",
    matcher="200",
    interval=10,
    timeout=6,
    healthy_threshold=2,
    unhealthy_threshold=2,
)
# Long-lived watches are drained for this long when a control plane leaves; the default 300 s slows replacement.
DEREGISTRATION_DELAY_S = 30


@dataclass(frozen=True)
class ApiLoadBalancerArgs:
    settings: Settings
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]  # one per zone
    security_group_id: pulumi.Input[str]
    control_planes: list[Host]


class ApiLoadBalancer(pulumi.ComponentResource):
    endpoint: ApiEndpoint
    dns_name: pulumi.Output[str]

    def __init__(self, name: str, args: ApiLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:ApiLoadBalancer", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        tags = resource_tags(s, name, ROLE)
        lb = network_load_balancer(name, s, args.subnet_ids, args.security_group_id, tags, child)
        # IP targets with client IP preservation off: the NLB then rewrites the source address, so a control plane
        # that reaches the API through the NLB and lands on itself (kubelet, kubeadm join) is not dropped as
        # hairpin traffic.
        target_group = aws.lb.TargetGroup(
            name,
            port=API_PORT,
            protocol="TCP",
            target_type="ip",
            preserve_client_ip="false",
            vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_S,
            health_check=aws.lb.TargetGroupHealthCheckArgs(**HEALTH_CHECK),
            tags=tags,
            opts=child,
        )
        listener = aws.lb.Listener(
            name,
            load_balancer_arn=lb.arn,
            port=API_PORT,
            protocol="TCP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
            tags=tags,
            opts=child,
        )
        attachments = []
        for host in args.control_planes:
            attachments.append(aws.lb.TargetGroupAttachment(
                f"{name}-{host.name}",
                target_group_arn=target_group.arn,
                target_id=host.private_address,
                port=API_PORT,
                opts=child,
            ))
        self.dns_name = lb.dns_name
        self.endpoint = ApiEndpoint(host=lb.dns_name, port=API_PORT, depends_on=(listener, *attachments))
        self.register_outputs({"dnsName": self.dns_name})
