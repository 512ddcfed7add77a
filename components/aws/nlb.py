"""What every Network Load Balancer here shares: the scheme the settings choose, one subnet per zone, cross-zone
balancing and a security group of its own."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.settings import Settings


def network_load_balancer(name: str, s: Settings, subnet_ids: list[pulumi.Input[str]],
                          security_group_id: pulumi.Input[str], tags: dict[str, str],
                          opts: pulumi.ResourceOptions) -> aws.lb.LoadBalancer:
    return aws.lb.LoadBalancer(
        name,
        load_balancer_type="network",
        internal=s.access.api_load_balancer == "internal",
        subnets=subnet_ids,
        security_groups=[security_group_id],
        enable_cross_zone_load_balancing=True,
        tags=tags,
        opts=opts,
    )
