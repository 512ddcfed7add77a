"""What a change does, from two offline plans (tools/plan.py --json): resources added, removed, replaced and
updated, with the changed input paths, what the providers do about them, the consequences that need a reviewer's
attention, and the policy violations the change adds or removes.

    python -m tools.plan diff BASE.json HEAD.json [--markdown OUT] [--title TEXT]

Secrets stay "[secret]"; the plans carry a digest of each secret input ("secrets"), so a changed secret shows as
changed without its value. Pure: no Pulumi.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import version_change
from tools.step_meaning import REMOVAL_MEANING, STEP_MEANING

SECRET = "[secret]"
ALL = ("",)  # every input: any change replaces the resource

# Inputs whose change makes the provider replace the resource (the Terraform schemas' ForceNew, the Kubernetes
# provider's immutable fields, the command provider's triggers). A resource's own replaceOnChanges option adds to
# these; its ignoreChanges option removes.
REPLACED_BY = {
    "aws:ec2/instance:Instance": ("ami", "availabilityZone", "subnetId", "keyName", "privateIp", "tenancy",
                                  "placementGroup", "hostId"),
    "aws:ec2/subnet:Subnet": ("availabilityZone", "cidrBlock", "vpcId"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/securityGroup:SecurityGroup": ("description", "name", "namePrefix", "vpcId"),
    "aws:ec2/keyPair:KeyPair": ("publicKey", "keyName", "keyNamePrefix"),
    "aws:lb/loadBalancer:LoadBalancer": ("internal", "loadBalancerType", "name", "namePrefix"),
    "aws:lb/targetGroup:TargetGroup": ("port", "protocol", "targetType", "vpcId", "name", "namePrefix"),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": ("targetGroupArn", "targetId", "port", "availabilityZone"),
    "aws:route53/zone:Zone": ("name",),
    "aws:route53/record:Record": ("zoneId",),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix"),
    "aws:iam/role:Role": ("name", "namePrefix"),
    "aws:iam/instanceProfile:InstanceProfile": ("name", "namePrefix"),
    "random:index/randomPassword:RandomPassword": ALL,
    "random:index/randomString:RandomString": ALL,
    "random:index/randomBytes:RandomBytes": ALL,
    "command:remote:Command": ("triggers",),
    "kubernetes:helm.sh/v3:Release": ("name", "namespace"),
    "kubernetes:batch/v1:Job": ALL,
}
KUBERNETES_IDENTITY = ("metadata.name", "metadata.namespace", "apiVersion", "kind")


@dataclass
class Change:
    path: str
    old: Any
    new: Any
    secret: bool = False
    replaces: bool = False
    ignored: bool = False


@dataclass
class ResourceDiff:
    action: str  # add, remove, replace, update
    resource: dict  # the head's (base's when removed)
    changes: list[Change] = field(default_factory=list)
    consequence: str | None = None  # spelled out when a reviewer must look
    dangerous: bool = False
    credential_only: bool = False  # a host step whose only change is its SSH connection (the key): said once


@dataclass
class PlanDiff:
    stack: str
    resources: list[ResourceDiff]
    unchanged: int
    violations_added: list[dict]
    violations_removed: list[dict]
    version_refused: str | None = None  # a Kubernetes minor skip or downgrade (tools/version_change.py)
    upgrade: list[str] = field(default_factory=list)  # the upgrade's ordered steps and batches, as markdown lines

    def count(self, action: str) -> int:
        return sum(1 for r in self.resources if r.action == action)

    @property
    def empty(self) -> bool:
        return not (self.resources or self.violations_added or self.violations_removed or self.version_refused)


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{path}.{key}" if path else key))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{path}[{i}]"))
        return out
    return {path: value}


def _under(path: str, prefix: str) -> bool:
    if prefix == "":
        return True
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _pattern_prefix(pattern: str) -> str:
    """replaceOnChanges/ignoreChanges patterns ("triggers[*]", "rootBlockDevice.volumeSize") as path prefixes."""
    return pattern.split("[*]")[0].rstrip(".")


def _replacing_prefixes(resource: dict) -> tuple[str, ...]:
    t = resource["type"]
    prefixes = list(REPLACED_BY.get(t, ()))
    if t.startswith("kubernetes:") and t != "kubernetes:helm.sh/v3:Release":
        prefixes += KUBERNETES_IDENTITY
    prefixes += [_pattern_prefix(p) for p in resource.get("options", {}).get("replaceOnChanges", [])]
    return tuple(prefixes)


def input_changes(before: dict, after: dict) -> list[Change]:
    old, new = flatten(before.get("inputs", {})), flatten(after.get("inputs", {}))
    # A plan made before secret digests existed cannot say whether a secret changed: it is taken as unchanged.
    comparable = "secrets" in before and "secrets" in after
    old_secrets, new_secrets = before.get("secrets", {}), after.get("secrets", {})
    replacing = _replacing_prefixes(after)
    ignored = [_pattern_prefix(p) for p in after.get("options", {}).get("ignoreChanges", [])]
    changes = []
    for path in sorted(set(old) | set(new)):
        secret = old.get(path) == SECRET or new.get(path) == SECRET
        if secret:
            if old.get(path) == new.get(path) and (not comparable or old_secrets.get(path) == new_secrets.get(path)):
                continue
        elif old.get(path) == new.get(path):
            continue
        is_ignored = any(_under(path, p) for p in ignored)
        changes.append(Change(path, old.get(path), new.get(path), secret=secret, ignored=is_ignored,
                              replaces=not is_ignored and any(_under(path, p) for p in replacing)))
    return changes


def _consequence(diff: ResourceDiff) -> None:
    r, t, action = diff.resource, diff.resource["type"], diff.action
    role = (r.get("inputs", {}).get("tags") or {}).get("role")
    if t == "aws:ec2/instance:Instance" and action in ("replace", "remove"):
        # Danger: a control plane's machine (its etcd member goes; the first's holds what its init made). A worker,
        # a load balancer or the bastion is replaced the way it was asked.
        diff.dangerous = role == "control-plane"
        verb = "replaced: a new machine is created and bootstrapped, then the old one is deleted" \
            if action == "replace" else "deleted"
        if role in ("control-plane", "worker") and action == "replace":
            member = ", removes its etcd member (quorum checked)" if role == "control-plane" else ""
            diff.consequence = (f"{role} machine {r['name']} {verb}; before the new one joins, its credentials step "
                                f"drains the old node (PodDisruptionBudgets hold){member} and deletes its Node")
        elif role in ("control-plane", "worker"):
            diff.consequence = (f"{role} machine {r['name']} {verb}, after its leave step drained it and deleted its "
                                f"Node (and a control plane's etcd member)")
        else:
            diff.consequence = f"{role or 'machine'} {r['name']} {verb}"
    elif t == "command:remote:Command" and action in ("replace", "update"):
        meaning = next((m for suffix, m in STEP_MEANING.items() if r["name"].endswith(suffix)),
                       "the host step runs again (every host script is idempotent)")
        diff.consequence = f"{r['name']}: {meaning}"
        # An init that runs again on a cluster that answers only compares the settings kubeadm keeps (a version
        # change, an SSH key change): nothing to fear. A control plane's credentials step made for another machine
        # (bare metal: a new host key) takes the old one's etcd member out: that is.
        if r["name"].endswith("-credentials") and _runs_on_control_plane(r) and _identity_changed(diff):
            diff.dangerous = True
            diff.consequence += "; the machine behind this control plane changed: its old etcd member is removed"
    elif t == "command:remote:Command" and action == "remove":
        meaning = next((m for suffix, m in REMOVAL_MEANING.items() if r["name"].endswith(suffix)), None)
        if meaning:
            # Danger: a control plane leaving takes its etcd member out (a worker's leave is the removal asked for).
            diff.consequence = f"{r['name']}: {meaning}"
            diff.dangerous = r["name"].endswith("-leave") and _runs_on_control_plane(r)
    elif t.startswith("random:") and action == "replace":
        diff.dangerous = True
        diff.consequence = f"{r['name']}: a generated secret is generated anew; everything that uses it changes"
    elif t == "kubernetes:helm.sh/v3:Release" and action in ("update", "replace"):
        versions = [c for c in diff.changes if c.path == "version"]
        upgrade = f" {versions[0].old} → {versions[0].new}" if versions else ""
        diff.consequence = f"Helm {'reinstall' if action == 'replace' else 'upgrade'} of {r['name']}{upgrade}"
    elif action == "remove" and t.startswith(("aws:ebs/", "aws:s3/bucket:", "kubernetes:core/v1:PersistentVolume")):
        diff.dangerous = True
        diff.consequence = f"{r['name']} is deleted with its data"


def _runs_on_control_plane(resource: dict) -> bool:
    """Whether a host step's script (any of its inputs) is rendered for a control plane (ROLE=control-plane)."""
    return any(isinstance(v, str) and "readonly ROLE=control-plane" in v
               for v in flatten(resource.get("inputs", {})).values())


