"""The derived chart key lists are complete enough to accept real keys and strict enough to refuse typos."""

import pytest

from components import versions
from tests.chart_keys import chart, unknown_keys


@pytest.mark.parametrize("name", ["tigera-operator", "aws-ebs-csi-driver", "traefik", "harbor",
                                  "kube-prometheus-stack", "loki", "fluent-bit", "metrics-server"])
def test_each_pinned_chart_has_derived_keys_of_its_version(name):
    version, keys, _ = chart(name)
    assert version.lstrip("v") == versions.CHARTS[name].version.lstrip("v")
    assert len(keys) > 50


def test_real_keys_pass_and_misspelled_keys_fail():
    good = {"installation": {"calicoNetwork": {"ipPools": [{"cidr": "10.244.0.0/16"}], "mtu": 1450}}}
    assert unknown_keys("tigera-operator", good) == []
    assert unknown_keys("tigera-operator", {"installation": {"calicoNetwrok": {}}}) == [
        "installation.calicoNetwrok"]
    # Keys that exist only as comments in values.yaml come from the templates' references.
    assert unknown_keys("kube-prometheus-stack", {"grafana": {"adminPassword": "x"}}) == []
    assert unknown_keys("kube-prometheus-stack", {"grafana": {"adminPasword": "x"}}) == ["grafana.adminPasword"]
    # Below an open map anything goes (labels, annotations, resources).
    assert unknown_keys("harbor", {"expose": {"ingress": {"annotations": {"any/key": "v"}}}}) == []
    assert unknown_keys("harbor", {"expose": {"ingres": {}}}) == ["expose.ingres"]
