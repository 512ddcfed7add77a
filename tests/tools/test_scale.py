"""Plans grow linearly with the workers: dependency edges per resource stay flat from 30 to 300 workers, on AWS and
on bare metal (the figures of time and memory come from tools/scale_benchmark.py, not from a timed test). And the
plan tool's collector tuning changes no byte of a plan."""

import gc
import re

import pytest

from tools import plan
from tools.plan import build_plan, plan_json
from tests.plan_fixtures import scaled_plan

# The bar: at 300 workers, at most 1.2 times the edges per resource of 30 workers. Edges per resource may
# rise a little as worker resources (a join waits for its host's earlier phases and the API) outweigh the fixed
# ones; an all-to-all comparison would multiply them by about ten.
GROWTH_LIMIT = 1.2


def edges_per_resource(result) -> float:
    resources = result.document["resources"]
    return sum(len(r["dependsOn"]) for r in resources) / len(resources)


@pytest.mark.parametrize("stack", ["prod", "metal"])
def test_dependency_edges_per_resource_do_not_grow_from_30_to_300_workers(stack):
    small, large = scaled_plan(stack, 30), scaled_plan(stack, 300)
    assert len(large.document["resources"]) > 6 * len(small.document["resources"]), "the workers were added"
    ratio = edges_per_resource(large) / edges_per_resource(small)
    assert ratio <= GROWTH_LIMIT, f"{stack}: edges per resource grew {ratio:.2f}x from 30 to 300 workers"


def test_no_host_step_depends_on_other_hosts_preflights():
    result = scaled_plan("metal", 30)
    checked = 0
    for resource in result.document["resources"]:
        host = re.match(r"(worker-\d+)-", resource["name"])
        if host and not resource["name"].endswith("-preflight"):
            preflights = [d.split("::")[-1] for d in resource["dependsOn"] if d.endswith("-preflight")]
            assert set(preflights) <= {f"{host[1]}-preflight"}, resource["name"]
            checked += bool(preflights)
    assert checked >= 30, "every worker's first step waits for its own preflight"


def test_collector_tuning_changes_no_byte_of_a_plan(monkeypatch):
    tuned = plan_json(build_plan("metal"))
    monkeypatch.setattr(plan, "PLAN_GC_THRESHOLDS", gc.get_threshold())
    monkeypatch.setattr(plan.gc, "freeze", lambda: None)
    assert plan_json(build_plan("metal")) == tuned


def test_collector_settings_are_restored_after_a_plan():
    before = gc.get_threshold()
    build_plan("dev")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
