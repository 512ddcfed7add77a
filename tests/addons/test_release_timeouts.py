"""Every Helm release is atomic and waits as long as its first install needs."""

import pytest

from tests.addons.test_addons import releases
from tests.plan_fixtures import shipped_plan


@pytest.mark.parametrize("stack", ["dev", "prod", "metal"])
def test_every_release_waits_as_long_as_its_first_install_needs_and_is_atomic(stack):
    installed = releases(shipped_plan(stack))
    helm_default = 300
    for chart, release in installed.items():
        inputs = release["inputs"]
        assert inputs["atomic"] is True and inputs["cleanupOnFail"] is True, chart
        assert isinstance(inputs.get("timeout"), int) and inputs["timeout"] >= helm_default, chart
    # The two whose first install is known to outlast Helm's default (images, volumes, database migrations).
    assert installed["harbor"]["inputs"]["timeout"] >= 4 * helm_default
    assert installed["kube-prometheus-stack"]["inputs"]["timeout"] >= 3 * helm_default
