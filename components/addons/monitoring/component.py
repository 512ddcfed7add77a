"""Prometheus, Alertmanager and Grafana (kube-prometheus-stack) in the `monitoring` namespace.

A Helm release: the chart's admission-webhook certificate jobs are hooks. Grafana's admin password is generated
as a Pulumi secret; the release's values are secret as a whole because they carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.addons.harbor import values as harbor
from components.addons.kube import declare, on_cluster, release
from components.addons.manifests import namespace
from components.addons.monitoring import values as monitoring
from components.settings import Settings


@dataclass(frozen=True)
class MonitoringArgs:
    settings: Settings
    provider: k8s.Provider
    storage_class: str
    after: list  # pod networking and storage
    loki_url: str | None = None
    grafana_host: str | None = None  # served through the ingress with this host name
    certificates: pulumi.Output[dict] | None = None  # the cluster CA's certificates (addons/harbor/values.py)


class Monitoring(pulumi.ComponentResource):
    grafana_admin_password: pulumi.Output[str]
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:Monitoring", name, None, opts)
        s = args.settings

        def child(*depends_on) -> pulumi.ResourceOptions:
            return on_cluster(self, args.provider, *depends_on)

        # node-exporter reads the host's /proc and /sys with host networking.
        ns = declare(f"{name}-namespace", namespace(monitoring.NAMESPACE, pod_security="privileged"),
                     child(*args.after))
        password = random.RandomPassword(f"{name}-grafana-admin", length=24, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        size = monitoring.size_for(s.tier, s.addons.monitoring_retention, s.addons.monitoring_storage_gib)
        values = self.grafana_admin_password.apply(
            lambda secret: monitoring.values(size, args.storage_class, secret, args.loki_url, args.grafana_host))
        needs = [ns]
        if args.grafana_host:
            data = args.certificates.apply(lambda c: harbor.tls_data(c, args.grafana_host))
            needs.append(declare(f"{name}-grafana-tls", harbor.tls_secret(
                monitoring.GRAFANA_TLS_SECRET, monitoring.NAMESPACE, data), child(ns)))
        self.release = release(f"{name}-release", "kube-prometheus-stack", monitoring.NAMESPACE, values,
                               child(*needs))
        self.register_outputs({"grafanaAdminPassword": self.grafana_admin_password})