def _identity_changed(d: ResourceDiff) -> bool:
    """Whether a host step's script names another machine identity (NODE_IDENTITY) than before."""
    def identity(text: Any) -> str | None:
        match = re.search(r"^readonly NODE_IDENTITY=(.*)$", text, re.MULTILINE) if isinstance(text, str) else None
        return match[1] if match else None
    return any(identity(c.old) != identity(c.new) for c in d.changes if not c.secret)


def _credential_only(d: ResourceDiff) -> bool:
    """A host step whose only change is its SSH connection: the key (or its user or port) changed, the script did
    not. The step runs again over the new connection (pulumi-command runs a command again for any change). So does
    the wait for a machine's SSH, whose only input that changed is the (secret) key."""
    effective = [c for c in d.changes if not c.ignored]
    if d.action != "update" or not effective:
        return False
    if d.resource["type"] == "command:remote:Command":
        return all(_under(c.path, "connection") for c in effective)
    # The wait for a machine's SSH (`<host>-reachable`) carries the key in its input, which is secret.
    return (d.resource["type"] == "command:local:Command" and d.resource["name"].endswith("-reachable")
            and all(c.secret for c in effective))


def _note_dependents(diffs: list[ResourceDiff], after: dict[str, dict]) -> None:
    """A replaced machine gets a new address: the host steps that connect to it run again on the new machine
    (the offline plan's fake addresses cannot show that change, so it is said here)."""
    for d in diffs:
        if d.action != "replace" or d.resource["type"] != "aws:ec2/instance:Instance":
            continue
        steps = sorted(r["name"] for r in after.values()
                       if r["type"] == "command:remote:Command" and d.resource["urn"] in r.get("dependsOn", []))
        if steps:
            d.consequence += f"; on the new machine these steps run: {', '.join(steps)}"


