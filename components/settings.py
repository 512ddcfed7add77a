"""Stack settings: parsed once from the stack's config into frozen dataclasses. Pure: no Pulumi.

`load_settings` takes the config exactly as Pulumi hands it to a program (flat "namespace:key" strings, structured
values JSON-encoded) and either returns a `Settings` or raises one `SettingsError` that lists every problem with
its key path and what is accepted. Nothing is declared before this succeeds.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from components import sizing, subnets, versions
from components.addon_settings import AddonSettings, read_addons
from components.config_reader import Problem, Problems, Reader, did_you_mean, join
from components.host import CONTROL_PLANE, WORKER, Taint
from components.inventory_settings import (InventoryHost, LoadBalancerSettings, check_inventory,
                                          read_inventory, read_load_balancer)
from components.setting_rules import DNS_LABEL, SSH_PUBLIC_KEY, check_labels, cidr, read_taints
from components.quantities import QuantityError, cpu_millicores, memory_mib
from components.sizing import NodeSize

PROJECT = "k8s-platform"

CALICO_ENCAPSULATIONS = ("VXLAN", "VXLANCrossSubnet", "IPIP", "IPIPCrossSubnet", "None")
NAT_GATEWAY_MODES = ("single", "perZone")
SSH_PATHS = ("bastion", "public")
API_LOAD_BALANCER_SCHEMES = ("internal", "internet-facing")
RESERVED_POOL_NAMES = ("cp", "bastion", "api")
RESERVED_TAGS = ("Name", "cluster", "tier", "role", "pool")

INFRASTRUCTURES = ("aws", "bareMetal")

_SCALAR_KEYS = ("infrastructure", "tier", "clusterName", "kubernetesVersion", "maxPodsPerNode", "sshUser",
                "sshPublicKey", "sshPrivateKey", "imageId", "imageRepository")
_OBJECT_KEYS = ("network", "access", "controlPlane", "workerPools", "inventory", "loadBalancer", "addons",
                "workloads", "tags")
# Settings that only one infrastructure reads: set on the other, they would be silently ignored, so they are refused.
_AWS_ONLY = ("sshPublicKey", "imageId", "access", "controlPlane", "workerPools")
_BARE_METAL_ONLY = ("inventory", "loadBalancer")
KNOWN_KEYS = _SCALAR_KEYS + _OBJECT_KEYS
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

_VERSION = re.compile(r"^1\.(\d+)\.(\d+)$")
_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+[a-z]$")
_IMAGE_REPOSITORY = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d+)?(/[a-z0-9]([-._a-z0-9]*[a-z0-9])?)*$")
_AMI = re.compile(r"^ami-[0-9a-f]{8,17}$")
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


def load_settings(config: Mapping[str, str], secret_keys: set[str] | frozenset[str], stack: str) -> Settings:
    problems = Problems()
    values = _decode(config, problems)
    ns = f"{PROJECT}:"

    def scalar(key: str) -> str | None:
        return values.get(key)

    tier = scalar("tier")
    if tier is None:
        problems.add("tier", f"is required; one of {', '.join(sizing.TIERS)}")
    elif tier not in sizing.TIERS:
        problems.add("tier", f"must be one of {', '.join(sizing.TIERS)}, got {tier!r}{did_you_mean(tier, sizing.TIERS)}")
        tier = None

    infrastructure = scalar("infrastructure") or SCALAR_DEFAULTS["infrastructure"]
    if infrastructure not in INFRASTRUCTURES:
        problems.add("infrastructure", f"must be one of {', '.join(INFRASTRUCTURES)}, got {infrastructure!r}"
                                       f"{did_you_mean(infrastructure, INFRASTRUCTURES)}")
        infrastructure = None
    bare_metal = infrastructure == "bareMetal"
    if infrastructure is not None:
        present = {key for key, value in values.items() if value not in ("", None)}
        refused = _BARE_METAL_ONLY if not bare_metal else _AWS_ONLY
        for key in refused:
            if key in present:
                owner = "bareMetal" if key in _BARE_METAL_ONLY else "aws"
                problems.add(key, f"applies only when infrastructure is {owner}; this stack's infrastructure is "
                                  f"{infrastructure}")

    region = config.get("aws:region")
    if not region and not bare_metal:
        problems.add("aws:region", "is required (pulumi config set aws:region eu-west-1)")

    cluster_name = scalar("clusterName")
    if cluster_name is None:
        problems.add("clusterName", f"is required: a DNS label of at most {MAX_CLUSTER_NAME} characters")
    elif not DNS_LABEL.match(cluster_name) or len(cluster_name) > MAX_CLUSTER_NAME:
        problems.add("clusterName", f"must be a DNS label (a-z, 0-9, '-') of at most {MAX_CLUSTER_NAME} characters, "
                                    f"got {cluster_name!r}")

    kubernetes_version = scalar("kubernetesVersion") or SCALAR_DEFAULTS["kubernetesVersion"]
    _check_kubernetes_version(kubernetes_version, problems)

    max_pods = _scalar_int(scalar("maxPodsPerNode"), "maxPodsPerNode", SCALAR_DEFAULTS["maxPodsPerNode"], 10, sizing.MAX_PODS_PER_NODE, problems)

    ssh_user = scalar("sshUser") or SCALAR_DEFAULTS["sshUser"]
    ssh_public_key = scalar("sshPublicKey") or None
    if ssh_public_key is None and not bare_metal:
        problems.add("sshPublicKey", "is required: the OpenSSH public key installed on every machine")
    elif ssh_public_key is not None and not SSH_PUBLIC_KEY.match(ssh_public_key.strip()):
        problems.add("sshPublicKey", "must be an OpenSSH public key (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp*)")
    private_key = ns + "sshPrivateKey"
    if private_key not in config:
        problems.add("sshPrivateKey", "is required: pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519")
    elif private_key not in secret_keys:
        problems.add("sshPrivateKey", "must be a secret setting; set it again with "
                                      "pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519")

    image_id = scalar("imageId") or SCALAR_DEFAULTS["imageId"] or None
    if image_id is not None and not _AMI.match(image_id):
        problems.add("imageId", f"must be an AMI id such as ami-0123456789abcdef0, got {image_id!r}")

    image_repository = scalar("imageRepository") or SCALAR_DEFAULTS["imageRepository"]
    if not _IMAGE_REPOSITORY.match(image_repository):
        problems.add("imageRepository", f"must be a registry host with an optional path, such as "
                                        f"registry.example.com/k8s, got {image_repository!r}")

    inventory: list[InventoryHost] = []
    load_balancer = None
    if bare_metal:
        network = _read_network(values.get("network", {}), tier, region, problems, bare_metal=True)
        access = None
        lb = read_load_balancer(values.get("loadBalancer"), problems) or (None,) * 5
        hosts = read_inventory(values.get("inventory"), tier, ssh_user, lb[1], problems)
        if hosts is not None:
            host_cidr = cidr(network.host_cidr, "network.hostCidr", problems) if network else None
            others = [] if network is None else [("network.podCidr", ipaddress.IPv4Network(network.pod_cidr)),
                                                 ("network.serviceCidr", ipaddress.IPv4Network(network.service_cidr))]
            load_balancer = check_inventory(hosts, lb, host_cidr, others, tier, problems)
            inventory = hosts
        control_plane, worker_pools = _inventory_pools(inventory)
    else:
        network = _read_network(values.get("network", {}), tier, region, problems)
        access = _read_access(values.get("access"), tier, problems)
        control_plane = _read_control_plane(values.get("controlPlane"), tier, problems)
        worker_pools = _read_worker_pools(values.get("workerPools"), tier, problems)
    workloads = _read_workloads(values.get("workloads", []), problems)
    addons = read_addons(values.get("addons"), bare_metal, problems, cluster_name,
                         secret=f"{PROJECT}:addons" in secret_keys)
    tags = Reader({"tags": values.get("tags", {})}, "", problems, ["tags"]).string_map("tags", {}) or {}
    for key in sorted(tags):
        if key in RESERVED_TAGS or key.startswith("kubernetes.io/cluster/"):
            problems.add(f"tags.{key}", f"is set by the program; reserved: {', '.join(RESERVED_TAGS)}, "
                                        f"kubernetes.io/cluster/*")

    if problems:
        raise SettingsError(problems.items)

    settings = Settings(
        stack=stack,
        cluster_name=cluster_name,
        tier=tier,
        region=region,
        kubernetes_version=kubernetes_version,
        max_pods_per_node=max_pods,
        ssh_user=ssh_user,
        ssh_public_key=(ssh_public_key or "").strip(),
        ssh_private_key_config="sshPrivateKey",
        image_id=image_id,
        image_repository=image_repository,
        network=network,
        access=access,
        control_plane=control_plane,
        worker_pools=tuple(worker_pools),
        workloads=tuple(workloads),
        extra_tags=tuple(sorted(tags.items())),
        infrastructure=infrastructure,
        inventory=tuple(inventory),
        load_balancer=load_balancer,
        addons=addons,
    )
    _check_whole(settings, problems)
    if problems:
        raise SettingsError(problems.items)
    return settings


# --- decoding ------------------------------------------------------------------------------------------------


def _decode(config: Mapping[str, str], problems: Problems) -> dict[str, Any]:
    """Our namespace's keys, structured ones JSON-decoded; unknown keys refused with a hint."""
    ns = f"{PROJECT}:"
    values: dict[str, Any] = {}
    for full_key in sorted(config):
        if not full_key.startswith(ns):
            continue
        key = full_key[len(ns):]
        raw = config[full_key]
        if key not in KNOWN_KEYS:
            problems.add(key, f"unknown setting{did_you_mean(key, KNOWN_KEYS)} (known: {', '.join(KNOWN_KEYS)})")
        elif key in _OBJECT_KEYS:
            try:
                values[key] = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError as error:
                problems.add(key, f"must be structured YAML/JSON: {error.msg} at position {error.pos}")
        elif key != "sshPrivateKey":
            values[key] = raw
    return values


