"""metrics-server: its values (kubelet TLS, addresses, HA in prod, requests), its release in the plan after the pod
network, and its switch `addons.metricsServer.enabled`."""

from pathlib import Path

import pytest

from components import versions
from components.addons import kube
from components.addons.metrics_server import values as metrics_server
from components.settings.addons import read_addons
from components.settings.reader import Problems
from tests.addons.test_addons import releases, settings
from tests.chart_keys import unknown_keys
from tests.helpers import edited, write_stack
from tests.plan_fixtures import shipped_plan
from tools.plan import build_plan

STACKS = ("dev", "prod", "metal")


def flags(values: dict) -> list[str]:
    # The chart puts --secure-port first, then defaultArgs, then args (templates/deployment.yaml).
    return [f"--secure-port={values['containerPort']}", *values["defaultArgs"], *values.get("args", [])]


def test_the_kubelets_self_signed_certificates_are_not_verified_and_the_reason_is_written_beside_the_flag():
    assert "--kubelet-insecure-tls" in flags(metrics_server.values("dev", 5))
    source = Path(metrics_server.__file__).read_text().splitlines()
    at = source.index('    "--kubelet-insecure-tls",')
    reason = []
    for line in reversed(source[:at]):
        if not line.strip().startswith("#"):
            break
        reason.insert(0, line)
    reason_text = " ".join(reason)
    assert "self-signed" in reason_text and "kubelet-serving-certificate.sh" in reason_text, reason_text
    # The reason holds: kubeadm's kubelets make their own self-signed certificate (no serverTLSBootstrap, whose
    # certificates the cluster CA signs and metrics-server could verify: then drop the flag).
    init = shipped_plan("prod").artifacts["hosts/k8s-prod-cp-0/kubeadm-init.yaml"]
    assert "serverTLSBootstrap" not in init and "rotateCertificates: true" in init


def test_kubelets_are_reached_at_their_internal_address_only_and_no_flag_is_given_twice():
    given = flags(metrics_server.values("prod", 20))
    assert [f for f in given if f.startswith("--kubelet-preferred-address-types")] == [
        "--kubelet-preferred-address-types=InternalIP"]
    names = [f.split("=", 1)[0] for f in given]
    assert len(names) == len(set(names)), names
    assert "--kubelet-use-node-status-port" in given, "the kubelet's port as the Node reports it"


