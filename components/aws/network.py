"""VPC, per-zone public and private subnets, internet gateway, NAT and route tables."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.tags import resource_tags
from components.settings import Settings
from components.settings.subnets import zone_subnets

ROLE = "network"


@dataclass(frozen=True)
class NetworkArgs:
    settings: Settings


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: dict[str, pulumi.Output[str]]
    private_subnet_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:aws:Network", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)

        def tags(resource: str) -> dict[str, str]:
            return resource_tags(s, resource, ROLE)

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=s.network.vpc_cidr, enable_dns_hostnames=True,
                          enable_dns_support=True, tags=tags(f"{name}-vpc"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags(f"{name}-igw"), opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=tags(f"{name}-public"), opts=child)

        self.vpc_id = vpc.id
        self.public_subnet_ids = {}
        self.private_subnet_ids = {}
        layout = zone_subnets(s.network.vpc_cidr, s.network.zones)
        nat_ids: dict[str, pulumi.Output[str]] = {}
        for zs in layout:
            public = aws.ec2.Subnet(
                f"{name}-public-{zs.zone}", vpc_id=vpc.id, cidr_block=zs.public_cidr, availability_zone=zs.zone,
                # Only dev-style stacks (ssh via public addresses) give machines public IPs, and they ask for one
                # explicitly on the instance; the subnet never hands them out by default.
                map_public_ip_on_launch=False,
                tags={**tags(f"{name}-public-{zs.zone}"), "kubernetes.io/role/elb": "1"}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{zs.zone}", subnet_id=public.id,
                                          route_table_id=public_rt.id, opts=child)
            self.public_subnet_ids[zs.zone] = public.id
            if s.nodes_private and (s.network.nat_gateways == "perZone" or not nat_ids):
                eip = aws.ec2.Eip(f"{name}-nat-{zs.zone}", domain="vpc", tags=tags(f"{name}-nat-{zs.zone}"),
                                  opts=child)
                nat = aws.ec2.NatGateway(f"{name}-nat-{zs.zone}", allocation_id=eip.allocation_id,
                                         subnet_id=public.id, connectivity_type="public",
                                         tags=tags(f"{name}-nat-{zs.zone}"),
                                         opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]))
                nat_ids[zs.zone] = nat.id

        if s.nodes_private:
            first_nat = next(iter(nat_ids.values()))
            for zs in layout:
                private = aws.ec2.Subnet(
                    f"{name}-private-{zs.zone}", vpc_id=vpc.id, cidr_block=zs.private_cidr,
                    availability_zone=zs.zone, map_public_ip_on_launch=False,
                    tags={**tags(f"{name}-private-{zs.zone}"), "kubernetes.io/role/internal-elb": "1"}, opts=child)
                route_table = aws.ec2.RouteTable(
                    f"{name}-private-{zs.zone}", vpc_id=vpc.id,
                    routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0",
                                                        nat_gateway_id=nat_ids.get(zs.zone, first_nat))],
                    tags=tags(f"{name}-private-{zs.zone}"), opts=child)
                aws.ec2.RouteTableAssociation(f"{name}-private-{zs.zone}", subnet_id=private.id,
                                              route_table_id=route_table.id, opts=child)
                self.private_subnet_ids[zs.zone] = private.id

        self.register_outputs({"vpcId": self.vpc_id})

    def node_subnet_ids(self, private: bool) -> dict[str, pulumi.Output[str]]:
        return self.private_subnet_ids if private else self.public_subnet_ids
