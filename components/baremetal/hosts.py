"""The bare-metal inventory as `Host` records, the same seam AWS machines go through. Pure."""

from __future__ import annotations

from components.host import CONTROL_PLANE, LOAD_BALANCER, Host, SshHop, host_key_identity
from components.settings import Settings
from components.settings.inventory import SshEndpoint


def _hop(endpoint: SshEndpoint | None) -> SshHop | None:
    if endpoint is None:
        return None
    return SshHop(address=endpoint.address, user=endpoint.user, port=endpoint.port, host_key=endpoint.host_key)


def inventory_hosts(s: Settings) -> list[Host]:
    """Every inventory host in the stack file's order: nodes with their Kubernetes role, and hosts that only hold
    the API VIP with the load-balancer role (which the bootstrap leaves alone)."""
    hosts = []
    for h in s.inventory:
        role = h.node_role or LOAD_BALANCER
        pool = h.pool or ("cp" if role == CONTROL_PLANE else "lb")
        hosts.append(Host(name=h.name, role=role, pool=pool, zone=h.zone, private_address=h.address,
                          ssh=_hop(h.ssh), capacity=h.capacity, bastion=_hop(h.bastion), labels=h.labels,
                          taints=h.taints, identity=host_key_identity(h.ssh.host_key)))
    return hosts
