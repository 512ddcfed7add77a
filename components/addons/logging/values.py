"""Logging: Fluent Bit on every node (control planes included) ships container and system logs to Loki, which
keeps them on a volume of the default class for a tier's retention. Pure.

Loki runs monolithic (one process, filesystem storage): enough for the log volume of clusters this program builds,
with no object store to run. Fluent Bit's configuration is Fluent Bit's own format, built from data here.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.addons.monitoring.values import NAMESPACE as MONITORING_NAMESPACE
from components.bootstrap.api_security import AUDIT_LOG_FILE, AUDIT_TAIL_DB

NAMESPACE = "logging"
LOKI_RELEASE = "loki"
LOKI_PORT = 3100
LOKI_SERVICE = f"{LOKI_RELEASE}.{NAMESPACE}.svc.cluster.local"
LOKI_URL = f"http://{LOKI_SERVICE}:{LOKI_PORT}"
# Who may connect to Loki (and Fluent Bit's metrics): Loki holds every pod's logs and the API servers' audit
# events, with no authentication of its own (auth_enabled false), so only its own namespace (Fluent Bit) and the
# monitoring one (Grafana, Prometheus) reach it; any other pod is refused (NetworkPolicy, enforced by Calico).
READERS = (NAMESPACE, MONITORING_NAMESPACE)
AUDIT_JOB = "kube-apiserver-audit"  # the Loki label of the audit events: {job="kube-apiserver-audit"}
# System services whose journal matters to an operator of a kubeadm node.
SYSTEM_UNITS = ("kubelet.service", "containerd.service", "haproxy.service", "keepalived.service",
                "chrony.service")


@dataclass(frozen=True)
class LoggingSize:
    retention_hours: int
    storage_gib: int
    memory: str


TIERS = {
    "lab": LoggingSize(72, 10, "512Mi"),
    "dev": LoggingSize(168, 50, "1Gi"),
    "prod": LoggingSize(720, 200, "4Gi"),
}


def loki_values(tier: str, storage_class: str) -> dict:
    size = TIERS[tier]
    return {
        "deploymentMode": "Monolithic",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {"configs": [{"from": "2025-01-01", "store": "tsdb", "object_store": "filesystem",
                                          "schema": "v13", "index": {"prefix": "loki_index_", "period": "24h"}}]},
            "compactor": {"retention_enabled": True, "delete_request_store": "filesystem"},
            "structuredConfig": {"limits_config": {"retention_period": f"{size.retention_hours}h"}},
        },
        "singleBinary": {
            "replicas": 1,
            "persistence": {"enabled": True, "size": f"{size.storage_gib}Gi", "storageClass": storage_class},
            "resources": {"requests": {"cpu": "100m", "memory": size.memory}},
        },
        # Monolithic: the scalable targets stay at zero; the gateway, caches, canary and test pod are not needed.
        "backend": {"replicas": 0}, "read": {"replicas": 0}, "write": {"replicas": 0},
        "gateway": {"enabled": False},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
    }


def _section(kind: str, settings: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in settings)
    return "\n".join([f"[{kind}]"] + [f"    {k.ljust(width)} {v}" for k, v in settings])


def _units_filter() -> str:
    return " ".join(f"_SYSTEMD_UNIT={unit}" for unit in SYSTEM_UNITS)


def fluent_bit_values() -> dict:
    inputs = [
        _section("INPUT", [("Name", "tail"), ("Path", "/var/log/containers/*.log"),
                           ("multiline.parser", "docker, cri"), ("Tag", "kube.*"), ("Mem_Buf_Limit", "5MB"),
                           ("Skip_Long_Lines", "On")]),
        # The API servers' audit log (control planes only; the chart mounts the host's /var/log): one JSON event
        # per line, shipped as it is; Loki's json parser reads it at query time. The rotated files are not read.
        # Where it got to is kept on the host (DB), so a restarted Fluent Bit goes on from there instead of
        # skipping to the end; an event over Buffer_Max_Size is skipped (with a warning in Fluent Bit's log).
        _section("INPUT", [("Name", "tail"), ("Path", AUDIT_LOG_FILE), ("Tag", "audit.*"), ("DB", AUDIT_TAIL_DB),
                           ("Mem_Buf_Limit", "10MB"), ("Buffer_Max_Size", "1MB"), ("Skip_Long_Lines", "On")]),
        *[_section("INPUT", [("Name", "systemd"), ("Tag", "host.*"), ("Systemd_Filter", f"_SYSTEMD_UNIT={unit}"),
                             ("Read_From_Tail", "On")]) for unit in SYSTEM_UNITS],
    ]
    filters = [_section("FILTER", [("Name", "kubernetes"), ("Match", "kube.*"), ("Merge_Log", "On"),
                                   ("Keep_Log", "Off"), ("K8S-Logging.Parser", "On"),
                                   ("K8S-Logging.Exclude", "On")])]
    common = [("Host", LOKI_SERVICE), ("Port", str(LOKI_PORT))]
    outputs = [
        _section("OUTPUT", [("Name", "loki"), ("Match", "kube.*"), *common,
                            ("Labels", "job=fluent-bit, node=${NODE_NAME}"),
                            ("Label_keys", "$kubernetes['namespace_name'],$kubernetes['pod_name'],"
                                           "$kubernetes['container_name']")]),
        _section("OUTPUT", [("Name", "loki"), ("Match", "host.*"), *common,
                            ("Labels", "job=systemd, node=${NODE_NAME}"), ("Label_keys", "$_SYSTEMD_UNIT")]),
        _section("OUTPUT", [("Name", "loki"), ("Match", "audit.*"), *common,
                            ("Labels", f"job={AUDIT_JOB}, node=${{NODE_NAME}}")]),
    ]
    return {
        # Every node, control planes and tainted pools included: their logs matter most when something breaks.
        "tolerations": [{"operator": "Exists"}],
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "config": {"inputs": "\n\n".join(inputs) + "\n", "filters": "\n\n".join(filters) + "\n",
                   "outputs": "\n\n".join(outputs) + "\n"},
    }
