"""Alerts on the control planes' certificates. Pure.

Every control plane's renewal program (bootstrap/certificates.py) writes when each certificate expires for
node-exporter's textfile collector, daily and at every update. The renewal runs 90 days ahead (the setting allows
30 at the least), so a certificate three weeks from expiry means renewals have failed; the web hosts' are issued
again 30 days ahead, and so is every kubelet's self-signed serving certificate (bootstrap/upgrade_steps.py). A
check older than two days means a control plane's daily timer no longer runs, and its dates are stale.
"""

from __future__ import annotations

from components.bootstrap.certificates import METRICS_DIR

# node-exporter sees the host's / at /host/root (the chart's hostRootFsMount, on by default).
TEXTFILE_DIRECTORY = f"/host/root{METRICS_DIR}"
EXPIRY = "k8s_platform_certificate_expiry_timestamp_seconds"
CHECKED = "k8s_platform_certificate_check_timestamp_seconds"
DAY = 86400


def _alert(name: str, expr: str, severity: str, summary: str, for_: str = "1h") -> dict:
    return {"alert": name, "expr": expr, "for": for_, "labels": {"severity": severity},
            "annotations": {"summary": summary, "runbook": "docs/troubleshooting.md: Renew certificates"}}


def _days_left(kind: str) -> str:
    return f'({EXPIRY}{{kind="{kind}"}} - time()) / {DAY}'


def rules() -> dict:
    """additionalPrometheusRulesMap of kube-prometheus-stack: one PrometheusRule."""
    where = "{{ $labels.certificate }} on {{ $labels.instance }}"
    return {"k8s-platform-certificates": {"groups": [{"name": "k8s-platform-certificates", "rules": [
        _alert("KubeadmCertificateExpiresSoon", f"{_days_left('certificate')} < 21", "warning",
               f"{where} expires in {{{{ $value | humanize }}}} days: its renewal (90 days ahead) has failed"),
        _alert("KubeadmCertificateExpiresSoon", f"{_days_left('certificate')} < 7", "critical",
               f"{where} expires in {{{{ $value | humanize }}}} days"),
        _alert("WebCertificateExpiresSoon", f"{_days_left('web')} < 14", "warning",
               f"{where} expires in {{{{ $value | humanize }}}} days: its renewal (30 days ahead) has failed"),
        _alert("KubeletServingCertificateExpiresSoon", f"{_days_left('kubelet-serving')} < 14", "warning",
               "the kubelet's serving certificate on {{ $labels.instance }} expires in {{ $value | humanize }} "
               "days: its daily renewal (30 days ahead) has failed"),
        _alert("CertificateCheckStale", f"(time() - {CHECKED}) / {DAY} > 2", "warning",
               "the daily certificate check on {{ $labels.instance }} has not run for {{ $value | humanize }} days"),
    ]}]}}
