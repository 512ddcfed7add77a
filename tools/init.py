"""Writes a stack file for your own machines (or AWS account) that you only have to review: every required setting,
each with its description from the settings catalogue as a comment, checked by the same readers as `pulumi up`.

    python -m tools.init --stack mylab --infrastructure bareMetal --tier lab \\
        --host cp-1=10.0.0.11:control-plane --host worker-1=10.0.0.21:worker --host-cidr 10.0.0.0/24 --vip 10.0.0.10
    python -m tools.init --stack dev --infrastructure aws --tier dev --region eu-west-1 \\
        --ssh-public-key ~/.ssh/id_ed25519.pub --allowed-cidr 100.64.10.0/24

A host is NAME=ADDRESS:ROLE[+ROLE] with optional ,vcpu=N,memoryGiB=N,diskGiB=N,zone=Z (default: the tier's minimum
for the role, zone "default": replace them with the machine's own). Bare metal needs --vip, a free address of --host-cidr
for the API's virtual IP (haproxy + keepalived on the control planes, or on load-balancer hosts). The file is written only when the settings are valid and deployable (not the
examples' key or documentation ranges); then set the private key: pulumi config set --secret sshPrivateKey < KEY.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

import yaml  # noqa: E402

from components import sizing, versions  # noqa: E402
from components.settings import PROJECT, SettingsError, load_settings  # noqa: E402
from components.settings.examples import deploy_refusals  # noqa: E402
from components.settings.model import INFRASTRUCTURES  # noqa: E402
from components.settings.descriptions import DESCRIPTIONS  # noqa: E402
from tools.stack_file import StackFileError, read_stack_file  # noqa: E402

ROLES = (*sizing.ROLES, "load-balancer")


# AWS: (control planes, workers) when not given, as the shipped examples of each tier have them.
DEFAULT_COUNTS = {"lab": (1, 1), "dev": (1, 2), "prod": (3, 3)}


class InitError(Exception):
    pass


def parse_host(text: str, tier: str) -> dict[str, Any]:
    """NAME=ADDRESS:ROLE[+ROLE][,key=value...] as an inventory host."""
    head, *extras = text.split(",")
    name, equals, rest = head.partition("=")
    address, colon, roles_text = rest.partition(":")
    if not (equals and colon and name and address and roles_text):
        raise InitError(f"--host {text!r}: expected NAME=ADDRESS:ROLE[+ROLE][,vcpu=N,memoryGiB=N,diskGiB=N,zone=Z]")
    roles = roles_text.split("+")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InitError(f"--host {text!r}: unknown role {unknown[0]!r}; one of {', '.join(ROLES)}")
    # The largest minimum of its roles: a host that is both a control plane and a worker meets both.
    minimum = max((sizing.tier_minimum(tier, r) for r in roles), key=lambda s: (s.vcpu, s.memory_gib, s.disk_gib))
    host: dict[str, Any] = {"name": name, "address": address, "roles": roles, "vcpu": minimum.vcpu,
                            "memoryGiB": minimum.memory_gib, "diskGiB": minimum.disk_gib, "zone": "default"}
    for extra in extras:
        key, _, value = extra.partition("=")
        if key not in ("vcpu", "memoryGiB", "diskGiB", "zone") or not value:
            raise InitError(f"--host {text!r}: {extra!r} is not one of vcpu=N, memoryGiB=N, diskGiB=N, zone=Z")
        host[key] = value if key == "zone" else int(value) if value.isdigit() else value
    return host


def settings_for(args: argparse.Namespace) -> dict[str, Any]:
    """The stack's settings (without the project prefix), as the arguments give them."""
    settings: dict[str, Any] = {"infrastructure": args.infrastructure, "tier": args.tier,
                                "clusterName": args.cluster_name or f"k8s-{args.stack}",
                                "kubernetesVersion": args.kubernetes_version}
    if args.infrastructure == "bareMetal":
        if not args.host:
            raise InitError("bareMetal needs the hosts: --host NAME=ADDRESS:ROLE (one per host)")
        hosts = [parse_host(h, args.tier) for h in args.host]
        settings["sshUser"] = args.ssh_user
        settings["network"] = {"hostCidr": args.host_cidr, "podCidr": args.pod_cidr, "serviceCidr": args.service_cidr}
        if not (args.vip and args.host_cidr):
            raise InitError("bareMetal needs --host-cidr (the hosts' network) and --vip (a free address in it that "
                            "the API's virtual IP takes, held by haproxy + keepalived)")
        dedicated = any("load-balancer" in h["roles"] for h in hosts)
        settings["loadBalancer"] = {"vip": args.vip, "mode": "dedicated" if dedicated else "colocated",
                                    "interface": args.interface, "virtualRouterId": 51}
        settings["inventory"] = {"hosts": hosts}
    else:
        if not args.ssh_public_key:
            raise InitError("aws needs --ssh-public-key FILE (the .pub of the key you will set as sshPrivateKey)")
        zones = args.zones.split(",") if args.zones else [f"{args.region}a"]
        settings["aws:region"] = args.region
        settings["sshPublicKey"] = Path(args.ssh_public_key).expanduser().read_text().strip()
        settings["network"] = {"zones": zones, "vpcCidr": args.vpc_cidr, "podCidr": args.pod_cidr,
                               "serviceCidr": args.service_cidr}
        if not args.allowed_cidr:
            raise InitError("aws needs --allowed-cidr CIDR: the networks that may reach SSH and the API")
        settings["access"] = {"sshAllowedCidrs": args.allowed_cidr, "apiAllowedCidrs": args.allowed_cidr}
        settings["controlPlane"] = {"count": args.control_planes or DEFAULT_COUNTS[args.tier][0]}
        settings["workerPools"] = [{"name": "general", "count": args.workers or DEFAULT_COUNTS[args.tier][1]}]
    settings["addons"] = {"domain": args.domain or f"{settings['clusterName']}.example.com"}
    return settings