def _scalar_int(raw: str | None, key: str, default: int, low: int, high: int, problems: Problems) -> int | None:
    if raw is None:
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        problems.add(key, f"must be a whole number from {low} to {high}, got {raw!r}")
        return None
    if not low <= value <= high:
        problems.add(key, f"must be from {low} to {high}, got {value}")
        return None
    return value


def _check_kubernetes_version(version: str, problems: Problems) -> None:
    accepted = ", ".join(f"1.{m}.x" for m in versions.SUPPORTED_KUBERNETES_MINORS)
    match = _VERSION.match(version)
    if not match:
        problems.add("kubernetesVersion", f"must be an exact version 1.MINOR.PATCH ({accepted}), got {version!r}")
    elif int(match[1]) not in versions.SUPPORTED_KUBERNETES_MINORS:
        problems.add("kubernetesVersion", f"minor 1.{match[1]} is not supported; accepted: {accepted}")


# --- sections ------------------------------------------------------------------------------------------------


_CLUSTER_NETWORK_KEYS = ("podCidr", "serviceCidr", "nodeCidrMaskSize", "calicoEncapsulation")


def _read_network(value: Any, tier: str | None, region: str | None, problems: Problems,
                  bare_metal: bool = False) -> NetworkSettings | None:
    if bare_metal:
        r = Reader(value, "network", problems, ("hostCidr", "mtu") + _CLUSTER_NETWORK_KEYS)
        host_cidr = cidr(r.string("hostCidr"), "network.hostCidr", problems)
        mtu = r.integer("mtu", 1500, minimum=1280, maximum=9216)
        zones, vpc, nat = [], None, "single"
    else:
        r = Reader(value, "network", problems, ("zones", "vpcCidr", "natGateways") + _CLUSTER_NETWORK_KEYS)
        host_cidr, mtu = None, 9001
        zones = r.string_list("zones")
        vpc = cidr(r.string("vpcCidr", "10.0.0.0/16"), "network.vpcCidr", problems)
    pods = cidr(r.string("podCidr", "10.244.0.0/16"), "network.podCidr", problems)
    services = cidr(r.string("serviceCidr", "10.96.0.0/12"), "network.serviceCidr", problems)
    mask = r.integer("nodeCidrMaskSize", 24, minimum=16, maximum=28)
    if not bare_metal:
        nat = r.choice("natGateways", NAT_GATEWAY_MODES, "single")
    encapsulation = r.choice("calicoEncapsulation", CALICO_ENCAPSULATIONS, "VXLAN")

    if zones is not None and not bare_metal:
        needed = 3 if tier == "prod" else 1
        if len(zones) < needed:
            problems.add("network.zones", f"needs at least {needed} availability zone(s) in tier {tier}, "
                                          f"got {len(zones)}")
        if len(zones) > subnets.MAX_ZONES:
            problems.add("network.zones", f"at most {subnets.MAX_ZONES} zones fit the subnet layout")
        if len(set(zones)) != len(zones):
            problems.add("network.zones", "must not repeat a zone")
        for i, zone in enumerate(zones):
            if not _ZONE.match(zone):
                problems.add(f"network.zones[{i}]", f"must be an availability zone name such as eu-west-1a, "
                                                    f"got {zone!r}")
            elif region and not (zone.startswith(region) and len(zone) == len(region) + 1):
                problems.add(f"network.zones[{i}]", f"zone {zone!r} is not in region {region!r}")
    if vpc is not None and not 16 <= vpc.prefixlen <= 24:
        problems.add("network.vpcCidr", f"prefix must be from /16 to /24, got /{vpc.prefixlen}")
    if services is not None and not 12 <= services.prefixlen <= 24:
        problems.add("network.serviceCidr", f"prefix must be from /12 to /24 (kube-apiserver allows at most "
                                            f"2^20 addresses), got /{services.prefixlen}")
    if pods is not None and mask is not None and mask <= pods.prefixlen:
        problems.add("network.nodeCidrMaskSize", f"must be longer than the pod CIDR's /{pods.prefixlen}, got /{mask}")
    named = [("network.hostCidr", host_cidr) if bare_metal else ("network.vpcCidr", vpc),
             ("network.podCidr", pods), ("network.serviceCidr", services)]
    for i, (name_a, a) in enumerate(named):
        for name_b, b in named[i + 1:]:
            if a is not None and b is not None and a.overlaps(b):
                problems.add(name_b, f"{b} overlaps {name_a} {a}")
    if None in (zones, pods, services, mask, nat, encapsulation, mtu) or not r.ok:
        return None
    if (host_cidr if bare_metal else vpc) is None:
        return None
    return NetworkSettings(tuple(zones), None if vpc is None else str(vpc), str(pods), str(services), mask, nat,
                           encapsulation, None if host_cidr is None else str(host_cidr), mtu)


