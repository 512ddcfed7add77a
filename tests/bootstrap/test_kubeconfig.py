"""The kubeconfig the stack exports: the admin.conf read from the first control plane, pointed at the endpoint."""

import pytest
import yaml

from components.bootstrap.host_steps import kubeconfig_for_endpoint

ADMIN_CONF = """apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster: {server: "https://10.0.0.5:6443", certificate-authority-data: Q0E=}
users:
- name: admin
  user: {client-key-data: S0VZ}
"""


def test_every_cluster_points_at_the_load_balanced_endpoint():
    document = yaml.safe_load(kubeconfig_for_endpoint(ADMIN_CONF, "203.0.113.10:6443"))
    assert [c["cluster"]["server"] for c in document["clusters"]] == ["https://203.0.113.10:6443"]
    assert document["users"] == yaml.safe_load(ADMIN_CONF)["users"]


@pytest.mark.parametrize("text", ["admin\n", "", "kind: Pod\n", "clusters: {}\nkind: Config\n", "a: [b\n"])
def test_anything_but_a_kubeconfig_stops_the_update_saying_so(text):
    with pytest.raises(ValueError, match="admin kubeconfig read from the first control plane"):
        kubeconfig_for_endpoint(text, "203.0.113.10:6443")
