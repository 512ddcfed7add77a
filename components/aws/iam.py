"""The control planes' AWS identity: an instance profile with what in-cluster controllers on them may do.

Only control planes get a profile. The EBS CSI controller runs there (tolerating the control-plane taint) and
attaches volumes; workers carry no AWS permissions at all, so a compromised workload pod finds none.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.aws.tags import resource_tags
from components.settings import Settings

EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
ASSUME_BY_EC2 = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


class ControlPlaneIdentity(pulumi.ComponentResource):
    role: aws.iam.Role
    profile_name: pulumi.Output[str]

    def __init__(self, name: str, s: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:ControlPlaneIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(f"{name}-role", assume_role_policy=ASSUME_BY_EC2,
                                 description=f"Control planes of cluster {s.cluster_name}",
                                 tags=resource_tags(s, f"{name}-role", "control-plane"), opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-ebs-csi", role=self.role.name, policy_arn=EBS_CSI_POLICY, opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=self.role.name,
                                          tags=resource_tags(s, f"{name}-profile", "control-plane"), opts=child)
        self.profile_name = profile.name
        self.register_outputs({"role": self.role.arn})
