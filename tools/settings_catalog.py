"""The settings catalogue: every setting with its type, default and the infrastructures it applies to, taken from
the readers that validate a stack (components/settings/catalog.py records them) while they load sample stacks.

The samples below hold just enough to reach every reader: each section that is read only when present (a worker
pool's taints, a workload, a bastion, addons.tls). They need not be valid; a refused stack has been read whole
before it is refused. Each is loaded for every tier (the defaults that follow the tier are seen), in two variants
that differ in everything a default could be taken from (so a default copied from another setting shows as such
instead of as the one value a sample happened to give it), and once as a stack with no section (which tells which
sections are required).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from components import sizing
from components.settings import PROJECT, SettingsError, catalog, load_settings
from components.settings.descriptions import DESCRIPTIONS
from components.settings.model import AWS_ONLY, BARE_METAL_ONLY, INFRASTRUCTURES, KNOWN_KEYS

PROVIDER_NAMESPACES = {"aws": "aws"}  # keys of a provider's own namespace (aws:region) belong to its infrastructure
TOP_LEVEL = ("infrastructure", "tier", "clusterName", "aws:region") + tuple(
    k for k in KNOWN_KEYS if k not in ("infrastructure", "tier", "clusterName"))
_TAINT = {"key": "example.com/dedicated", "value": "batch", "effect": "NoSchedule"}
_TLS = {"certificate": "not a certificate", "key": "not a key", "ca": "not a CA"}
_PACKAGES = {"url": "https://mirror.example.com/", "signingKey": "not a key"}
_MIRRORS = {"kubernetesPackages": dict(_PACKAGES), "containerdPackages": dict(_PACKAGES),
            "registries": {name: {"url": "https://registry.example.com", "ca": "not a CA"}
                           for name in ("registry.k8s.io", "docker.io", "quay.io")}}
_HOST_SYSTEM = {"cgroupV1": True, "containers": True, "ignorePreflightErrors": ["NumCPU"]}


def _aws(variant: int) -> dict[str, Any]:
    return {
        "aws:region": "eu-west-1",
        "clusterName": f"catalogue-{variant}",
        "sshUser": ("ubuntu", "admin")[variant],
        "sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdLa9S8h3uRQrTGiZ+J7yq0lY6cT6oB0gI5m1qL3d8X catalogue",
        "network": {"zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"][: 1 + 2 * variant]},
        "access": {"sshAllowedCidrs": ["198.51.100.0/24"], "apiAllowedCidrs": ["198.51.100.0/24"]},
        "controlPlane": {"count": 1 + 2 * variant},
        "workerPools": [{"name": "general", "count": 1 + variant, "taints": [_TAINT]}],
        "workloads": [{"name": "web", "replicas": 2 + variant, "cpu": "500m", "memory": "1Gi"}],
        "addons": {"tls": dict(_TLS)},
        "mirrors": copy.deepcopy(_MIRRORS),
        "hostSystem": dict(_HOST_SYSTEM),
    }


def _bare_metal(variant: int) -> dict[str, Any]:
    return {
        "infrastructure": "bareMetal",
        "clusterName": f"catalogue-{variant}",
        "sshUser": ("ubuntu", "admin")[variant],
        "network": {"hostCidr": "203.0.113.0/24"},
        "loadBalancer": {"vip": "203.0.113.10", "mode": ("dedicated", "colocated")[variant]},
        "inventory": {
            "bastion": {"address": "198.51.100.5"},
            "hosts": [{"name": "cp-1", "address": f"203.0.113.{21 + variant}", "roles": ["control-plane"], "vcpu": 8,
                       "memoryGiB": 32, "diskGiB": 200, "bastion": {"address": "198.51.100.6"},
                       "taints": [_TAINT]}],
        },
        "workloads": [{"name": "web", "replicas": 2 + variant, "cpu": "500m", "memory": "1Gi"}],
        "addons": {"domain": f"catalogue-{variant}.example.com", "tls": dict(_TLS)},
        "mirrors": copy.deepcopy(_MIRRORS),
        "hostSystem": dict(_HOST_SYSTEM),
    }


SAMPLES = {"aws": _aws, "bareMetal": _bare_metal}


def _config(settings: dict[str, Any]) -> dict[str, str]:
    """The flat config Pulumi hands a program: namespaced keys, structured values as JSON."""
    config = {key if ":" in key else f"{PROJECT}:{key}": json.dumps(value) if isinstance(value, (dict, list))
              else str(value) for key, value in settings.items()}
    config[f"{PROJECT}:sshPrivateKey"] = "[secret]"
    return config


def _load(settings: dict[str, Any]) -> tuple[catalog.Note, ...]:
    config = _config(settings)
    with catalog.recording() as notes:
        try:
            load_settings(config, frozenset({f"{PROJECT}:sshPrivateKey", f"{PROJECT}:addons"}), "catalogue")
        except SettingsError:
            pass  # the samples only need to be read, not accepted
    return tuple(notes)


def runs(infrastructures: tuple[str, ...] = INFRASTRUCTURES) -> list[catalog.Run]:
    result = []
    for infrastructure in infrastructures:
        for tier in sizing.TIERS:
            for variant in (0, 1):
                settings = {**copy.deepcopy(SAMPLES[infrastructure](variant)), "tier": tier}
                result.append(catalog.Run(infrastructure, tier, _load(settings)))
        probe = {"infrastructure": infrastructure, "tier": sizing.TIERS[0]}
        result.append(catalog.Run(infrastructure, sizing.TIERS[0], _load(probe), probe=True))
    return result


def owner(path: str) -> str | None:
    """The one infrastructure a setting belongs to by the model's rule (its section is refused on the other one),
    or None: then it applies wherever it was read."""
    top = path.split(".")[0].split("[")[0]
    if top in AWS_ONLY:
        return "aws"
    if top in BARE_METAL_ONLY:
        return "bareMetal"
    return PROVIDER_NAMESPACES.get(top.split(":")[0]) if ":" in top else None


def entries(infrastructures: tuple[str, ...] = INFRASTRUCTURES) -> list[catalog.Entry]:
    """Every setting of the given infrastructures, sections before their keys, in the readers' order; the
    defaults as those infrastructures have them (what applies where is always judged from both)."""
    return catalog.build(runs(), sizing.TIERS, TOP_LEVEL, owner, infrastructures)


def description(path: str) -> str:
    return DESCRIPTIONS.get(path, "(no description: add one to components/settings/descriptions.py)")
