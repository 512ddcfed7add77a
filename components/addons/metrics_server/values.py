"""metrics-server's Helm values (kubernetes-sigs chart). Pure.

It serves the `metrics.k8s.io` API (an APIService the API server proxies to it) from what it scrapes off every
kubelet's `/metrics/resource`, so `kubectl top` and HorizontalPodAutoscalers work. It runs on the pod network in
kube-system, as upstream ships it: the control planes reach its pods through Calico like any other pod.
"""

from __future__ import annotations

from components import versions

NAMESPACE = "kube-system"
RELEASE = "metrics-server"  # also its Deployment's name (the chart drops a release name that contains its own)
# The chart's default. On AWS with Calico's CrossSubnet or unencapsulated modes a control plane reaches a pod on
# a node of its subnet unencapsulated, from its own address: the security groups admit 10250 between the nodes
# (the kubelet's rule, components/aws/firewall.py), and would drop another port such as 4443.
CONTAINER_PORT = 10250
# The chart's labels on its pods (selectorLabels in its _helpers.tpl), which the anti-affinity selects.
POD_LABELS = {"app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": RELEASE}

# Flags replacing the chart's defaultArgs (a flag given twice would leave the winner to flag parsing).
ARGS = (
    "--cert-dir=/tmp",
    # The kubelets' serving certificates are self-signed (kubeadm's default; the nodes'
    # kubelet-serving-certificate.sh renews them): no CA the cluster holds signed them, so there is nothing to
    # verify them against, and the API server does not verify them either (it runs without
    # --kubelet-certificate-authority). The connection stays TLS, and metrics-server still authenticates to each
    # kubelet with its ServiceAccount token (kubeadm turns on the kubelet's webhook authentication and
    # authorization); only the kubelet's identity goes unchecked, as it does for the API server's own logs and
    # exec. Without the flag every scrape fails ("x509: certificate signed by unknown authority"), the pods never
    # become ready and the APIService stays unavailable.
    "--kubelet-insecure-tls",
    # Only the address each node registered with (kubeadm's node-ip: its internal address), where the kubelet
    # listens and the security groups admit 10250 from the nodes. Node names are no DNS names a pod can resolve
    # (bare metal: the nodes' /etc/hosts; AWS: short names the nodes resolve through their search domain, which
    # CoreDNS does not apply), so a fallback to Hostname could only fail.
    "--kubelet-preferred-address-types=InternalIP",
    "--kubelet-use-node-status-port",
    "--metric-resolution=15s",
)

# Upstream's guidance (metrics-server README "Scaling"): 100m and 200 MiB up to 100 nodes, then 1m and 2 MiB
# more per node.
BASE_CPU_M, BASE_MEMORY_MIB, BASE_NODES = 100, 200, 100


def requests(nodes: int) -> dict:
    extra = max(0, nodes - BASE_NODES)
    return {"cpu": f"{BASE_CPU_M + extra}m", "memory": f"{BASE_MEMORY_MIB + 2 * extra}Mi"}


def values(tier: str, nodes: int, scraped: bool = False) -> dict:
    """`nodes`: the most nodes the cluster may grow to (its pools' maxCount): metrics-server's memory grows with
    them. `scraped`: monitoring is on; the chart then serves metrics-server's own /metrics (its
    `--authorization-always-allow-paths=/metrics`) and declares a ServiceMonitor, which Prometheus selects in every
    namespace (monitoring/values.py): a failing scrape of the kubelets shows there, not only in `kubectl top`."""
    out = {
        "image": {"repository": versions.METRICS_SERVER_IMAGE_REPOSITORY, "tag": versions.METRICS_SERVER_IMAGE_TAG},
        "containerPort": CONTAINER_PORT,
        "defaultArgs": list(ARGS),
        "resources": {"requests": requests(nodes)},
        "replicas": 1,
        "metrics": {"enabled": scraped},
        "serviceMonitor": {"enabled": scraped},
    }
    if tier != "prod":
        return out
    # HA in prod, as upstream's high-availability manifests: two replicas on different nodes (the policy pack
    # requires at least two workers in prod), a budget that keeps one through drains, and an update that replaces
    # one pod at a time instead of waiting for a third node the anti-affinity would need for a surge pod.
    return {
        **out,
        "replicas": 2,
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": dict(POD_LABELS)}, "topologyKey": "kubernetes.io/hostname"}]}},
    }
