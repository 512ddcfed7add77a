"""kube-prometheus-stack values: Prometheus, Alertmanager and Grafana sized per tier, alerting rules on, and the
kubeadm control plane really scraped. Pure.

kubeadm runs etcd, the scheduler and the controller-manager as static pods labelled `component=<name>`, which the
chart's Services select. Their metrics listen on every address (node_config: etcd on http :2381, the scheduler
and controller-manager on https :10259 and :10257 with self-signed certificates, kube-proxy on http :10249); the
chart's defaults would scrape ports and schemes that answer nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.addons.monitoring.certificate_alerts import TEXTFILE_DIRECTORY
from components.addons.monitoring.certificate_alerts import rules as certificate_rules
from components.bootstrap import node_config

NAMESPACE = "monitoring"
# The chart's own node-exporter arguments: Helm replaces a list, so setting extraArgs must repeat them (without them
# overlay, squashfs and kubelet mounts are exported and the NodeFilesystem alerts fire).
NODE_EXPORTER_DEFAULT_ARGS = (
    "--collector.filesystem.mount-points-exclude="
    "^/(dev|proc|sys|run/containerd/.+|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
    "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|"
    "fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|"
    "tracefs|erofs)$",
)
RELEASE = "kube-prometheus-stack"


@dataclass(frozen=True)
class MonitoringSize:
    retention: str
    prometheus_storage_gib: int
    prometheus_replicas: int
    alertmanager_replicas: int
    alertmanager_storage_gib: int
    grafana_storage_gib: int
    prometheus_memory: str


TIERS = {
    "lab": MonitoringSize("2d", 10, 1, 1, 1, 2, "1Gi"),
    "dev": MonitoringSize("7d", 50, 1, 1, 2, 5, "2Gi"),
    "prod": MonitoringSize("15d", 200, 2, 3, 5, 10, "8Gi"),
}


def _claim(storage_class: str, gib: int) -> dict:
    return {"volumeClaimTemplate": {"spec": {
        "storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{gib}Gi"}}}}}


def _requests(cpu: str, memory: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}}


def size_for(tier: str, retention: str | None = None, storage_gib: int | None = None) -> MonitoringSize:
    size = TIERS[tier]
    return MonitoringSize(retention or size.retention, storage_gib or size.prometheus_storage_gib,
                          size.prometheus_replicas, size.alertmanager_replicas, size.alertmanager_storage_gib,
                          size.grafana_storage_gib, size.prometheus_memory)


GRAFANA_TLS_SECRET = "grafana-tls"


def values(size: MonitoringSize, storage_class: str, grafana_password, loki_url: str | None,
           grafana_host: str | None = None, ingress_class: str = "traefik") -> dict:
    https_self_signed = {"https": True, "insecureSkipVerify": True}
    grafana: dict = {
        "adminPassword": grafana_password,
        "persistence": {"enabled": True, "storageClassName": storage_class, "size": f"{size.grafana_storage_gib}Gi"},
        "resources": _requests("50m", "128Mi"),
    }
    if grafana_host:
        grafana["ingress"] = {"enabled": True, "ingressClassName": ingress_class, "hosts": [grafana_host],
                              "tls": [{"secretName": GRAFANA_TLS_SECRET, "hosts": [grafana_host]}]}
    if loki_url:
        grafana["additionalDataSources"] = [{"name": "Loki", "type": "loki", "access": "proxy", "url": loki_url}]
    return {
        "defaultRules": {"create": True},
        "prometheus": {"prometheusSpec": {
            "replicas": size.prometheus_replicas,
            "retention": size.retention,
            # Stop before the volume fills: 85% of it.
            "retentionSize": f"{size.prometheus_storage_gib * 85 // 100}GB",
            "storageSpec": _claim(storage_class, size.prometheus_storage_gib),
            "resources": _requests("200m", size.prometheus_memory),
            # Pick up every ServiceMonitor, PodMonitor and rule in the cluster, not only this release's.
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
        }},
        "alertmanager": {"alertmanagerSpec": {
            "replicas": size.alertmanager_replicas,
            "storage": _claim(storage_class, size.alertmanager_storage_gib),
            "resources": _requests("20m", "64Mi"),
        }},
        "grafana": grafana,
        "prometheusOperator": {
            "resources": _requests("50m", "128Mi"),
            "admissionWebhooks": {"patch": {"resources": _requests("10m", "32Mi")}},
        },
        "kube-state-metrics": {"resources": _requests("20m", "64Mi")},
        # The control planes' certificate dates (certificate_alerts.py) come through the textfile collector.
        "prometheus-node-exporter": {"resources": _requests("20m", "32Mi"),
                                     "extraArgs": [*NODE_EXPORTER_DEFAULT_ARGS,
                                                   f"--collector.textfile.directory={TEXTFILE_DIRECTORY}"]},
        "additionalPrometheusRulesMap": certificate_rules(),
        "kubeEtcd": {"enabled": True,
                     "service": {"enabled": True, "port": node_config.ETCD_METRICS_PORT,
                                 "targetPort": node_config.ETCD_METRICS_PORT},
                     "serviceMonitor": {"scheme": "http"}},
        "kubeControllerManager": {"enabled": True, "service": {"enabled": True, "port": 10257, "targetPort": 10257},
                                  "serviceMonitor": https_self_signed},
        "kubeScheduler": {"enabled": True, "service": {"enabled": True, "port": 10259, "targetPort": 10259},
                          "serviceMonitor": https_self_signed},
        "kubeProxy": {"enabled": True, "service": {"enabled": True, "port": node_config.KUBE_PROXY_METRICS_PORT,
                                                   "targetPort": node_config.KUBE_PROXY_METRICS_PORT}},
    }
