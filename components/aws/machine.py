"""One EC2 machine as every component here declares it: IMDSv2 only, encrypted gp3 root volume, tagged."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class MachineSpec:
    instance_type: pulumi.Input[str]
    disk_gib: int
    subnet_id: pulumi.Input[str]
    security_group_ids: list[pulumi.Input[str]]
    public_address: bool
    source_dest_check: bool
    tags: dict[str, str]
    instance_profile: pulumi.Input[str] | None = None
    # 1: pods (one hop further) cannot reach the node's credentials. 2 on control planes only, where the EBS CSI
    # controller needs the instance profile's credentials and only control-plane workloads are scheduled.
    metadata_hop_limit: int = 1


def declare_machine(name: str, spec: MachineSpec, image_id: pulumi.Input[str], key_name: pulumi.Input[str],
                    parent: pulumi.Resource) -> aws.ec2.Instance:
    return aws.ec2.Instance(
        name,
        ami=image_id,
        instance_type=spec.instance_type,
        subnet_id=spec.subnet_id,
        vpc_security_group_ids=spec.security_group_ids,
        key_name=key_name,
        associate_public_ip_address=spec.public_address,
        iam_instance_profile=spec.instance_profile,
        source_dest_check=spec.source_dest_check,
        metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",  # IMDSv2 only: no credential theft through SSRF to IMDSv1
            http_put_response_hop_limit=spec.metadata_hop_limit,
        ),
        root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
            volume_type="gp3",
            volume_size=spec.disk_gib,
            encrypted=True,
            delete_on_termination=True,
            tags=spec.tags,
        ),
        tags=spec.tags,
        # The instance type and image come from machine_roll: the ones the machine runs, unless this update
        # replaces it (at most a batch of the pool per update). No ignore_changes: Pulumi would keep an ignored
        # property's old value even on a replacement, so a replaced machine would come back with the old image.
        # A new instance type replaces the machine rather than stopping and resizing it in place (the provider's
        # default): machines are immutable, a fresh node joins with the kubelet reservations of its new size, and
        # the plan diff says so.
        opts=pulumi.ResourceOptions(parent=parent, replace_on_changes=["instanceType"]),
    )
