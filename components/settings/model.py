"""Stack settings as typed, frozen records, and the names and limits the rules share. Pure: no Pulumi.

`load.py` builds a `Settings` from the stack's config or raises one `SettingsError` that lists every problem
with its key path and what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import sizing, versions
from components.host import Taint
from components.settings.addons import AddonSettings
from components.settings.inventory import InventoryHost, LoadBalancerSettings
from components.settings.reader import Problem
from components.settings.certificates import CertificateSettings
from components.settings.host_system import HostSystemSettings
from components.settings.mirrors import MirrorSettings
from components.settings.upgrade import UpgradeSettings
from components.sizing import NodeSize

PROJECT = "k8s-platform"

CALICO_ENCAPSULATIONS = ("VXLAN", "VXLANCrossSubnet", "IPIP", "IPIPCrossSubnet", "None")
NAT_GATEWAY_MODES = ("single", "perZone")
SSH_PATHS = ("bastion", "public")
API_LOAD_BALANCER_SCHEMES = ("internal", "internet-facing")
RESERVED_POOL_NAMES = ("cp", "bastion", "api")
RESERVED_TAGS = ("Name", "cluster", "tier", "role", "pool")

INFRASTRUCTURES = ("aws", "bareMetal")

SCALAR_KEYS = ("infrastructure", "tier", "clusterName", "kubernetesVersion", "maxPodsPerNode", "sshUser",
               "sshPublicKey", "sshPrivateKey", "imageId", "imageRepository")
OBJECT_KEYS = ("network", "access", "controlPlane", "workerPools", "inventory", "loadBalancer", "addons",
               "workloads", "tags", "upgrade", "certificates", "mirrors", "hostSystem")
# Settings that only one infrastructure reads: set on the other, they would be silently ignored, so they are refused.
AWS_ONLY = ("sshPublicKey", "imageId", "access", "controlPlane", "workerPools")
BARE_METAL_ONLY = ("inventory", "loadBalancer")
KNOWN_KEYS = SCALAR_KEYS + OBJECT_KEYS
# Defaults of the optional scalar settings; Pulumi.yaml declares the same ones (a test holds them equal).
SCALAR_DEFAULTS = {
    "infrastructure": "aws",
    "sshPublicKey": "",
    "kubernetesVersion": versions.DEFAULT_KUBERNETES_VERSION,
    "maxPodsPerNode": sizing.MAX_PODS_PER_NODE,
    "sshUser": "ubuntu",
    "imageId": "",
    "imageRepository": versions.DEFAULT_IMAGE_REPOSITORY,
}

MIN_PODS_PER_NODE = 10  # the least maxPodsPerNode: one name for the check and the settings catalogue
MAX_CLUSTER_NAME = 20  # "<cluster>-api" plus Pulumi's 8-character suffix must fit AWS's 32-character LB names.
MAX_POOL_NAME = 20


class SettingsError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack settings ({len(self.problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class PoolSettings:
    """A group of identical nodes. The control planes are the pool named "cp"."""

    name: str
    role: str
    count: int
    max_count: int  # the most nodes this pool may grow to; address space and scale limits are checked against it
    requested: NodeSize  # what the stack asked for, at least the tier minimum
    instance_type: str  # the EC2 type: the explicit choice, or the smallest candidate that meets `requested`
    capacity: NodeSize  # what one node really has: the type's vCPU and memory, the root disk size
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()


@dataclass(frozen=True)
class NetworkSettings:
    zones: tuple[str, ...]  # AWS availability zones; empty on bare metal
    vpc_cidr: str | None  # AWS only
    pod_cidr: str
    service_cidr: str
    node_cidr_mask_size: int
    nat_gateways: str
    calico_encapsulation: str
    host_cidr: str | None = None  # bare metal: the subnet of the hosts that hold the API VIP
    mtu: int = 9001  # of the hosts' network: AWS VPCs carry jumbo frames; bare metal: network.mtu (default 1500)


@dataclass(frozen=True)
class AccessSettings:
    ssh_via: str
    ssh_allowed_cidrs: tuple[str, ...]
    api_allowed_cidrs: tuple[str, ...]
    api_load_balancer: str


@dataclass(frozen=True)
class Workload:
    name: str
    replicas: int
    cpu_m: int
    memory_mib: int


@dataclass(frozen=True)
class Settings:
    stack: str
    cluster_name: str
    tier: str
    region: str | None  # AWS only
    kubernetes_version: str
    max_pods_per_node: int
    ssh_user: str
    ssh_public_key: str
    # The config key that holds the private key. The value itself never enters Settings: it is read as a Pulumi
    # secret where it is used, so no error message or repr can show it.
    ssh_private_key_config: str
    image_id: str | None
    image_repository: str  # where kubeadm and containerd pull control-plane and pause images (a mirror, or upstream)
    network: NetworkSettings
    access: AccessSettings | None  # AWS only
    control_plane: PoolSettings
    worker_pools: tuple[PoolSettings, ...]
    workloads: tuple[Workload, ...]
    extra_tags: tuple[tuple[str, str], ...]
    infrastructure: str = "aws"
    inventory: tuple[InventoryHost, ...] = ()  # bare metal: every host, in the stack file's order
    load_balancer: LoadBalancerSettings | None = None  # bare metal
    addons: AddonSettings = AddonSettings()
    upgrade: UpgradeSettings = UpgradeSettings()
    certificates: CertificateSettings = CertificateSettings()
    mirrors: MirrorSettings = MirrorSettings()
    host_system: HostSystemSettings = HostSystemSettings()

    @property
    def bare_metal(self) -> bool:
        return self.infrastructure == "bareMetal"

    @property
    def pools(self) -> tuple[PoolSettings, ...]:
        return (self.control_plane,) + self.worker_pools

    @property
    def max_node_count(self) -> int:
        return sum(p.max_count for p in self.pools)

    @property
    def nodes_private(self) -> bool:
        """Nodes sit in private subnets behind NAT and are reached through the bastion."""
        return self.access is not None and self.access.ssh_via == "bastion"