def _read_access(value: Any, tier: str | None, problems: Problems) -> AccessSettings | None:
    r = Reader(value, "access", problems, ["sshVia", "sshAllowedCidrs", "apiAllowedCidrs", "apiLoadBalancer"])
    ssh_via = r.choice("sshVia", SSH_PATHS, "bastion")
    scheme = r.choice("apiLoadBalancer", API_LOAD_BALANCER_SCHEMES, "internal")
    lists = {}
    for key in ("sshAllowedCidrs", "apiAllowedCidrs"):
        items = r.string_list(key)
        path = f"access.{key}"
        if items is not None and not items:
            problems.add(path, "must list at least one CIDR")
        parsed = [cidr(item, f"{path}[{i}]", problems) for i, item in enumerate(items or [])]
        if tier == "prod":
            for i, net in enumerate(parsed):
                if net is not None and net.prefixlen == 0:
                    problems.add(f"{path}[{i}]", "0.0.0.0/0 is refused in prod: name the networks that need access")
        lists[key] = None if items is None or None in parsed else tuple(str(n) for n in parsed)
    if tier == "prod" and ssh_via == "public":
        problems.add("access.sshVia", "prod machines sit in private subnets: must be bastion, got 'public'")
    if None in (ssh_via, scheme, *lists.values()) or not r.ok:
        return None
    return AccessSettings(ssh_via, lists["sshAllowedCidrs"], lists["apiAllowedCidrs"], scheme)


