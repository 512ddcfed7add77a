"""The seam between infrastructure and bootstrap: what the bootstrap needs to know of a machine.

An AWS node pool and a bare-metal inventory both produce these records; the bootstrap never asks which one a
host came from. Address fields hold plain strings or Pulumi outputs (anything Pulumi accepts as an input), so this
module needs no Pulumi import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.sizing import NodeSize

CONTROL_PLANE = "control-plane"
WORKER = "worker"
LOAD_BALANCER = "load-balancer"  # a bare-metal host that only holds the API VIP; not a Kubernetes node


@dataclass(frozen=True)
class Taint:
    key: str
    effect: str
    value: str = ""


@dataclass(frozen=True)
class SshHop:
    """An SSH endpoint: a host to connect to directly, or the bastion to jump through."""

    address: Any
    user: str
    port: int = 22
    host_key: str | None = None  # the pinned public host key; None: not checked


@dataclass(frozen=True)
class Host:
    name: str
    role: str
    pool: str
    zone: str
    private_address: Any
    ssh: SshHop
    capacity: NodeSize
    bastion: SshHop | None = None
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()
    # What must complete before anything changes the host: its VM, then its preflight (resources or outputs).
    ready_after: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class ApiEndpoint:
    """Where clients reach the kube-apiservers: the load balancer's DNS name (or VIP) and port."""

    host: Any
    port: int = 6443
    # Resources that must exist before anything talks to the endpoint (the listener, the registered targets).
    depends_on: tuple = field(default=(), compare=False)
