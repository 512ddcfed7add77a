"""The offline plan runs the policies on what a real preview gives them: inputs, with every provider-computed value
unknown. A policy that reads one is reported as the CLI reports it ("can't run ... during preview", advisory),
so a guard rail that would vanish in the previews that create machines fails these tests instead."""

from __future__ import annotations

import pytest
from pulumi_policy import StackValidationPolicy

from tests.helpers import ROOT
from tests.plan_fixtures import INSTANCE
from tools import policy_check
from tools.plan import build_plan, run_program
from tools.plan_mocks import PlanMocks, RecordingMonitor
from tools.stack_file import read_stack_file


def previewed_registrations(stack: str) -> list:
    config = read_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    monitor = RecordingMonitor(PlanMocks(config.values.get("aws:region", ""), preview=True))
    run_program(stack, config.values, config.secret_keys, monitor, preview=True)
    return monitor.registrations


@pytest.mark.parametrize("stack", ["dev", "prod", "metal"])
def test_every_policy_runs_in_a_preview_of_a_new_stack(stack):
    violations = build_plan(stack).document["violations"]
    assert not [v for v in violations if v["message"].startswith("can't run policy")], violations


def test_a_preview_leaves_computed_values_unknown_and_a_policy_reading_one_cannot_run(monkeypatch):
    registrations = previewed_registrations("prod")
    instance = next(r for r in registrations if r.type == INSTANCE)
    resources = policy_check.stack_resources(registrations)
    # The subnet id an instance is given is the subnet's output: unknown until the subnet exists.
    reads_subnet_ids = StackValidationPolicy(
        name="control-plane-ha", description="reads an output",
        validate=lambda args, report: [r.props["subnetId"] for r in args.resources if r.resource_type == INSTANCE])
    monkeypatch.setattr(policy_check, "policies", lambda: [reads_subnet_ids])
    violations = policy_check.check(registrations, "prod")
    assert [(v.policy, v.level) for v in violations] == [("control-plane-ha", "advisory")]
    assert "can't run policy 'control-plane-ha' from policy pack 'k8s-platform' during preview" in violations[0].message
    assert "subnetId" in violations[0].message
    assert any(r.urn == instance.urn for r in resources)


def test_known_runs_report_no_unknowns():
    # The plan's own resources (the known run) carry no unknown: only the policies see the preview.
    document = build_plan("prod").document
    assert "04da6b54-80e4-46f7-96ec-b56ff0331ba9" not in str(document["resources"])
