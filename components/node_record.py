"""A `Node` component per host that carries its facts (node_facts.py) for the policy pack: as inputs, which
`pulumi preview` policies see, and as outputs, which stack policies see. It declares nothing else, so adding a
host adds one and changes no other."""

from __future__ import annotations

import pulumi

from components.host import Host
from components.node_facts import NODE_TYPE, node_facts
from components.settings import Settings


class NodeRecord(pulumi.ComponentResource):
    def __init__(self, s: Settings, host: Host, holds_vip: bool = False, opts: pulumi.ResourceOptions | None = None):
        facts = node_facts(s, host, holds_vip)
        super().__init__(NODE_TYPE, f"{host.name}-node", facts, opts)
        self.register_outputs(facts)


def record_nodes(s: Settings, hosts: list[Host], vip_holders: set[str] | frozenset[str] = frozenset()) -> None:
    for host in hosts:
        NodeRecord(s, host, host.name in vip_holders)
