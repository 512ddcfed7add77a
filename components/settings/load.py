"""Reads the stack's config into `Settings`. Pure: no Pulumi.

`load_settings` takes the config exactly as Pulumi hands it to a program (flat "namespace:key" strings, structured
values JSON-encoded) and either returns a `Settings` or raises one `SettingsError` that lists every problem with
its key path and what is accepted. Nothing is declared before this succeeds. The sections are read by scalars.py,
network.py and pools.py (AWS) or inventory.py (bare metal) and addons.py; cluster_rules.py checks what spans them,
on every section that read cleanly, so independent mistakes are reported together.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any, Mapping

from components import sizing
from components.settings import catalog
from components.settings.addons import read_addons
from components.settings.cluster_rules import Sections, check_whole
from components.settings.inventory import InventoryHost, read_inventory, read_load_balancer
from components.settings.inventory_rules import check_inventory
from components.settings.model import (AWS_ONLY, BARE_METAL_ONLY, INFRASTRUCTURES, KNOWN_KEYS, MAX_CLUSTER_NAME,
                                       MIN_PODS_PER_NODE, OBJECT_KEYS, PROJECT, SCALAR_DEFAULTS, Settings,
                                       SettingsError)
from components.settings.network import networks_as_written, read_access, read_network
from components.settings.pools import inventory_pools, read_control_plane, read_worker_pools, read_workloads
from components.settings.reader import REQUIRED, Problems, did_you_mean, shown
from components.settings.rules import is_dns_label
from components.settings.scalars import (AMI, IMAGE_REPOSITORY, check_kubernetes_version, check_region,
                                         check_ssh_public_key, check_ssh_user, read_scalar_int, read_tags)
from components.settings.certificates import read_certificates
from components.settings.host_system import read_host_system
from components.settings.mirrors import read_mirrors
from components.settings.upgrade import read_upgrade


def load_settings(config: Mapping[str, str], secret_keys: set[str] | frozenset[str], stack: str) -> Settings:
    problems = Problems()
    values = _decode(config, problems)

    def scalar(key: str, kind: catalog.Kind, default: Any = REQUIRED) -> str | None:
        """A top-level string setting, or its default when it is unset or empty; noted for the catalogue like the
        readers' keys, so the catalogue lists what is read here with the default used here."""
        catalog.note(key, kind, default)
        value = values.get(key)
        return value if default is REQUIRED else (value or default)

    tier = scalar("tier", catalog.one_of(sizing.TIERS))
    if tier is None:
        problems.add("tier", f"is required; one of {', '.join(sizing.TIERS)}")
    elif tier not in sizing.TIERS:
        problems.add("tier", f"must be one of {', '.join(sizing.TIERS)}, got {shown(tier)}"
                             f"{did_you_mean(tier, sizing.TIERS)}")
        tier = None

    infrastructure = scalar("infrastructure", catalog.one_of(INFRASTRUCTURES), SCALAR_DEFAULTS["infrastructure"])
    if infrastructure not in INFRASTRUCTURES:
        problems.add("infrastructure", f"must be one of {', '.join(INFRASTRUCTURES)}, got {shown(infrastructure)}"
                                       f"{did_you_mean(infrastructure, INFRASTRUCTURES)}")
        infrastructure = None
    bare_metal = infrastructure == "bareMetal"
    if infrastructure is not None:
        present = {key for key, value in values.items() if value not in ("", None)}
        refused = BARE_METAL_ONLY if not bare_metal else AWS_ONLY
        for key in refused:
            if key in present:
                owner = "bareMetal" if key in BARE_METAL_ONLY else "aws"
                problems.add(key, f"applies only when infrastructure is {owner}; this stack's infrastructure is "
                                  f"{infrastructure}")

    region = check_region(config.get("aws:region"), not bare_metal, problems)

    cluster_name = scalar("clusterName", catalog.TEXT)
    if cluster_name is None:
        problems.add("clusterName", f"is required: a DNS label of at most {MAX_CLUSTER_NAME} characters")
    elif not is_dns_label(cluster_name, MAX_CLUSTER_NAME):
        problems.add("clusterName", f"must be a DNS label (a-z, 0-9, '-') of at most {MAX_CLUSTER_NAME} characters, "
                                    f"got {shown(cluster_name)}")
        cluster_name = None

    kubernetes_version = scalar("kubernetesVersion", catalog.TEXT, SCALAR_DEFAULTS["kubernetesVersion"])
    check_kubernetes_version(kubernetes_version, problems)

    # Not through scalar(): an empty value is refused here, not defaulted; read_scalar_int notes it itself.
    max_pods = read_scalar_int(values.get("maxPodsPerNode"), "maxPodsPerNode", SCALAR_DEFAULTS["maxPodsPerNode"],
                               MIN_PODS_PER_NODE, sizing.MAX_PODS_PER_NODE, problems)

    ssh_user = scalar("sshUser", catalog.TEXT, SCALAR_DEFAULTS["sshUser"])
    if not check_ssh_user(ssh_user, "sshUser", problems):
        ssh_user = SCALAR_DEFAULTS["sshUser"]  # hosts that name their own user are still checked
    ssh_public_key = scalar("sshPublicKey", catalog.TEXT,
                            SCALAR_DEFAULTS["sshPublicKey"] if bare_metal else REQUIRED) or None
    if ssh_public_key is None and not bare_metal:
        problems.add("sshPublicKey", "is required: the OpenSSH public key installed on every machine")
    elif ssh_public_key is not None:
        check_ssh_public_key(ssh_public_key, problems)
    private_key = f"{PROJECT}:sshPrivateKey"
    catalog.note("sshPrivateKey", catalog.SECRET_TEXT, REQUIRED)
    if private_key not in config:
        problems.add("sshPrivateKey", "is required: pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519")
    elif private_key not in secret_keys:
        problems.add("sshPrivateKey", "must be a secret setting; set it again with "
                                      "pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519")

    image_id = scalar("imageId", catalog.TEXT, SCALAR_DEFAULTS["imageId"]) or None
    if image_id is not None and not AMI.fullmatch(image_id):
        problems.add("imageId", f"must be an AMI id such as ami-0123456789abcdef0, got {shown(image_id)}")

    image_repository = scalar("imageRepository", catalog.TEXT, SCALAR_DEFAULTS["imageRepository"])
    if not (len(image_repository) <= 255 and IMAGE_REPOSITORY.fullmatch(image_repository)):
        problems.add("imageRepository", f"must be a registry host with an optional path, such as "
                                        f"registry.example.com/k8s, got {shown(image_repository)}")

    inventory: list[InventoryHost] = []
    load_balancer = None
    if bare_metal:
        network = read_network(values.get("network", {}), tier, region, problems, bare_metal=True)
        access = None
        lb = read_load_balancer(values.get("loadBalancer"), problems) or (None,) * 5
        hosts, hosts_complete = read_inventory(values.get("inventory"), tier, ssh_user, lb[1], problems)
        written = networks_as_written(values.get("network", {}))
        host_cidr = written["hostCidr"] if network is None else ipaddress.IPv4Network(network.host_cidr)
        others = [(f"network.{key}", written[key]) for key in ("podCidr", "serviceCidr")] if network is None else [
            ("network.podCidr", ipaddress.IPv4Network(network.pod_cidr)),
            ("network.serviceCidr", ipaddress.IPv4Network(network.service_cidr))]
        load_balancer = check_inventory(hosts, hosts_complete, lb, host_cidr, others, tier, problems)
        inventory = hosts if hosts_complete else []
        control_plane, worker_pools = inventory_pools(inventory)
        pools_clean = hosts_complete and control_plane is not None
    else:
        network = read_network(values.get("network", {}), tier, region, problems)
        access = read_access(values.get("access"), tier, problems)
        before = len(problems)
        control_plane = read_control_plane(values.get("controlPlane"), tier, problems)
        worker_pools = read_worker_pools(values.get("workerPools"), tier, problems)
        pools_clean = len(problems) == before and control_plane is not None
    before = len(problems)
    workloads = read_workloads(values.get("workloads", []), problems)
    workloads_clean = len(problems) == before
    addons = read_addons(values.get("addons"), bare_metal, problems, cluster_name,
                         secret=f"{PROJECT}:addons" in secret_keys)
    tags = read_tags(values.get("tags", {}), problems)
    upgrade = read_upgrade(values.get("upgrade"), tier, problems)
    certificates = read_certificates(values.get("certificates"), problems)
    mirrors = read_mirrors(values.get("mirrors"), problems)
    host_system = read_host_system(values.get("hostSystem"), problems)
    harbor_cached = set(addons.harbor_proxy_cache) if addons is not None else set()
    for name, _ in mirrors.registries:
        if name in harbor_cached:
            problems.add(f"mirrors.registries.{name}", f"{name} is also in addons.harbor.proxyCache: the nodes pull it "
                                                      f"through one or the other; remove it from one")

    check_whole(Sections(tier, bare_metal, network,
                         (control_plane, *worker_pools) if pools_clean else None, max_pods,
                         tuple(workloads) if workloads_clean else None), problems)
    if problems:
        raise SettingsError(problems.items)
    return Settings(
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
        upgrade=upgrade,
        certificates=certificates,
        mirrors=mirrors,
        host_system=host_system,
    )


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
        elif key in OBJECT_KEYS:
            try:
                values[key] = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError as error:
                problems.add(key, f"must be structured YAML/JSON: {error.msg} at position {error.pos}")
            except ValueError:  # an integer of more digits than Python converts (4,300)
                problems.add(key, "holds an integer of thousands of digits; no setting takes one")
        elif key != "sshPrivateKey":
            values[key] = raw
    return values
