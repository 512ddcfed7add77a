"""The host inventory as the bootstrap layer receives it, rendered as a document for review (plan --emit)."""

from __future__ import annotations

import json

import pulumi

from components.host import Host


def _hop(hop) -> dict | None:
    return None if hop is None else {"address": hop.address, "user": hop.user, "port": hop.port}


def host_inventory(hosts: list[Host]) -> pulumi.Output[str]:
    records = [
        {
            "name": h.name,
            "role": h.role,
            "pool": h.pool,
            "zone": h.zone,
            "privateAddress": h.private_address,
            "ssh": _hop(h.ssh),
            "bastion": _hop(h.bastion),
            "capacity": {"vcpu": h.capacity.vcpu, "memoryGiB": h.capacity.memory_gib, "diskGiB": h.capacity.disk_gib},
            "labels": dict(h.labels),
            "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in h.taints],
        }
        for h in hosts
    ]
    return pulumi.Output.from_input(records).apply(lambda rs: json.dumps(rs, indent=2, sort_keys=True) + "\n")
