"""Calico on the cluster: its CRD chart, then the tigera-operator chart with our Installation (a Helm release:
tigera-operator relies on a pre-delete hook)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.addons.calico import values as calico
from components.addons.kube import declare, on_cluster, release
from components.addons.manifests import namespace
from components.host import ApiEndpoint
from components.settings import Settings


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
            return on_cluster(self, args.provider, *depends_on)

        # calico-node needs host networking and privileges.
        ns = declare(f"{name}-namespace", namespace(calico.NAMESPACE, pod_security="privileged"),
                     child(*args.after))
        crds = release(f"{name}-crds", "calico-crds", calico.NAMESPACE, {}, child(ns), release_name="calico-crds")
        values = pulumi.Output.from_input(args.endpoint.host).apply(
            lambda host: calico.values(args.settings, host, args.endpoint.port))
        self.operator = release(f"{name}-operator", "tigera-operator", calico.NAMESPACE, values, child(crds))
        self.register_outputs({"version": versions.CHARTS["tigera-operator"].version})
