"""Calico on the cluster: its CRD chart, then the tigera-operator chart with our Installation.

Both are Helm releases (`helm.v3.Release`): tigera-operator relies on a pre-delete hook, which `helm.v4.Chart`
would drop. Release names are fixed, so the same settings always give the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.addons import calico
from components.host import ApiEndpoint
from components.settings import Settings


def release(name: str, chart_key: str, namespace: str, values: dict, opts: pulumi.ResourceOptions,
            release_name: str | None = None) -> k8s.helm.v3.Release:
    chart = versions.CHARTS[chart_key]
    return k8s.helm.v3.Release(
        name,
        name=release_name or chart_key,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        values=values,
        # A failed upgrade rolls back instead of leaving the release half-applied.
        atomic=True,
        cleanup_on_fail=True,
        max_history=5,
        opts=opts,
    )


def namespace(name: str, namespace_name: str, opts: pulumi.ResourceOptions,
              pod_security: str = "baseline") -> k8s.core.v1.Namespace:
    return k8s.core.v1.Namespace(name, metadata=k8s.meta.v1.ObjectMetaArgs(
        name=namespace_name,
        labels={"pod-security.kubernetes.io/enforce": pod_security, "app.kubernetes.io/managed-by": "k8s-platform"},
    ), opts=opts)


@dataclass(frozen=True)
class CalicoArgs:
    settings: Settings
    endpoint: ApiEndpoint
    provider: k8s.Provider
    after: list  # API readiness


class Calico(pulumi.ComponentResource):
    operator: k8s.helm.v3.Release

    def __init__(self, name: str, args: CalicoArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:Calico", name, None, opts)

        def child(*depends_on) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(depends_on))

        # calico-node needs host networking and privileges.
        ns = namespace(f"{name}-namespace", calico.NAMESPACE, child(*args.after), pod_security="privileged")
        crds = release(f"{name}-crds", "calico-crds", calico.NAMESPACE, {}, child(ns), release_name="calico-crds")
        values = pulumi.Output.from_input(args.endpoint.host).apply(
            lambda host: calico.values(args.settings, host, args.endpoint.port))
        self.operator = release(f"{name}-operator", "tigera-operator", calico.NAMESPACE, values, child(crds))
        self.register_outputs({"version": versions.CHARTS["tigera-operator"].version})
