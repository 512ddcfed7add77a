"""The ingress controller: Traefik. Pure.

Why Traefik: ingress-nginx is retired; Traefik is maintained, serves Kubernetes Ingress (which the Harbor and
Grafana charts create) and the Gateway API, and needs no cloud integration. On AWS it listens on fixed NodePorts
behind a second Network Load Balancer; on bare metal it runs on every worker with host port 443, so the workers'
addresses (or a load balancer of yours in front of them) serve HTTPS.
"""

from __future__ import annotations

NAMESPACE = "ingress"
CLASS = "traefik"
HTTP_NODE_PORT = 30080
HTTPS_NODE_PORT = 30443


def values(tier: str, bare_metal: bool) -> dict:
    redirect = {"http": {"redirections": {"entryPoint": {"to": "websecure", "scheme": "https", "permanent": True}}}}
    common = {
        "ingressClass": {"enabled": True, "isDefaultClass": True, "name": CLASS},
        "providers": {"kubernetesIngress": {"enabled": True}, "kubernetesGateway": {"enabled": False}},
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
    }
    if bare_metal:
        return {
            **common,
            "deployment": {"kind": "DaemonSet"},
            "service": {"spec": {"type": "ClusterIP"}},
            "ports": {"web": redirect, "websecure": {"hostPort": 443}},
        }
    return {
        **common,
        "deployment": {"kind": "Deployment", "replicas": 2 if tier == "prod" else 1},
        "service": {"spec": {"type": "NodePort"}},
        "ports": {"web": {"nodePort": HTTP_NODE_PORT, **redirect}, "websecure": {"nodePort": HTTPS_NODE_PORT}},
    }