def _comment(path: str) -> list[str]:
    return [f"# {path}: {DESCRIPTIONS[path]}"] if path in DESCRIPTIONS else []


def render(settings: dict[str, Any], stack: str) -> str:
    """The stack file: a header saying what to do next, then each setting under its description."""
    lines = [f"# Stack {stack}, written by python -m tools.init: review every value, then",
             "#   pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519   (the key whose public half the hosts "
             "trust)",
             "#   python -m tools.plan --stack " + stack + "   (the offline plan), then pulumi up",
             "# Every setting: python -m tools.settings_print", "config:"]
    for key, value in settings.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, list):
            lines += [f"  {line}" for line in _comment(key)]
            dumped = yaml.safe_dump({full: value}, sort_keys=False, width=1000, default_flow_style=False)
            lines += [f"  {line}" for line in dumped.rstrip("\n").splitlines()]
            continue
        if not isinstance(value, dict):
            lines += [f"  {line}" for line in _comment(key)]
            lines.append(f"  {yaml.safe_dump({full: value}, width=1000).strip()}")
            continue
        lines += [f"  {line}" for line in _comment(key)]
        lines.append(f"  {full}:")
        for inner, inner_value in value.items():
            lines += [f"    {line}" for line in _comment(f"{key}.{inner}")]
            if key == "inventory" and inner == "hosts":
                lines.append("    # vcpu, memoryGiB, diskGiB: the tier's minimum for the role unless given: set each "
                             "machine's own; zone: its failure domain (rack, room)")
            # Flow style only for short lists of plain values (roles: [worker]); mappings stay in blocks.
            nested = isinstance(inner_value, list) and any(isinstance(i, dict) for i in inner_value)
            dumped = yaml.safe_dump({inner: inner_value}, sort_keys=False, width=1000,
                                    default_flow_style=None if nested else False)
            lines += [f"    {line}" for line in dumped.rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def check(path: Path, stack: str) -> None:
    """The file as `pulumi up` will read it: valid, and nothing in it refused for deployment."""
    try:
        config = read_stack_file(path)
    except StackFileError as error:
        raise InitError(str(error)) from None
    try:
        settings = load_settings(config.values, frozenset(config.secret_keys | {f"{PROJECT}:sshPrivateKey"}), stack)
    except SettingsError as error:
        raise InitError(str(error)) from None
    refusals = deploy_refusals(settings, None)
    if refusals:
        raise InitError("not deployable as written:\n  - " + "\n  - ".join(refusals))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.init", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--infrastructure", required=True, choices=INFRASTRUCTURES)
    parser.add_argument("--tier", required=True, choices=sizing.TIERS)
    parser.add_argument("--cluster-name")
    parser.add_argument("--kubernetes-version", default=versions.DEFAULT_KUBERNETES_VERSION)
    parser.add_argument("--host", action="append", help="bareMetal: NAME=ADDRESS:ROLE[+ROLE][,vcpu=N,...]")
    parser.add_argument("--host-cidr", help="bareMetal: the hosts' network")
    parser.add_argument("--vip", help="bareMetal: the API's virtual IP, a free address of --host-cidr")
    parser.add_argument("--interface", default="eth0", help="bareMetal: the interface that holds the VIP")
    parser.add_argument("--ssh-user", default="root")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--zones", help="aws: comma-separated availability zones (default: the region's a)")
    parser.add_argument("--ssh-public-key", help="aws: the public key file the machines trust")
    parser.add_argument("--allowed-cidr", action="append", help="aws: a network that may reach SSH and the API")
    parser.add_argument("--control-planes", type=int, help="aws: how many (default: lab 1, dev 1, prod 3)")
    parser.add_argument("--workers", type=int, help="aws: workers in the pool 'general' (default: lab 1, dev 2, "
                                                    "prod 3)")
    parser.add_argument("--vpc-cidr", default="10.0.0.0/16")
    parser.add_argument("--pod-cidr", default="10.244.0.0/16")
    parser.add_argument("--service-cidr", default="10.96.0.0/12")
    parser.add_argument("--domain", help="the add-ons' DNS domain (harbor.<domain>, grafana.<domain>)")
    parser.add_argument("--output", type=Path, help="default: Pulumi.<stack>.yaml here")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    output = args.output or Path(f"Pulumi.{args.stack}.yaml")
    if output.exists() and not args.force:
        print(f"{output} exists: pass --force to overwrite it", file=sys.stderr)
        return 1
    try:
        text = render(settings_for(args), args.stack)
        candidate = output.with_name(output.name + ".new")
        candidate.write_text(text)
        try:
            check(candidate, args.stack)
        except InitError:
            candidate.unlink()
            raise
        candidate.replace(output)
    except (InitError, OSError) as error:
        print(f"no stack file written: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output}: review it, then pulumi config set --secret sshPrivateKey < KEY and "
          f"python -m tools.plan --stack {args.stack}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
