"""metrics-server in kube-system (see metrics_server/values.py): `kubectl top` and HorizontalPodAutoscalers."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.addons.kube import on_cluster, release
from components.addons.metrics_server import values as metrics_server
from components.settings import Settings


@dataclass(frozen=True)
class MetricsServerArgs:
    settings: Settings
    provider: k8s.Provider
    after: list  # pod networking (the API server reaches its pods through Calico); with monitoring, its CRDs
    scraped: bool = False  # monitoring is on: a ServiceMonitor for metrics-server's own metrics


class MetricsServer(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: MetricsServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:MetricsServer", name, None, opts)
        s = args.settings
        # kube-system is kubeadm's, so there is no namespace to declare; the chart makes the APIService.
        self.release = release(f"{name}-release", "metrics-server", metrics_server.NAMESPACE,
                               metrics_server.values(s.tier, s.max_node_count, args.scraped),
                               on_cluster(self, args.provider, *args.after), release_name=metrics_server.RELEASE)
        self.register_outputs({"apiService": "v1beta1.metrics.k8s.io"})
