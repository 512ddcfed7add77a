"""Runs the policy pack (policies/cluster_policies) over a plan, the way `pulumi preview --policy-pack policies`
runs it over a preview: resource policies on each resource's inputs, stack policies on all of them. Each policy
runs at the level its config gives it: the stack's tier's levels (policies/config/<tier>.json), or a config file
in the CLI's format ({"policy": "advisory"} or {"policy": {"enforcementLevel": ..., property: value}})."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
POLICIES_DIR = PROJECT_DIR / "policies"
if str(POLICIES_DIR) not in sys.path:
    sys.path.insert(0, str(POLICIES_DIR))

from pulumi_policy import (EnforcementLevel, PolicyCustomTimeouts, PolicyResource,  # noqa: E402
                           PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy,
                           StackValidationArgs, StackValidationPolicy)

from pulumi.output import Unknown  # noqa: E402
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy  # noqa: E402

from cluster_policies.pack import PACK_NAME, levels_for, policies  # noqa: E402
from tools.plan_mocks import Registration, mask_secrets  # noqa: E402

MANDATORY = EnforcementLevel.MANDATORY.value
ADVISORY = EnforcementLevel.ADVISORY.value
# The CLI's words when a policy read a value unknown during preview (pulumi_policy's analyzer): it reports them at
# the advisory level whatever the policy's own level, so a mandatory policy silently stops guarding.
CANT_RUN = "can't run policy '{policy}' from policy pack '" + PACK_NAME + "' during preview: {reason}"


@dataclass(frozen=True, order=True)
class Violation:
    policy: str
    level: str
    resource: str  # the resource's name, or "(stack)"
    message: str
    urn: str = ""


LEVELS = tuple(level.value for level in EnforcementLevel)


class PolicyConfigError(ValueError):
    """A policy config that names a policy the pack does not have, or a level that does not exist."""


def read_policy_config(path: Path | None) -> dict[str, dict[str, Any]]:
    """{policy: {"enforcementLevel": level?, **properties}} from a file in the CLI's format. A misspelled policy
    name would silently configure nothing (the policy keeps its tier's level): it is refused, with the names the
    pack has."""
    if path is None:
        return {}
    raw = json.loads(path.read_text())
    if not isinstance(raw, dict):
        raise PolicyConfigError(f"{path}: must be a JSON object of policy names")
    known = sorted(policy.name for policy in policies())
    config = {}
    for name, value in raw.items():
        if name != "all" and name not in known:  # "all": the CLI's name for every policy of the pack
            raise PolicyConfigError(f"{path}: {name!r} is not a policy of the {PACK_NAME} pack; its policies are: "
                                    f"{', '.join(known)}")
        entry = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
        level = entry.get("enforcementLevel")
        if level is not None and level not in LEVELS:
            raise PolicyConfigError(f"{path}: {name}.enforcementLevel is {level!r}; accepted: {', '.join(LEVELS)}")
        config[name] = entry
    return config


def _options(r: Registration) -> PolicyResourceOptions:
    o = r.options
    return PolicyResourceOptions(protect=bool(o.get("protect")), ignore_changes=list(o.get("ignoreChanges", [])),
                                 delete_before_replace=o.get("deleteBeforeReplace"), aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                 additional_secret_outputs=list(o.get("additionalSecretOutputs", [])),
                                 parent=r.parent or None)


def as_analyzer_sees(value: Any) -> Any:
    """An input as the analyzer receives it: an unknown (the SDK's Unknown) as the wire's unknown sentinel."""
    if isinstance(value, Unknown):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {key: as_analyzer_sees(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_analyzer_sees(item) for item in value]
    return value


def stack_resources(registrations: list[Registration]) -> list[PolicyResource]:
    """PolicyResources as the engine hands them to stack policies: a resource's outputs (in a preview of a create,
    its inputs with every computed value unknown), a component's registered outputs (not its inputs), parents
    and dependencies; an unknown value raises when a policy reads it, as in the CLI's analyzer."""
    by_urn: dict[str, PolicyResource] = {}
    for r in registrations:
        props = r.inputs if r.custom else (r.outputs or {})
        by_urn[r.urn] = PolicyResource(r.type, unknown_checking_proxy(as_analyzer_sees(mask_secrets(props))), r.urn,
                                       r.name, _options(r), None, None, [], {})
    for r in registrations:
        resource = by_urn[r.urn]
        resource.parent = by_urn.get(r.parent)
        resource.dependencies = [by_urn[u] for u in r.depends_on if u in by_urn]
        resource.property_dependencies = {key: [by_urn[u] for u in urns if u in by_urn]
                                          for key, urns in r.property_dependencies.items()}
    return list(by_urn.values())


def check(registrations: list[Registration], tier: str, config: dict[str, dict[str, Any]] | None = None
          ) -> list[Violation]:
    config = config or {}
    levels = levels_for(tier)
    resources = stack_resources(registrations)
    # Resource policies see what the program registered (inputs), stack policies the outputs (stack_resources).
    inputs = {r.urn: unknown_checking_proxy(as_analyzer_sees(mask_secrets(r.inputs))) for r in registrations}
    names = {r.urn: r.name for r in resources}
    found: list[Violation] = []
    for policy in policies():
        policy_config = {**config.get("all", {}), **config.get(policy.name, {})}
        level = policy_config.pop("enforcementLevel", None) or levels[policy.name].value
        if level == EnforcementLevel.DISABLED.value:
            continue

        def reporter(fixed_urn: str | None = None, _policy=policy.name, _level=level):
            """A report_violation callback; a resource policy's violations always belong to its resource, as in
            the CLI (the urn a resource policy passes is ignored)."""
            def report(message: str, urn: str | None = None) -> None:
                urn = fixed_urn or urn or ""
                found.append(Violation(_policy, _level, names.get(urn, "(stack)"), message, urn))
            return report

        def cant_run(error: UnknownValueError, urn: str = "", _policy=policy.name) -> None:
            found.append(Violation(_policy, ADVISORY, names.get(urn, "(stack)"),
                                   CANT_RUN.format(policy=_policy, reason=error.message), urn))

        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.resource_type, inputs[r.urn], r.urn, r.name, r.opts, None,
                                              policy_config)
                try:
                    policy.validate(args, reporter(r.urn))
                except UnknownValueError as error:
                    cant_run(error, r.urn)
        elif isinstance(policy, StackValidationPolicy):
            try:
                policy.validate(StackValidationArgs(resources, policy_config), reporter())
            except UnknownValueError as error:
                cant_run(error)
    return sorted(set(found))


def as_json(violations: list[Violation]) -> list[dict[str, str]]:
    return [asdict(v) for v in violations]


def render(violations: list[Violation]) -> str:
    if not violations:
        return "policies: no violations\n"
    lines = [f"policies: {len(violations)} violation(s)"]
    lines += [f"  [{v.level}] {v.policy}: {v.resource}: {v.message}" for v in violations]
    return "\n".join(lines) + "\n"