def _violation_key(v: dict) -> tuple:
    return (v["policy"], v["level"], v["resource"], v["message"])


def diff_plans(base: dict, head: dict) -> PlanDiff:
    before = {r["urn"]: r for r in base.get("resources", [])}
    after = {r["urn"]: r for r in head.get("resources", [])}
    out: list[ResourceDiff] = []
    unchanged = 0
    for urn in sorted(set(before) | set(after)):
        if urn not in before:
            out.append(ResourceDiff("add", after[urn]))
        elif urn not in after:
            out.append(ResourceDiff("remove", before[urn]))
        else:
            changes = input_changes(before[urn], after[urn])
            effective = [c for c in changes if not c.ignored]
            if not effective and not changes:
                unchanged += 1
                continue
            action = "replace" if any(c.replaces for c in changes) else ("update" if effective else "ignored")
            out.append(ResourceDiff(action, after[urn], changes))
    for d in out:
        if _credential_only(d):
            d.credential_only = True
        else:
            _consequence(d)
    _note_dependents(out, after)
    order = {"remove": 0, "replace": 1, "update": 2, "add": 3, "ignored": 4}
    out.sort(key=lambda d: (order[d.action], d.resource["type"], d.resource["name"]))
    old_v = {_violation_key(v): v for v in base.get("violations", [])}
    new_v = {_violation_key(v): v for v in head.get("violations", [])}
    return PlanDiff(head.get("stack", base.get("stack", "?")), out, unchanged,
                    [new_v[k] for k in sorted(set(new_v) - set(old_v))],
                    [old_v[k] for k in sorted(set(old_v) - set(new_v))], version_change.refusal(base, head),
                    version_change.upgrade_section(base, head))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("head", type=Path)
    parser.add_argument("--markdown", type=Path, help="write a pull-request comment section here")
    parser.add_argument("--title", help="heading of the markdown section")
    args = parser.parse_args(argv)
    from tools.plan_diff_render import render_markdown, render_text  # the rendering builds on this module's types

    d = diff_plans(json.loads(args.base.read_text()), json.loads(args.head.read_text()))
    sys.stdout.write(render_text(d))
    if args.markdown:
        args.markdown.write_text(render_markdown(d, args.title))
    return version_change.EXIT_REFUSED if d.version_refused else 0
