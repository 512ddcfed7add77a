"""Which ports the security groups open, per setting."""

import dataclasses
import json
from pathlib import Path

import pytest

from components.aws import firewall
from components.settings import PROJECT, load_settings
from tests.helpers import PRIVATE_KEY, raw_config
from tests.bootstrap.test_bootstrap import unwrapped
from tests.plan_fixtures import shipped_plan


def settings_with(stack, **network):
    config = raw_config(stack)
    merged = {**json.loads(config[f"{PROJECT}:network"]), **network}
    config[f"{PROJECT}:network"] = json.dumps(merged)
    return load_settings(config, {PRIVATE_KEY}, stack)


def opened(settings):
    return {(r.group, r.direction, r.protocol, r.from_port) for r in firewall.rules(settings)}


def test_vxlan_opens_4789_udp_and_no_bgp():
    rules = opened(settings_with("prod", calicoEncapsulation="VXLAN"))
    assert ("nodes", "ingress", "udp", 4789) in rules
    assert ("nodes", "ingress", "tcp", 179) not in rules
    assert not firewall.needs_source_dest_check_off(settings_with("prod", calicoEncapsulation="VXLAN"))


def test_ipip_opens_protocol_4_and_bgp():
    rules = opened(settings_with("prod", calicoEncapsulation="IPIP"))
    assert ("nodes", "ingress", "4", None) in rules
    assert ("nodes", "ingress", "tcp", 179) in rules
    assert ("nodes", "ingress", "udp", 4789) not in rules


def test_cross_subnet_turns_source_dest_check_off_and_admits_the_pod_network():
    s = settings_with("prod", calicoEncapsulation="VXLANCrossSubnet")
    assert firewall.needs_source_dest_check_off(s)
    pod_rules = [r for r in firewall.rules(s) if r.cidr == s.network.pod_cidr]
    assert len(pod_rules) == 1 and pod_rules[0].group == "nodes"


def test_etcd_only_between_control_planes():
    (etcd,) = [r for r in firewall.rules(settings_with("prod")) if r.from_port == 2379]
    assert (etcd.group, etcd.peer_group, etcd.to_port) == ("control-plane", "control-plane", 2380)


def test_ssh_only_through_the_bastion_when_private():
    rules = firewall.rules(settings_with("prod"))
    node_ssh = [r for r in rules if r.group == "nodes" and r.from_port == 22]
    assert [(r.peer_group, r.cidr) for r in node_ssh] == [("bastion", None)]


def test_ssh_from_allowed_cidrs_when_public():
    rules = firewall.rules(settings_with("dev"))
    node_ssh = [r for r in rules if r.group == "nodes" and r.from_port == 22]
    assert [r.cidr for r in node_ssh] == ["198.51.100.0/24"]
    assert "bastion" not in firewall.groups(settings_with("dev"))


def test_nothing_else_is_open_from_outside():
    # Ingress from CIDRs: only SSH and the API, from the allowed networks (and the pod network in cross-subnet),
    # and HTTP/HTTPS on the ingress load balancer alone.
    for rule in firewall.rules(settings_with("prod")):
        if rule.direction == "ingress" and rule.cidr is not None:
            assert rule.cidr == "198.51.100.0/24", rule
            allowed = (80, 443) if rule.group == firewall.INGRESS_LB else (22, 6443)
            assert rule.from_port in allowed, rule


def test_slugs_are_unique_per_group_and_direction():
    rules = firewall.rules(settings_with("prod", calicoEncapsulation="IPIPCrossSubnet"))
    keys = [(r.group, r.direction, r.slug) for r in rules]
    assert len(keys) == len(set(keys))


CHART_PORTS = json.loads((Path(__file__).resolve().parents[1] / "data" / "chart-ports.json").read_text())


def host_scrape_targets(stack) -> dict[tuple[str, int], str]:
    """What in-cluster Prometheus scrapes on the nodes' own addresses, by (security group, port), from the
    monitoring release's values and the charts' defaults (tests/data/chart-ports.json)."""
    # The values carry Grafana's password: the whole input is a secret in the plan document.
    (release,) = [r for r in shipped_plan(stack).registrations
                  if r.type == "kubernetes:helm.sh/v3:Release" and unwrapped(r.inputs["name"]) == "kube-prometheus-stack"]
    values = unwrapped(release.inputs["values"])
    targets = {("nodes", 10250): "kubelet and cAdvisor"}
    for key, group in (("kubeEtcd", "control-plane"), ("kubeControllerManager", "control-plane"),
                       ("kubeScheduler", "control-plane"), ("kubeProxy", "nodes")):
        if values.get(key, {}).get("enabled"):
            targets[group, values[key]["service"]["targetPort"]] = key
    exporter = CHART_PORTS["prometheus-node-exporter"]
    assert exporter["hostNetwork"], "node-exporter serves on the nodes' addresses"
    port = values.get("prometheus-node-exporter", {}).get("service", {}).get("targetPort", exporter["port"])
    targets["nodes", port] = "node-exporter"
    return targets


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_port_prometheus_scrapes_on_a_node_is_open_to_the_nodes(stack):
    admitted = {(r.group, r.from_port) for r in firewall.rules(load_settings(raw_config(stack), {PRIVATE_KEY}, stack))
                if r.direction == "ingress" and r.protocol == "tcp" and r.peer_group == "nodes"
                and r.from_port == r.to_port}
    targets = host_scrape_targets(stack)
    assert len(targets) == 6
    missing = {target: what for target, what in targets.items() if target not in admitted}
    assert missing == {}, f"scrape targets the security groups drop: {missing}"


def test_without_monitoring_no_metrics_port_is_open():
    s = load_settings(raw_config("prod"), {PRIVATE_KEY}, "prod")
    off = dataclasses.replace(s, addons=dataclasses.replace(s.addons, monitoring=False))
    ports = {r.from_port for r in firewall.rules(off)}
    assert not ports & {firewall.NODE_EXPORTER_PORT, 10249, 10257, 10259, 2381}
    assert 10250 in ports, "the kubelet's API stays: the control planes need it"


@pytest.mark.parametrize("stack, encapsulation", [("prod", "VXLAN"), ("prod", "VXLANCrossSubnet"), ("prod", "IPIP"),
                                                   ("prod", "IPIPCrossSubnet"), ("lab", "None")])  # None: one zone
def test_the_api_server_reaches_metrics_server_pods_under_every_encapsulation(stack, encapsulation):
    """The API server proxies metrics.k8s.io to metrics-server's pod (its APIService). Between nodes of one subnet
    the CrossSubnet modes, and None always, send that unencapsulated, from the control plane's own address to the
    pod's port: the nodes must admit that port from the nodes (with VXLAN or IP-in-IP it travels encapsulated and
    the rule is not what lets it through, but it is there all the same)."""
    from components.addons.metrics_server import values as metrics_server
    s = settings_with(stack, calicoEncapsulation=encapsulation)
    port = metrics_server.values(s.tier, s.max_node_count)["containerPort"]
    admitted = [r for r in firewall.rules(s) if r.group == "nodes" and r.direction == "ingress" and r.protocol == "tcp"
                and r.peer_group == "nodes" and r.from_port <= port <= r.to_port]
    assert admitted, f"metrics-server's port {port} is dropped between the nodes"
    # metrics-server reaches the kubelets on 10250 at their internal addresses from its pod (natOutgoing: the
    # node's address), the same rule.
    assert any(r.from_port <= 10250 <= r.to_port for r in admitted)
