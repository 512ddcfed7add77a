"""Kubernetes objects the program declares itself, as plain manifests. Pure: validated against the cluster
version's schemas in the tests; components/addons/kube.py declares them."""

from __future__ import annotations

MANAGED_BY = {"app.kubernetes.io/managed-by": "k8s-platform"}


def namespace(name: str, pod_security: str = "baseline") -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {**MANAGED_BY, "pod-security.kubernetes.io/enforce": pod_security}}}


def ingress_only_from(name: str, namespace: str, allowed_namespaces: tuple[str, ...]) -> dict:
    """A NetworkPolicy: every pod of `namespace` takes connections only from pods of `allowed_namespaces` (and, as
    for every policy, from its own node: the kubelet's probes)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
                                           for n in sorted(set(allowed_namespaces))]}]}}