_POOL_SIZE_KEYS = ("vcpu", "memoryGiB", "diskGiB", "instanceType")


def _read_size(r: Reader, tier: str | None, role: str, path: str, problems: Problems) -> tuple[NodeSize, str, NodeSize] | None:
    """The requested size (defaults: the tier minimum), the chosen instance type and the resulting capacity."""
    minimum = sizing.tier_minimum(tier, role) if tier else NodeSize(1, 1, 1)
    vcpu = r.integer("vcpu", minimum.vcpu, minimum=1)
    memory = r.integer("memoryGiB", minimum.memory_gib, minimum=1)
    disk = r.integer("diskGiB", minimum.disk_gib, minimum=1, maximum=16384)
    explicit = r.string("instanceType", None)
    if tier is None or None in (vcpu, memory, disk):
        return None
    for key, got, least in (("vcpu", vcpu, minimum.vcpu), ("memoryGiB", memory, minimum.memory_gib),
                            ("diskGiB", disk, minimum.disk_gib)):
        if got < least:
            problems.add(join(path, key), f"{got} is below the tier {tier} minimum of {least} for {role} nodes "
                                          f"({minimum.describe()})")
    requested = NodeSize(max(vcpu, minimum.vcpu), max(memory, minimum.memory_gib), max(disk, minimum.disk_gib))
    if explicit is not None:
        why = sizing.instance_type_problem(tier, role, requested, explicit)
        if why:
            problems.add(join(path, "instanceType"), why)
            return None
        chosen = sizing.INSTANCE_TYPES_BY_NAME[explicit]
    else:
        chosen = sizing.smallest_instance_type(tier, requested.vcpu, requested.memory_gib)
        if chosen is None:
            problems.add(path, f"no known instance type has {requested.vcpu} vCPU and {requested.memory_gib} GiB; "
                               f"the largest is {sizing.INSTANCE_TYPES[-1].name}")
            return None
    return requested, chosen.name, NodeSize(chosen.vcpu, chosen.memory_gib, requested.disk_gib)


