"""The SSH jump host of stacks whose nodes sit in private subnets."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.aws import machine_roll
from components.aws.machine import MachineSpec, declare_machine
from components.aws.running import running_machine
from components.aws.tags import resource_tags
from components.host import SshHop
from components.settings import Settings
from components.sizing import BASTION_DISK_GIB, BASTION_INSTANCE_TYPE

ROLE = "bastion"


@dataclass(frozen=True)
class BastionArgs:
    settings: Settings
    subnet_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    image_id: pulumi.Input[str]
    key_name: pulumi.Input[str]


class Bastion(pulumi.ComponentResource):
    hop: SshHop
    public_ip: pulumi.Output[str]

    def __init__(self, name: str, args: BastionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:Bastion", name, None, opts)
        s = args.settings
        # Like a node: it keeps the image it runs unless imageId pins another (machine_roll).
        declared = pulumi.Output.all(args.image_id, running_machine(name, s.cluster_name, self)).apply(
            lambda v: machine_roll.plan_roll([v[1]], BASTION_INSTANCE_TYPE, s.image_id, v[0], 1).specs[0])
        spec = MachineSpec(
            instance_type=BASTION_INSTANCE_TYPE,
            disk_gib=BASTION_DISK_GIB,
            subnet_id=args.subnet_id,
            security_group_ids=[args.security_group_id],
            public_address=True,
            source_dest_check=True,
            tags=resource_tags(s, name, ROLE, ROLE),
        )
        machine = declare_machine(name, spec, declared.apply(lambda d: d.image_id), args.key_name, parent=self)
        self.public_ip = machine.public_ip
        self.hop = SshHop(address=machine.public_ip, user=s.ssh_user)
        self.register_outputs({"publicIp": self.public_ip})
