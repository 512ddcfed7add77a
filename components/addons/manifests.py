"""Kubernetes objects the program declares itself, as plain manifests. Pure: validated against the cluster
version's schemas in the tests; components/addons/kube.py declares them."""

from __future__ import annotations

MANAGED_BY = {"app.kubernetes.io/managed-by": "k8s-platform"}


def namespace(name: str, pod_security: str = "baseline") -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {**MANAGED_BY, "pod-security.kubernetes.io/enforce": pod_security}}}
