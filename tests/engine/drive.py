"""Runs one engine operation on a stack, in a process of its own, and writes what the engine reported as JSON.

    python -m tests.engine.drive REQUEST.json RESULT.json

The request names the work dir (Pulumi.yaml and the stack file, its secrets already set by
scripts/ci-stack-secrets), the stack, the operation (preview, up, destroy) and policy packs. (No export: the
Automation API's shows secrets in clear; EngineStack.export runs the CLI's.) The program is this checkout's
__main__.py, run as an Automation API inline program: the engine (the real CLI) drives it through the Python
SDK's own language server, as it would through pulumi-language-python. A process per operation keeps the SDK's
global state (and any test's mocks) out of it.
"""

from __future__ import annotations

import contextlib
import json
import runpy
import sys
from pathlib import Path

from pulumi import automation as auto

from tests import policy_breaks
from tests.engine import earlier as earlier_releases

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "k8s-platform"


def program_with(breaks: list[str], earlier: list[str] | None = None):
    """The program; with `breaks` (policy names of tests/policy_breaks.py) the components it names register
    outputs that break those policies; with `earlier` (names of tests/engine/earlier.py), the parts it names as an
    earlier release of the program had them."""
    def program() -> None:
        with contextlib.ExitStack() as stack:
            for policy in breaks:
                stack.enter_context(policy_breaks.broken(policy))
            for part in earlier or []:
                stack.enter_context(earlier_releases.PARTS[part]())
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
    return program


def event_record(event: auto.EngineEvent) -> dict | None:
    """What a test reads of an engine event; `time`: when the engine sent it (whole seconds)."""
    for kind in ("resource_pre_event", "res_outputs_event", "res_op_failed_event"):
        payload = getattr(event, kind)
        if payload is not None:
            metadata = payload.metadata
            return {"kind": kind, "urn": metadata.urn, "type": metadata.type, "op": str(metadata.op.value),
                    "keys": list(metadata.keys or []), "diffs": list(metadata.diffs or []), "time": event.timestamp}
    if event.policy_event is not None:
        policy = event.policy_event
        return {"kind": "policy_event", "urn": policy.resource_urn, "policy": policy.policy_name,
                "level": str(policy.enforcement_level), "message": policy.message, "time": event.timestamp}
    if event.diagnostic_event is not None:
        return {"kind": "diagnostic_event", "urn": event.diagnostic_event.urn,
                "severity": event.diagnostic_event.severity, "message": event.diagnostic_event.message,
                "time": event.timestamp}
    return None


def main(request_path: str, result_path: str) -> int:
    request = json.loads(Path(request_path).read_text())
    stack = auto.create_or_select_stack(
        stack_name=request["stack"], project_name=PROJECT,
        program=program_with(request.get("breaks", []), request.get("earlier")),
        opts=auto.LocalWorkspaceOptions(work_dir=request["workDir"], env_vars=request["env"],
                                        pulumi_command=auto.PulumiCommand(root=request["pulumiRoot"],
                                                                          skip_version_check=True)))
    events: list[dict] = []
    output: list[str] = []
    result = {"events": events, "ok": True}
    common = {"on_event": lambda event: events.append(event_record(event)), "on_output": output.append}
    operation = request["operation"]
    try:
        if operation == "preview":
            done = stack.preview(policy_packs=request.get("policyPacks"),
                                 policy_pack_configs=request.get("policyPackConfigs"),
                                 log_verbosity=request.get("logVerbosity"), log_to_std_err=bool(
                                     request.get("logVerbosity")), diff=not request.get("json"),
                                 json=request.get("json"), **common)
            result["changeSummary"] = {str(k.value if hasattr(k, "value") else k): v
                                       for k, v in done.change_summary.items()}
            result["stderr"] = done.stderr
        elif operation == "up":
            done = stack.up(policy_packs=request.get("policyPacks"),
                            policy_pack_configs=request.get("policyPackConfigs"), show_secrets=False,
                            replace=request.get("replace"),
                            log_verbosity=request.get("logVerbosity"),
                            log_to_std_err=bool(request.get("logVerbosity")), **common)
            result["changeSummary"] = done.summary.resource_changes
            result["stderr"] = done.stderr
            # The stack outputs, secret ones left out (they stay encrypted in the state).
            result["outputs"] = {key: value.value for key, value in done.outputs.items() if not value.secret}
        elif operation == "destroy":
            done = stack.destroy(**common)
            result["changeSummary"] = done.summary.resource_changes
            result["stderr"] = done.stderr
        else:
            raise SystemExit(f"unknown operation {operation}")
    except auto.CommandError as failure:
        result["ok"] = False
        result["error"] = str(failure)
    result["events"] = [event for event in events if event is not None]
    result["output"] = "".join(output)
    Path(result_path).write_text(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