def _read_control_plane(value: Any, tier: str | None, problems: Problems) -> PoolSettings | None:
    r = Reader(value, "controlPlane", problems, ("count",) + _POOL_SIZE_KEYS)
    count = r.integer("count", minimum=1, maximum=7)
    size = _read_size(r, tier, CONTROL_PLANE, "controlPlane", problems)
    if count is not None:
        if count % 2 == 0:
            problems.add("controlPlane.count", f"etcd needs an odd member count (1, 3, 5 or 7; prod 3, 5 or 7), "
                                               f"got {count}")
        elif tier == "prod" and count < 3:
            problems.add("controlPlane.count", f"prod needs an odd count of at least 3 (3, 5 or 7), got {count}")
    if count is None or size is None or not r.ok:
        return None
    requested, instance_type, capacity = size
    return PoolSettings("cp", CONTROL_PLANE, count, count, requested, instance_type, capacity)


def _read_worker_pools(value: Any, tier: str | None, problems: Problems) -> list[PoolSettings]:
    holder = Reader({"workerPools": value}, "", problems, ["workerPools"])
    items = holder.list_of("workerPools")
    if items is None:
        return []
    if not items:
        problems.add("workerPools", "must list at least one worker pool")
    pools, seen = [], set()
    for path, item in items:
        r = Reader(item, path, problems, ("name", "count", "maxCount", "labels", "taints") + _POOL_SIZE_KEYS)
        name = r.string("name")
        count = r.integer("count", minimum=1, maximum=sizing.MAX_NODES)
        max_count = r.integer("maxCount", count, minimum=1, maximum=sizing.MAX_NODES)
        labels = r.string_map("labels", {})
        taints = read_taints(r, path, problems)
        size = _read_size(r, tier, WORKER, path, problems)
        if name is not None:
            if not DNS_LABEL.match(name) or len(name) > MAX_POOL_NAME:
                problems.add(join(path, "name"), f"must be a DNS label of at most {MAX_POOL_NAME} characters, "
                                                 f"got {name!r}")
            elif name in RESERVED_POOL_NAMES:
                problems.add(join(path, "name"), f"{name!r} is reserved ({', '.join(RESERVED_POOL_NAMES)})")
            elif name in seen:
                problems.add(join(path, "name"), f"pool name {name!r} is used twice")
            seen.add(name)
        if count is not None and max_count is not None and max_count < count:
            problems.add(join(path, "maxCount"), f"must be at least count ({count}), got {max_count}")
        check_labels(labels, path, problems)
        if None in (name, count, max_count, labels, taints, size) or not r.ok:
            continue
        requested, instance_type, capacity = size
        pools.append(PoolSettings(name, WORKER, count, max_count, requested, instance_type, capacity,
                                  tuple(sorted(labels.items())), tuple(taints)))
    return pools


