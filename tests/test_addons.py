"""Cluster add-ons under Pulumi mocks: the Kubernetes provider, install order, pinned charts and their values."""

import pytest

from components import versions
from components.addons import calico
from components.settings import load_settings
from tests.chart_keys import unknown_keys
from tests.helpers import PRIVATE_KEY, raw_config
from tests.plan_fixtures import of_type, shipped_plan
from tests.test_bootstrap import is_wrapped_secret, raw_inputs, urn_of

RELEASE = "kubernetes:helm.sh/v3:Release"
PROVIDER = "pulumi:providers:kubernetes"
STACKS = ("dev", "prod", "metal")


def settings(stack):
    return load_settings(raw_config(stack), frozenset({PRIVATE_KEY}), stack)


def releases(result) -> dict[str, dict]:
    return {r["inputs"]["name"]: r for r in of_type(result, RELEASE)}


@pytest.mark.parametrize("stack", STACKS)
def test_the_provider_survives_unknown_kubeconfigs_and_unreachable_clusters(stack):
    result = shipped_plan(stack)
    (provider,) = of_type(result, PROVIDER)
    cluster = settings(stack).cluster_name
    assert provider["inputs"]["clusterIdentifier"] == cluster
    assert provider["inputs"]["deleteUnreachable"] in (True, "true")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert is_wrapped_secret(raw_inputs(result, provider["name"])["kubeconfig"])
    assert urn_of(result, f"{cluster}-api-ready") in provider["dependsOn"]
    # Every Kubernetes object and release goes through it, none through an ambient kubeconfig.
    for resource in result.document["resources"]:
        if resource["type"].startswith("kubernetes:"):
            assert resource["options"].get("provider") == provider["urn"], resource["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_calico_crds_then_operator_after_api_readiness(stack):
    result = shipped_plan(stack)
    cluster = settings(stack).cluster_name
    found = releases(result)
    crds, operator = found["calico-crds"], found["tigera-operator"]
    for release, key in ((crds, "calico-crds"), (operator, "tigera-operator")):
        chart = versions.CHARTS[key]
        assert (release["inputs"]["chart"], release["inputs"]["version"]) == (chart.name, chart.version)
        assert release["inputs"]["repositoryOpts"]["repo"] == chart.repository
    assert crds["urn"] in operator["dependsOn"]
    namespace = next(r for r in result.document["resources"] if r["name"] == f"{cluster}-calico-namespace")
    assert namespace["urn"] in crds["dependsOn"] and urn_of(result, f"{cluster}-api-ready") in namespace["dependsOn"]
    assert result.document["outputs"]["addons"]["calico"] == versions.CHARTS["tigera-operator"].version


@pytest.mark.parametrize("stack, mtu", [("dev", 8951), ("prod", 8951), ("metal", 1450)])
def test_calico_pool_is_the_pod_subnet_with_the_right_encapsulation_and_mtu(stack, mtu):
    s = settings(stack)
    values = releases(shipped_plan(stack))["tigera-operator"]["inputs"]["values"]
    network = values["installation"]["calicoNetwork"]
    assert network["ipPools"][0]["cidr"] == s.network.pod_cidr
    assert network["ipPools"][0]["encapsulation"] == s.network.calico_encapsulation == "VXLAN"
    assert network["mtu"] == mtu and network["bgp"] == "Disabled"
    assert unknown_keys("tigera-operator", values) == []


def test_mtu_follows_the_encapsulation_and_the_host_network():
    s = settings("metal")
    for encapsulation, expected in (("IPIP", 1480), ("None", 1500), ("VXLANCrossSubnet", 1450)):
        changed = s.__class__(**{**s.__dict__, "network": s.network.__class__(
            **{**s.network.__dict__, "calico_encapsulation": encapsulation})})
        values = calico.values(changed, "192.0.2.10", 6443)
        assert values["installation"]["calicoNetwork"]["mtu"] == expected
        assert values["installation"]["calicoNetwork"]["bgp"] == ("Disabled" if "VXLAN" in encapsulation
                                                                  else "Enabled")
