"""Loki and Fluent Bit in the `logging` namespace (see logging/values.py). Fluent Bit starts after Loki, which
starts after the storage its volume needs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.addons.kube import declare, on_cluster, release
from components.addons.logging import values as logging
from components.addons.manifests import ingress_only_from, namespace
from components.settings import Settings


@dataclass(frozen=True)
class LoggingArgs:
    settings: Settings
    provider: k8s.Provider
    storage_class: str
    after: list  # pod networking and storage


class Logging(pulumi.ComponentResource):
    loki_url: str

    def __init__(self, name: str, args: LoggingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:Logging", name, None, opts)

        def child(*depends_on) -> pulumi.ResourceOptions:
            return on_cluster(self, args.provider, *depends_on)

        # Fluent Bit reads the nodes' /var/log through host paths.
        ns = declare(f"{name}-namespace", namespace(logging.NAMESPACE, pod_security="privileged"),
                     child(*args.after))
        # Before Loki holds anything: the logs and the audit events are readable only where READERS says.
        readers = declare(f"{name}-readers-only",
                          ingress_only_from("readers-only", logging.NAMESPACE, logging.READERS), child(ns))
        loki = release(f"{name}-loki", "loki", logging.NAMESPACE,
                       logging.loki_values(args.settings.tier, args.storage_class), child(ns, readers),
                       release_name=logging.LOKI_RELEASE)
        release(f"{name}-fluent-bit", "fluent-bit", logging.NAMESPACE, logging.fluent_bit_values(), child(loki))
        self.loki_url = logging.LOKI_URL
        self.register_outputs({"lokiUrl": self.loki_url})
