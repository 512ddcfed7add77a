"""How the add-on components put things on the cluster: a manifest as its typed resource, a pinned Helm release,
and the options every such child takes (its component, the cluster's provider, what it waits for)."""

from __future__ import annotations

import re

import pulumi
import pulumi_kubernetes as k8s

from components import versions

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
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def on_cluster(parent: pulumi.Resource, provider: k8s.Provider, *depends_on) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on))


def declare(resource_name: str, manifest: dict, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The typed resource for a manifest: top-level fields become the class's arguments, nested fields stay as
    the API spells them."""
    cls = _CLASSES[(manifest["apiVersion"], manifest["kind"])]
    fields = {_snake(k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    return cls(resource_name, **fields, opts=opts)


# How long Helm waits, per chart, for its resources to be ready (seconds; Helm's default, 300, is too short for the
# first install of several): image pulls on fresh nodes, volumes to bind, databases to initialise, a cloud load
# balancer to get its address. A release that is not ready in time counts as failed: `atomic` then uninstalls it
# (first install) or rolls it back (upgrade); see release().
RELEASE_TIMEOUTS_S = {
    "calico-crds": 300,  # CRDs only
    "tigera-operator": 600,  # the operator, then calico-node on every node
    "aws-ebs-csi-driver": 600,
    "traefik": 600,  # on AWS its Service waits for a Network Load Balancer's address
    "harbor": 1500,  # ten images, five volumes, its database's first initialisation, then core's migrations
    "kube-prometheus-stack": 1200,  # CRDs, the admission webhook's jobs, Prometheus' and Grafana's volumes
    "loki": 900,  # a StatefulSet with a volume, and its gateway
    "fluent-bit": 300,  # a DaemonSet without volumes
    "metrics-server": 300,  # one small Deployment, ready once it has scraped the kubelets (about 20 s after start)
}


def release(name: str, chart_key: str, namespace: str, values, opts: pulumi.ResourceOptions,
            release_name: str | None = None) -> k8s.helm.v3.Release:
    """A Helm release of a chart pinned in versions.CHARTS. `helm.v3.Release`, not `v4.Chart`: several charts
    rely on hooks, which v4 drops. The release name is fixed, so the same settings give the same plan."""
    chart = versions.CHARTS[chart_key]
    return k8s.helm.v3.Release(
        name,
        name=release_name or chart_key,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        values=values,
        # A failed or timed-out upgrade rolls back instead of leaving the release half-applied. On a first install
        # the release is uninstalled (its volumes' claims, made by StatefulSets, stay): the update reports the
        # failure and the next `pulumi up` installs it afresh.
        atomic=True,
        cleanup_on_fail=True,
        timeout=RELEASE_TIMEOUTS_S[chart_key],
        max_history=5,
        opts=opts,
    )