def _read_workloads(value: Any, problems: Problems) -> list[Workload]:
    holder = Reader({"workloads": value}, "", problems, ["workloads"])
    result = []
    for path, item in holder.list_of("workloads", []) or []:
        r = Reader(item, path, problems, ["name", "replicas", "cpu", "memory"])
        name = r.string("name")
        replicas = r.integer("replicas", minimum=1, maximum=sizing.MAX_PODS_TOTAL)
        cpu = _quantity(r, "cpu", cpu_millicores, path, problems)
        memory = _quantity(r, "memory", memory_mib, path, problems)
        if None not in (name, replicas, cpu, memory) and r.ok:
            result.append(Workload(name, replicas, cpu, memory))
    return result


def _quantity(r: Reader, key: str, parse, path: str, problems: Problems) -> int | None:
    raw = r.raw(key)
    if raw is None:
        return None
    try:
        return parse(raw)
    except QuantityError as error:
        problems.add(join(path, key), str(error))
        return None


# --- rules across sections -----------------------------------------------------------------------------------


def _check_whole(s: Settings, problems: Problems) -> None:
    nodes = s.max_node_count
    if nodes > sizing.MAX_NODES:
        problems.add("workerPools", f"the settings allow {nodes} nodes; Kubernetes is tested up to "
                                    f"{sizing.MAX_NODES}")
    pods = ipaddress.IPv4Network(s.network.pod_cidr)
    mask = s.network.node_cidr_mask_size
    fits = 2 ** (mask - pods.prefixlen)
    if nodes > fits:
        problems.add("network.podCidr", f"{pods} with a /{mask} block per node fits {fits} nodes, but the settings "
                                        f"allow {nodes} (control planes plus every pool's maxCount); widen the pod "
                                        f"CIDR or lengthen network.nodeCidrMaskSize")
    if 2 ** (32 - mask) < s.max_pods_per_node:
        problems.add("network.nodeCidrMaskSize", f"a /{mask} pod block holds {2 ** (32 - mask)} addresses, fewer "
                                                 f"than maxPodsPerNode ({s.max_pods_per_node})")
    if not s.bare_metal:
        _check_zone_room(s, problems)
    if s.tier == "prod" and not s.bare_metal and sum(p.count for p in s.worker_pools) < 2:
        problems.add("workerPools", "prod needs at least 2 workers so that a node failure leaves capacity")
    total_replicas = sum(w.replicas for w in s.workloads)
    if total_replicas > sizing.MAX_PODS_TOTAL:
        problems.add("workloads", f"{total_replicas} pods in total exceed the tested limit of "
                                  f"{sizing.MAX_PODS_TOTAL}")
    if s.workloads:
        demand = sizing.demand_with_headroom([(w.replicas, w.cpu_m, w.memory_mib) for w in s.workloads])
        pools = [sizing.PoolCapacity(p.name, p.count, sizing.allocatable(s.tier, p.capacity, s.max_pods_per_node))
                 for p in s.worker_pools]
        short = sizing.capacity_shortfall(demand, pools)
        if short:
            problems.add("workloads", short.describe())


def _check_zone_room(s: Settings, problems: Problems) -> None:
    per_subnet = subnets.usable_hosts_per_subnet(s.network.vpc_cidr)
    zones = len(s.network.zones)
    busiest = max(-(-p.max_count // zones) for p in s.pools) * len(s.pools)
    if busiest > per_subnet:
        problems.add("network.vpcCidr", f"each zone's subnet holds {per_subnet} machines, but up to {busiest} may "
                                        f"land in one zone; widen the VPC CIDR")


def _inventory_pools(hosts: list[InventoryHost]) -> tuple[PoolSettings | None, list[PoolSettings]]:
    """The inventory as pools, for the rules every infrastructure shares (node count, pod CIDR room, capacity
    planning). A pool's capacity is the smallest declared one among its hosts: what every node surely has."""
    def pool(name: str, role: str, members: list[InventoryHost]) -> PoolSettings:
        smallest = NodeSize(min(h.capacity.vcpu for h in members), min(h.capacity.memory_gib for h in members),
                            min(h.capacity.disk_gib for h in members))
        return PoolSettings(name, role, len(members), len(members), smallest, "", smallest)

    control_planes = [h for h in hosts if h.node_role == CONTROL_PLANE]
    by_pool: dict[str, list[InventoryHost]] = {}
    for host in hosts:
        if host.node_role == WORKER:
            by_pool.setdefault(host.pool, []).append(host)
    workers = [pool(name, WORKER, members) for name, members in by_pool.items()]
    return (pool("cp", CONTROL_PLANE, control_planes) if control_planes else None), workers
