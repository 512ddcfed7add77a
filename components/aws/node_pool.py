"""A pool of identical cluster machines (the control planes, or one worker pool), spread over the zones."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws import machine_roll
from components.aws.machine import MachineSpec, declare_machine
from components.aws.running import running_machine
from components.aws.tags import resource_tags
from components.host import Host, SshHop, NEW_MACHINE
from components.settings import PoolSettings, Settings
from components.settings.subnets import zone_for_index


@dataclass(frozen=True)
class NodePoolArgs:
    settings: Settings
    pool: PoolSettings
    subnet_ids: dict[str, pulumi.Input[str]]  # by zone
    security_group_ids: list[pulumi.Input[str]]
    image_id: pulumi.Input[str]  # for new machines: imageId, or Canonical's newest image
    key_name: pulumi.Input[str]
    source_dest_check: bool
    bastion: SshHop | None
    dns_zone_id: pulumi.Input[str]
    dns_domain: str
    instance_profile: pulumi.Input[str] | None = None
    metadata_hop_limit: int = 1
    roll_batch: int = 1  # machines replaced per update when the pool's spec changes (machine_roll)


class NodePool(pulumi.ComponentResource):
    hosts: list[Host]

    def __init__(self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:NodePool", name, None, opts)
        s, pool = args.settings, args.pool
        public = not s.nodes_private
        self.hosts = []
        names = [f"{s.cluster_name}-{pool.name}-{index}" for index in range(pool.count)]
        running = [running_machine(host_name, s.cluster_name, self) for host_name in names]
        roll = pulumi.Output.all(args.image_id, *running).apply(lambda v: machine_roll.plan_roll(
            list(v[1:]), pool.instance_type, s.image_id, v[0], args.roll_batch))
        self.replaced = roll.apply(lambda r: [names[i] for i in r.replaced])
        self.waiting = roll.apply(lambda r: [names[i] for i in r.waiting])
        for index, host_name in enumerate(names):
            zone = zone_for_index(s.network.zones, index)
            declared = roll.apply(lambda r, index=index: r.specs[index])
            spec = MachineSpec(
                instance_type=declared.apply(lambda d: d.instance_type),
                disk_gib=pool.capacity.disk_gib,
                subnet_id=args.subnet_ids[zone],
                security_group_ids=list(args.security_group_ids),
                public_address=public,
                source_dest_check=args.source_dest_check,
                tags=resource_tags(s, host_name, pool.role, pool.name),
                instance_profile=args.instance_profile,
                metadata_hop_limit=args.metadata_hop_limit,
            )
            machine = declare_machine(host_name, spec, declared.apply(lambda d: d.image_id), args.key_name,
                                      parent=self)
            aws.route53.Record(f"{host_name}-dns", zone_id=args.dns_zone_id, name=f"{host_name}.{args.dns_domain}",
                               type="A", ttl=60, records=[machine.private_ip],
                               opts=pulumi.ResourceOptions(parent=self))
            self.hosts.append(Host(
                name=host_name,
                role=pool.role,
                pool=pool.name,
                zone=zone,
                private_address=machine.private_ip,
                ssh=SshHop(address=machine.public_ip if public else machine.private_ip, user=s.ssh_user),
                capacity=pool.capacity,
                bastion=args.bastion,
                labels=pool.labels,
                taints=pool.taints,
                identity=machine.id,
                machine_capacity=declared.apply(lambda d: machine_roll.capacity_of(d, pool.capacity)),
                ready_after=(machine,),
                ssh_patience=NEW_MACHINE,
            ))
        self.register_outputs({"hosts": [h.name for h in self.hosts], "replaced": self.replaced,
                               "waiting": self.waiting})
