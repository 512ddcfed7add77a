"""Kubernetes objects the program declares itself, as plain manifests, and their declaration. The manifests are
pure data (validated against the cluster version's schemas in the tests); `declare` turns one into a resource."""

from __future__ import annotations

import re

import pulumi
import pulumi_kubernetes as k8s

MANAGED_BY = {"app.kubernetes.io/managed-by": "k8s-platform"}

_CLASSES = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): k8s.rbac.v1.ClusterRole,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): k8s.rbac.v1.ClusterRoleBinding,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("batch/v1", "CronJob"): k8s.batch.v1.CronJob,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("storage.k8s.io/v1", "StorageClass"): k8s.storage.v1.StorageClass,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def namespace(name: str, pod_security: str = "baseline") -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {**MANAGED_BY, "pod-security.kubernetes.io/enforce": pod_security}}}


def declare(resource_name: str, manifest: dict, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The typed resource for a manifest: top-level fields become the class's arguments, nested fields stay as
    the API spells them."""
    cls = _CLASSES[(manifest["apiVersion"], manifest["kind"])]
    fields = {_snake(k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    return cls(resource_name, **fields, opts=opts)
