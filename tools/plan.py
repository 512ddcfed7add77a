"""Offline plan: what a stack would create, with no cloud credentials and no Pulumi CLI.

    python -m tools.plan --stack NAME [--config-file PATH] [--json OUT] [--emit DIR] [--policy-config FILE]

Runs the real __main__.py under Pulumi mocks with the stack's settings, then the policy pack (policies/) over
what it declared, at the levels of the stack's tier (or of FILE, in `--policy-pack-config` format). Exit 0 on
success; exit 2 with every settings problem on stderr (and no resource declared) when the settings are invalid;
exit 3 when the plan succeeded but breaks a mandatory policy.

    python -m tools.plan diff BASE.json HEAD.json [--markdown OUT] [--title TEXT]

compares two such plans (tools/plan_diff.py).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import runpy
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

import pulumi  # noqa: E402
from pulumi.runtime import settings as runtime_settings  # noqa: E402
from pulumi.runtime.stack import wait_for_rpcs  # noqa: E402
from pulumi.runtime.sync_await import _sync_await  # noqa: E402

from components import stack_config as program_config  # noqa: E402
from components.settings import PROJECT, SettingsError, load_settings  # noqa: E402
from components.settings.examples import deploy_refusals  # noqa: E402
from tools import plan_diff, policy_check  # noqa: E402
from tools.plan_mocks import PlanMocks, RecordingMonitor, mask_secrets, secret_digests  # noqa: E402
from tools.stack_file import StackConfig, StackFileError, read_stack_file  # noqa: E402

EXIT_INVALID_SETTINGS = 2
EXIT_MANDATORY_VIOLATION = 3


class PlanError(Exception):
    """The settings or the stack file are invalid; nothing was declared."""


@dataclass
class PlanResult:
    document: dict[str, Any]
    artifacts: dict[str, str]
    notes: tuple[str, ...]
    # What the engine received, secrets still wrapped (for tests of what is sent as a secret).
    registrations: list = field(default_factory=list)
    program: dict = field(default_factory=dict)


def _resolve(value: Any) -> Any:
    output = pulumi.Output.from_input(value)
    if _sync_await(output.is_secret()):
        return "[secret]"
    return mask_secrets(_sync_await(output.future()))


def run_program(stack: str, values: dict[str, str], secret_keys: frozenset[str],
                monitor: RecordingMonitor, transformations: tuple = (), preview: bool = False) -> dict[str, Any]:
    """Runs __main__.py under mocks with this config; returns the program's globals. `transformations`
    (pulumi.ResourceTransformation functions) apply to every resource, as stack transformations do: tests use
    them to inject what settings validation would never let through."""
    runtime_settings.ROOT.set(None)  # a fresh root stack for every plan in this process
    program_config.offline_plan = True  # the mocks' update builds nothing: what refuses to deploy only warns
    _forget_previous_program()
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(dict(values), sorted(secret_keys))
    for transformation in transformations:
        pulumi.runtime.register_stack_transformation(transformation)
    saved_env = {k: os.environ.pop(k) for k in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS") if k in os.environ}
    try:
        program = runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")
        _sync_await(wait_for_rpcs())
    except pulumi.RunError as error:
        raise PlanError(str(error)) from error
    finally:
        os.environ.update(saved_env)
    return program


# While a program registers resources it allocates millions of long-lived objects and few cycles: with the default
# thresholds the collector rescans the growing heap over and over (40-48% of a large plan). A young generation of
# 200,000 objects and rare older collections keep the cost of registration near the SDK's own; the peak memory of
# a 300-worker plan grows by about 1% (tools/scale_benchmark.py, docs/contributing.md, "Scale").
PLAN_GC_THRESHOLDS = (200_000, 100, 100)


@contextmanager
def _collector_tuned_for_registration():
    saved = gc.get_threshold()
    gc.collect()
    gc.freeze()  # what exists now (modules, the previous plan's survivors) is never scanned during this plan
    gc.set_threshold(*PLAN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()


def _forget_previous_program() -> None:
    """A program that failed leaves RPCs and apply tasks behind (and their exception); the next plan in this
    process must not await them."""
    runtime_settings._get_rpc_manager().clear()
    with runtime_settings.SETTINGS.lock:
        for task in runtime_settings.SETTINGS.outputs:
            task.cancel()
        runtime_settings.SETTINGS.outputs.clear()


def build_plan(stack: str, config_file: Path | None = None, policy_config: dict | None = None,
               transformations: tuple = (), check_policies: bool = True,
               running: dict[str, tuple[str, str]] | None = None,
               host_reads: dict[tuple[str, str], str] | None = None) -> PlanResult:
    path = config_file or PROJECT_DIR / f"Pulumi.{stack}.yaml"
    try:
        stack_config = read_stack_file(path)
    except StackFileError as error:
        raise PlanError(str(error)) from error
    return plan_config(stack, stack_config, policy_config, transformations, check_policies, running, host_reads)


def plan_config(stack: str, stack_config: StackConfig, policy_config: dict | None = None,
                transformations: tuple = (), check_policies: bool = True,
                running: dict[str, tuple[str, str]] | None = None,
                host_reads: dict[tuple[str, str], str] | None = None) -> PlanResult:
    """The plan of config as the Pulumi CLI hands it to the program (decrypted values, the secret keys).
    `check_policies=False` skips the policy run (and its second pass of the program): for tests of the graph.
    `running`: the AWS machines as they run (name -> (instance type, image)); none by default, a new stack.
    `host_reads`: what the reads over SSH print, by (host address, read script); none: nothing is read."""
    # Validate first, exactly as the program will: an invalid stack never reaches the mocks.
    try:
        settings = load_settings(stack_config.values, stack_config.secret_keys, stack)
    except SettingsError as error:
        raise PlanError(str(error)) from error

    region = stack_config.values.get("aws:region", "")
    with _collector_tuned_for_registration():
        # The policies see what `pulumi preview` shows them for a new stack: inputs, with every value computed by
        # a provider unknown. A policy that reads one cannot run in a preview (the CLI downgrades it to an
        # advisory), and the plan reports that as it would.
        violations = []
        if check_policies:
            previewed = RecordingMonitor(PlanMocks(region, preview=True, running=running, host_reads=host_reads))
            run_program(stack, stack_config.values, stack_config.secret_keys, previewed, transformations,
                        preview=True)
            violations = policy_check.check(previewed.registrations, settings.tier, policy_config)
        monitor = RecordingMonitor(PlanMocks(region, running=running, host_reads=host_reads))
        program = run_program(stack, stack_config.values, stack_config.secret_keys, monitor, transformations)
        refusals = deploy_refusals(settings, stack_config.values.get(f"{PROJECT}:{settings.ssh_private_key_config}"))
        notes = tuple(f"NOT DEPLOYABLE AS WRITTEN: {r} (pulumi up refuses)" for r in refusals)
        return _result(stack, stack_config, monitor, program, violations, notes)


def _result(stack: str, stack_config: StackConfig, monitor: RecordingMonitor, program: dict,
            violations: list, refusals: tuple[str, ...] = ()) -> PlanResult:
    root = runtime_settings.get_root_resource()
    outputs = {name: _resolve(value) for name, value in sorted(root.outputs.items())}
    artifacts = {rel: _resolve(content) for rel, content in sorted(program.get("artifacts", {}).items())}
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "inputs": mask_secrets(r.inputs),
            "secrets": secret_digests(r.inputs),
            "dependsOn": r.depends_on,
            "options": r.options,
        }
        for r in sorted(monitor.registrations, key=lambda r: r.urn)
    ]
    ids = {r.id: r for r in monitor.registrations if r.id}
    for resource in resources:
        resource["_zone"] = _zone_of(resource["inputs"], ids)
    document = {"stack": stack, "resources": resources, "outputs": outputs,
                "violations": policy_check.as_json(violations)}
    return PlanResult(document, artifacts, refusals + tuple(stack_config.notes), monitor.registrations, program)


def _zone_of(inputs: dict[str, Any], ids: dict[str, Any]) -> str | None:
    if "availabilityZone" in inputs:
        return inputs["availabilityZone"]
    subnet = ids.get(inputs.get("subnetId", ""))
    return subnet.inputs.get("availabilityZone") if subnet else None


def running_machines(plan: dict) -> dict[str, tuple[str, str]]:
    """The AWS machines of a plan as if deployed: name -> (instance type, image)."""
    return {r["name"]: (r["inputs"]["instanceType"], r["inputs"]["ami"]) for r in plan["resources"]
            if r["type"] == "aws:ec2/instance:Instance"}


def plan_json(result: PlanResult) -> str:
    clean = dict(result.document)
    clean["resources"] = [{k: v for k, v in r.items() if not k.startswith("_")} for r in result.document["resources"]]
    return json.dumps(clean, indent=2, sort_keys=True) + "\n"


# --- the readable tree ---------------------------------------------------------------------------------------


def _summary(resource: dict[str, Any]) -> str:
    i, t = resource["inputs"], resource["type"]
    if t == "aws:ec2/instance:Instance":
        disk = i.get("rootBlockDevice", {})
        encrypted = "encrypted" if disk.get("encrypted") else "UNENCRYPTED"
        imds = i.get("metadataOptions", {}).get("httpTokens", "optional")
        public = "public address" if i.get("associatePublicIpAddress") else "private only"
        return (f"{i.get('instanceType')}, {disk.get('volumeSize')} GiB {disk.get('volumeType')} {encrypted}, "
                f"zone {resource.get('_zone')}, {public}, IMDS tokens {imds}")
    if t in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet"):
        zone = f", zone {i['availabilityZone']}" if "availabilityZone" in i else ""
        return f"{i.get('cidrBlock')}{zone}"
    if t == "aws:lb/loadBalancer:LoadBalancer":
        scheme = "internal" if i.get("internal") else "internet-facing"
        return f"{i.get('loadBalancerType')}, {scheme}, {len(i.get('subnets', []))} zones, cross-zone " \
               f"{'on' if i.get('enableCrossZoneLoadBalancing') else 'off'}"
    if t == "aws:lb/targetGroup:TargetGroup":
        hc = i.get("healthCheck", {})
        health = " ".join(str(part) for part in (hc.get("protocol"), hc.get("path")) if part)  # TCP checks: no path
        return (f"{i.get('protocol')} {i.get('port')}, {i.get('targetType')} targets, client IP preservation "
                f"{i.get('preserveClientIp')}, health {health} every {hc.get('interval')}s")
    if t == "aws:lb/targetGroupAttachment:TargetGroupAttachment":
        return f"target {i.get('targetId')}:{i.get('port')}"
    if t.startswith("aws:vpc/securityGroup"):
        ports = "all" if "fromPort" not in i else (
            str(i["fromPort"]) if i["fromPort"] == i["toPort"] else f"{i['fromPort']}-{i['toPort']}")
        peer = i.get("cidrIpv4") or "group"
        return f"{i.get('ipProtocol')} {ports} {peer}: {i.get('description')}"
    return ""


def render_tree(result: PlanResult) -> str:
    resources = result.document["resources"]
    by_parent: dict[str, list[dict]] = {}
    urns = {r["urn"] for r in resources}
    for r in resources:
        by_parent.setdefault(r["parent"] if r["parent"] in urns else "", []).append(r)
    lines = [f"Stack {result.document['stack']}"]

    def walk(parent: str, depth: int) -> None:
        for r in by_parent.get(parent, []):
            short_type = r["type"].split(":")[-1]
            summary = _summary(r)
            lines.append(f"{'  ' * depth}{short_type} {r['name']}{'  ' + summary if summary else ''}")
            walk(r["urn"], depth + 1)

    walk("", 1)
    counts = Counter(r["type"] for r in resources)
    lines.append("")
    lines.append(f"Resources: {len(resources)}")
    for kind, n in sorted(counts.items()):
        lines.append(f"  {n:5d}  {kind}")
    lines.append("")
    lines.append("Outputs:")
    for name, value in result.document["outputs"].items():
        lines.append(f"  {name}: {json.dumps(value, sort_keys=True) if not isinstance(value, str) else value}")
    return "\n".join(lines) + "\n"


def write_artifacts(result: PlanResult, directory: Path) -> list[Path]:
    written = []
    root = directory.resolve()
    for rel, content in result.artifacts.items():
        target = (root / rel).resolve()
        if root not in target.parents:
            raise PlanError(f"artifact path {rel!r} leaves the emit directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        written.append(target)
    return written


def main(argv: list[str] | None = None, transformations: tuple = ()) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        return plan_diff.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config-file", type=Path, help="a stack file to read instead of Pulumi.<stack>.yaml")
    parser.add_argument("--json", type=Path, dest="json_out", help="write the plan as JSON to this file")
    parser.add_argument("--emit", type=Path, help="write every artifact rendered for hosts into this directory")
    parser.add_argument("--policy-config", type=Path,
                        help="policy config as for `pulumi preview --policy-pack-config` (default: the tier's levels)")
    parser.add_argument("--running-from", type=Path,
                        help="a plan (--json) of what is deployed: its machines are taken as running, so the plan "
                             "shows which machines this update replaces (default: a new stack, nothing runs)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    try:
        running = running_machines(json.loads(args.running_from.read_text())) if args.running_from else None
        result = build_plan(args.stack, args.config_file, policy_check.read_policy_config(args.policy_config),
                            transformations, running=running)
    except (PlanError, policy_check.PolicyConfigError) as error:
        print(f"plan of stack {args.stack!r} refused: {error}", file=sys.stderr)
        return EXIT_INVALID_SETTINGS
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    sys.stdout.write(render_tree(result))
    if args.json_out:
        args.json_out.write_text(plan_json(result))
    if args.emit:
        for path in write_artifacts(result, args.emit):
            print(f"emitted {path}", file=sys.stderr)
    violations = result.document["violations"]
    sys.stdout.write(policy_check.render([policy_check.Violation(**v) for v in violations]))
    print(f"planned in {time.monotonic() - started:.1f}s", file=sys.stderr)
    if any(v["level"] == policy_check.MANDATORY for v in violations):
        return EXIT_MANDATORY_VIOLATION
    return 0


if __name__ == "__main__":
    sys.exit(main())
