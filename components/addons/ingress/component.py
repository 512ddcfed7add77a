"""Traefik, the cluster's default IngressClass, in the `ingress` namespace (see ingress/values.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.addons.ingress import values as ingress
from components.addons.kube import declare, on_cluster, release
from components.addons.manifests import namespace
from components.settings import Settings


@dataclass(frozen=True)
class IngressArgs:
    settings: Settings
    provider: k8s.Provider
    after: list  # pod networking


class Ingress(pulumi.ComponentResource):
    class_name: str
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:Ingress", name, None, opts)
        s = args.settings

        def child(*depends_on) -> pulumi.ResourceOptions:
            return on_cluster(self, args.provider, *depends_on)

        # Host port 443 on bare metal is a privileged pod setting.
        ns = declare(f"{name}-namespace", namespace(ingress.NAMESPACE,
                                                    pod_security="privileged" if s.bare_metal else "baseline"),
                     child(*args.after))
        self.release = release(f"{name}-traefik", "traefik", ingress.NAMESPACE,
                               ingress.values(s.tier, s.bare_metal), child(ns))
        self.class_name = ingress.CLASS
        self.register_outputs({"ingressClass": self.class_name})