def test_prod_runs_two_replicas_on_different_nodes_with_a_disruption_budget():
    prod = metrics_server.values("prod", 20)
    assert prod["replicas"] == 2
    assert prod["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    (term,) = prod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    # The chart's selector labels for a release named metrics-server (selectorLabels in its _helpers.tpl).
    assert term["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": "metrics-server",
                                                   "app.kubernetes.io/instance": "metrics-server"}
    # A surge pod would wait for a third node that the anti-affinity allows: replace one at a time instead.
    assert prod["updateStrategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    for tier in ("lab", "dev"):
        other = metrics_server.values(tier, 3)
        assert other["replicas"] == 1 and "podDisruptionBudget" not in other and "affinity" not in other, tier


def test_requests_follow_upstreams_scaling_guidance():
    assert metrics_server.values("dev", 4)["resources"]["requests"] == {"cpu": "100m", "memory": "200Mi"}
    assert metrics_server.requests(100) == {"cpu": "100m", "memory": "200Mi"}
    # 1m and 2 MiB more per node beyond 100.
    assert metrics_server.requests(300) == {"cpu": "300m", "memory": "600Mi"}
    assert "limits" not in metrics_server.values("prod", 300)["resources"], "no memory limit to be killed at"


@pytest.mark.parametrize("stack", STACKS)
def test_the_release_is_pinned_after_the_pod_network_with_known_keys(stack):
    result = shipped_plan(stack)
    found = releases(result)
    release = found["metrics-server"]
    chart, inputs = versions.CHARTS["metrics-server"], release["inputs"]
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        chart.name, chart.version, chart.repository)
    assert inputs["namespace"] == "kube-system"
    assert inputs["timeout"] == kube.RELEASE_TIMEOUTS_S["metrics-server"] and inputs["atomic"] is True
    assert found["tigera-operator"]["urn"] in release["dependsOn"], "the API server reaches it over the pod network"
    assert release["parent"].endswith(f"addons:MetricsServer::{settings(stack).cluster_name}-metrics-server")
    values = inputs["values"]
    assert unknown_keys("metrics-server", values) == []
    assert values["image"] == {"repository": versions.METRICS_SERVER_IMAGE_REPOSITORY,
                               "tag": versions.METRICS_SERVER_IMAGE_TAG}
    assert values["replicas"] == (2 if settings(stack).tier == "prod" else 1)
    assert result.document["outputs"]["addons"]["metrics-server"] == chart.version


def test_with_monitoring_prometheus_scrapes_it_after_its_crds_and_without_no_service_monitor_is_asked(tmp_path):
    with_monitoring = releases(shipped_plan("prod"))
    release = with_monitoring["metrics-server"]
    assert settings("prod").addons.monitoring
    values = release["inputs"]["values"]
    # The chart declares the ServiceMonitor only with both on, and then serves /metrics without authorization.
    assert values["metrics"] == {"enabled": True} and values["serviceMonitor"] == {"enabled": True}
    assert with_monitoring["kube-prometheus-stack"]["urn"] in release["dependsOn"], "its CRDs first"
    plain = build_plan("custom", write_stack(tmp_path, edited("dev", addons={"monitoring": {"enabled": False}})),
                       check_policies=False)
    found = releases(plain)
    assert "kube-prometheus-stack" not in found
    values = found["metrics-server"]["inputs"]["values"]
    assert values["metrics"] == {"enabled": False} and values["serviceMonitor"] == {"enabled": False}


def test_chart_keys_refuse_a_misspelled_metrics_server_key():
    assert unknown_keys("metrics-server", {"podDisruptionBudget": {"minAvailable": 1}}) == []
    assert unknown_keys("metrics-server", {"podDisruptionBuget": {"minAvailable": 1}}) == ["podDisruptionBuget"]
    assert unknown_keys("metrics-server", {"hostNetwork": {"enable": True}}) == ["hostNetwork.enable"]


# --- the setting ---------------------------------------------------------------------------------------------


def test_metrics_server_is_on_by_default():
    problems = Problems()
    assert read_addons({}, bare_metal=False, problems=problems).metrics_server is True and not problems
    assert read_addons({"metricsServer": {}}, bare_metal=False, problems=problems).metrics_server is True
    for stack in STACKS:
        assert settings(stack).addons.metrics_server is True, stack


def test_switched_off_there_is_no_release(tmp_path):
    problems = Problems()
    assert read_addons({"metricsServer": {"enabled": False}}, False, problems).metrics_server is False
    result = build_plan("custom", write_stack(tmp_path, edited("dev", addons={"metricsServer": {"enabled": False}})),
                        check_policies=False)
    found = releases(result)
    assert "metrics-server" not in found and "tigera-operator" in found, "only metrics-server is gone"
    assert "metrics-server" not in result.document["outputs"]["addons"]
    assert not [r for r in result.document["resources"] if r["type"] == "k8s-platform:addons:MetricsServer"]


@pytest.mark.parametrize("value, path, expected", [
    ({"metricsServer": {"enabled": "false"}}, "addons.metricsServer.enabled",
     "must be true or false, got a string ('false'); write true or false without quotes"),
    ({"metricsServer": False}, "addons.metricsServer", "must be a mapping, got a boolean"),
    ({"metricsServer": {"enable": False}}, "addons.metricsServer.enable", "did you mean 'enabled'"),
    ({"metricServer": {"enabled": False}}, "addons.metricServer", "did you mean 'metricsServer'"),
])
def test_a_wrong_switch_is_refused_with_its_key_path(value, path, expected):
    problems = Problems()
    read = read_addons(value, bare_metal=False, problems=problems)
    found = {p.path: p.message for p in problems.items}
    assert path in found and expected in found[path], found
    # A value of the wrong type gives no settings; an unknown key is reported and load_settings refuses the stack.
    assert read is None or "unknown key" in found[path]
