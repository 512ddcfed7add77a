"""Loki holds every pod's logs and the API servers' audit events without authentication of its own: a
NetworkPolicy lets only the logging namespace (Fluent Bit) and the monitoring one (Grafana, Prometheus) reach it,
declared before Loki and in every stack with logging on."""

from __future__ import annotations

import pytest

from components.addons.logging import values as logging
from components.addons.monitoring import values as monitoring
from tests.addons.test_addons import declared_objects
from tests.plan_fixtures import shipped_plan

STACKS = ("dev", "prod", "metal")


def readers_policy(result) -> dict:
    [policy] = [o for o in declared_objects(result) if o.get("kind") == "NetworkPolicy"
                and o["metadata"]["namespace"] == logging.NAMESPACE]
    return policy


@pytest.mark.parametrize("stack", STACKS)
def test_only_fluent_bit_grafana_and_prometheus_namespaces_reach_loki(stack):
    policy = readers_policy(shipped_plan(stack))
    spec = policy["spec"]
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress"], "every pod of the namespace"
    [rule] = spec["ingress"]
    assert "ports" not in rule
    allowed = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}
    assert allowed == {logging.NAMESPACE, monitoring.NAMESPACE}
    assert all(set(peer) == {"namespaceSelector"} for peer in rule["from"]), "no pod selector widening a peer"


def test_the_policy_is_in_place_before_loki_holds_anything():
    result = shipped_plan("prod")
    [policy] = [r for r in result.registrations if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"]
    [loki] = [r for r in result.registrations if r.type == "kubernetes:helm.sh/v3:Release" and r.name.endswith("-loki")]
    assert policy.urn in loki.depends_on
