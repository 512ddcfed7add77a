"""Breaking a stack policy on purpose, for the tests that prove each policy still fails a plan or a preview.

Stack policies read a component's registered outputs (the engine hands AnalyzeStack each resource's outputs), so a
stack transformation, which changes only what a resource is registered with, cannot break them: this changes what
matching components register as outputs instead, in the process that runs the program.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

import pulumi

Match = Callable[[str, str], bool]  # (type, name) -> bool
Change = Callable[[dict], None]


@contextmanager
def component_outputs_changed(match: Match, change: Change):
    original = pulumi.ComponentResource.register_outputs

    def register_outputs(self, outputs):
        if match(self._type, self._name):
            outputs = dict(outputs)
            change(outputs)
        return original(self, outputs)

    pulumi.ComponentResource.register_outputs = register_outputs
    try:
        yield
    finally:
        pulumi.ComponentResource.register_outputs = original


def on_node(host: str) -> Match:
    return lambda t, n: t == "k8s-platform:hosts:Node" and n == f"{host}-node"


def on_vip() -> Match:
    return lambda t, n: t == "k8s-platform:bare-metal:VipLoadBalancer"


def set_key(key: str, value) -> Change:
    return lambda props: props.__setitem__(key, value)


# policy -> [(match, change)] that break it on the bare-metal example stack (prod tier)
METAL_BREAKS: dict[str, list[tuple[Match, Change]]] = {
    "bare-metal-capacity": [(on_node("worker-1"), set_key("vcpu", 4))],
    "cluster-scale": [(on_node("worker-2"), set_key("maxPods", 250))],
    "api-load-balancer-ha": [(on_vip(), set_key("backends", ["cp-1", "cp-2"]))],
    "control-plane-ha": [(on_node("cp-3"), set_key("role", "worker"))],
    "worker-ha": [(on_node("worker-1"), set_key("role", "load-balancer")),
                  (on_node("worker-2"), set_key("role", "load-balancer"))],
}


@contextmanager
def broken(policy: str):
    with _all([component_outputs_changed(match, change) for match, change in METAL_BREAKS[policy]]):
        yield


@contextmanager
def _all(managers):
    if not managers:
        yield
        return
    with managers[0], _all(managers[1:]):
        yield
