"""Reading what the program sets on resources: tags, component inputs, and policy config with defaults (the
SDK does not fill in config schema defaults; the CLI does, so every read names its default)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from pulumi_policy.proxy import UnknownValueError

INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
TARGET_ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
NODE = "k8s-platform:hosts:Node"
VIP_LOAD_BALANCER = "k8s-platform:bare-metal:VipLoadBalancer"

# The AWS resources whose tags carry tier, role and pool (the program tags every one of them).
TAGGED_TYPES = (INSTANCE, VOLUME, SECURITY_GROUP, LOAD_BALANCER, TARGET_GROUP, SUBNET)
REQUIRED_TAGS = ("tier", "role", "pool")


def known(props: Mapping[str, Any], key: str) -> Any:
    """props[key], or None when a preview cannot know it yet (the analyzer's props raise on an unknown)."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def tags(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return props.get("tags") or {}


def labels(resource_props: Mapping[str, Any], resource_type: str) -> Mapping[str, Any]:
    """tier/role/pool: a Node component's inputs, an AWS resource's tags."""
    return resource_props if resource_type == NODE else tags(resource_props)


def config_value(config: Mapping[str, Any], key: str, default: Any) -> Any:
    value = config.get(key) if config else None
    return default if value is None else value


def one_tier(resources: Iterable[Any]) -> str | None:
    """The tier the stack's machines say they belong to (the program gives them all the same one)."""
    tiers = sorted({labels(r.props, r.resource_type).get("tier") for r in resources
                    if r.resource_type in (INSTANCE, NODE)} - {None})
    return tiers[0] if len(tiers) == 1 else None
