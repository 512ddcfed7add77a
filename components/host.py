"""The seam between infrastructure and bootstrap: what the bootstrap needs to know of a machine.

An AWS node pool and a bare-metal inventory both produce these records; the bootstrap never asks which one a
host came from. Address fields hold plain strings or Pulumi outputs (anything Pulumi accepts as an input), so this
module needs no Pulumi import.
"""

from __future__ import annotations

import hashlib
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
class SshPatience:
    """How long the first step on a host waits for its SSH server to answer, and then for it to accept the key.
    The remote steps themselves dial only a few times (a failed dial is retried alike whatever failed, a wrong host
    key as long as a port not open yet), so the wait before them is where a booting machine gets its minutes."""

    answer_seconds: int
    key_seconds: int = 0  # a machine that just booted may answer before cloud-init installed the key


# A host that is up already (bare metal): minutes for a reboot, no grace for a refused key.
RUNNING_HOST = SshPatience(answer_seconds=300)
# A machine the infrastructure layer has just created (AWS): its boot, then cloud-init's key.
NEW_MACHINE = SshPatience(answer_seconds=900, key_seconds=30)


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
    # The machine behind the name (plain string or output): the instance ID on AWS, host_key_identity() on bare metal,
    # "" when nothing identifies it. A node's join records it; a new one means a replaced or re-imaged machine.
    identity: Any = ""
    # What the machine has, as an output, where it can differ from `capacity` (the pool's, from the settings): a
    # machine a roll has not reached yet keeps its old type. None: `capacity`.
    machine_capacity: Any = field(default=None, compare=False)
    # Its preflight's report (an output: the JSON line preflight.sh prints), once it has one.
    preflight: Any = field(default=None, compare=False)
    # What must complete before anything changes the host: its VM, then its preflight (resources or outputs).
    ready_after: tuple = field(default=(), compare=False)
    ssh_patience: SshPatience = RUNNING_HOST


@dataclass(frozen=True)
class ApiEndpoint:
    """Where clients reach the kube-apiservers: the load balancer's DNS name (or VIP) and port."""

    host: Any
    port: int = 6443
    # Resources that must exist before anything talks to the endpoint (the listener, the registered targets).
    depends_on: tuple = field(default=(), compare=False)


def host_key_identity(host_key: str | None) -> str:
    """A bare-metal host's identity: a digest of its pinned SSH host key (re-imaging a host makes a new key), or ""
    when the key is not pinned."""
    if not host_key or not host_key.split():
        return ""
    key = " ".join(host_key.split()[:2])  # type and key: spacing or a comment do not make another machine
    return "ssh-host-key-sha256-" + hashlib.sha256(key.encode()).hexdigest()[:32]
