"""Security groups and their rules, declared from the pure rule list in components.firewall."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws import firewall
from components.aws.tags import resource_tags
from components.settings import Settings

ROLE = "security"


@dataclass(frozen=True)
class SecurityGroupsArgs:
    settings: Settings
    vpc_id: pulumi.Input[str]


class SecurityGroups(pulumi.ComponentResource):
    group_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:SecurityGroups", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.group_ids = {}
        for group in firewall.groups(s):
            sg = aws.ec2.SecurityGroup(
                f"{name}-{group}", vpc_id=args.vpc_id, description=f"{s.cluster_name} {group}",
                tags=resource_tags(s, f"{name}-{group}", ROLE), opts=child)
            self.group_ids[group] = sg.id

        for rule in firewall.rules(s):
            rule_name = f"{name}-{rule.group}-{rule.direction}-{rule.slug}"
            kwargs = dict(
                security_group_id=self.group_ids[rule.group],
                ip_protocol=rule.protocol,
                description=rule.description,
                tags=resource_tags(s, rule_name, ROLE),
                opts=child,
            )
            if rule.from_port is not None:
                kwargs.update(from_port=rule.from_port, to_port=rule.to_port)
            if rule.cidr is not None:
                kwargs["cidr_ipv4"] = rule.cidr
            else:
                kwargs["referenced_security_group_id"] = self.group_ids[rule.peer_group]
            if rule.direction == "ingress":
                aws.vpc.SecurityGroupIngressRule(rule_name, **kwargs)
            else:
                aws.vpc.SecurityGroupEgressRule(rule_name, **kwargs)

        self.register_outputs({"groupIds": self.group_ids})
