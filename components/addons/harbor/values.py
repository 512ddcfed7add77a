"""Harbor, the cluster's registry, and the certificates of the web hosts the ingress serves. Pure.

TLS: a certificate authority of the cluster's own, kept on the first control plane (scripts/registry-ca.sh),
signs a certificate per host (Harbor, Grafana); every node trusts that CA for the registry
(scripts/registry-trust.sh), so containerd pulls from Harbor without any insecure setting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from components import versions
from components.addons.manifests import MANAGED_BY
from components.bootstrap.certificates import CA_DIR, WEB_RENEW_WITHIN_DAYS
from components.remote import host_scripts

NAMESPACE = "harbor"
RELEASE = "harbor"
TLS_SECRET = "harbor-tls"
CERT_DAYS = 825  # the longest lifetime clients accept for a serving certificate
PROXY_JOB = "harbor-proxy-cache"
ADMIN_SECRET = "harbor-proxy-cache-admin"
CORE_URL = f"http://{RELEASE}-core.{NAMESPACE}.svc.cluster.local"
# Upstream -> (Harbor registry type, the URL Harbor pulls from, the server containerd falls back to).
PROXY_UPSTREAMS = {
    "docker.io": ("docker-hub", "https://hub.docker.com", "https://registry-1.docker.io"),
    "quay.io": ("quay", "https://quay.io", "https://quay.io"),
    "registry.k8s.io": ("docker-registry", "https://registry.k8s.io", "https://registry.k8s.io"),
}
# Harbor requires these secrets to be exactly this long.
SECRET_LENGTHS = {"secretKey": 16, "core": 16, "jobservice": 16, "registry": 16, "xsrfKey": 32}


@dataclass(frozen=True)
class HarborSize:
    registry_gib: int
    database_gib: int
    trivy_gib: int
    redis_gib: int
    job_log_gib: int


TIERS = {
    "lab": HarborSize(20, 2, 5, 1, 1),
    "dev": HarborSize(100, 5, 5, 1, 1),
    "prod": HarborSize(500, 20, 10, 2, 2),
}


def ca_script(cluster_name: str, hosts: list[str], request: str = "nothing due") -> str:
    """`request`: what the first control plane's certificate read found due among the web hosts (a new one runs the
    step again, see bootstrap/certificates.py)."""
    return host_scripts.render("registry-ca.sh", {"CA_DIR": CA_DIR, "CA_NAME": f"{cluster_name} platform CA",
                                                  "HOSTS": " ".join(sorted(hosts)), "CERT_DAYS": CERT_DAYS,
                                                  "RENEW_WITHIN_DAYS": WEB_RENEW_WITHIN_DAYS, "REQUEST": request})


def parse_certificates(stdout: str) -> dict:
    """{"ca": base64 PEM, "hosts": {host: {"cert": base64 PEM, "key": base64 PEM}}} from the CA script."""
    return json.loads(stdout.strip().splitlines()[-1])


def trust_script(registry_host: str, ca_pem: str, proxies: tuple[str, ...] = ()) -> str:
    """`proxies`: upstream registries containerd pulls through Harbor's proxy-cache projects of the same name."""
    mirrors = "\n".join(f"{upstream} {PROXY_UPSTREAMS[upstream][2]}" for upstream in sorted(proxies))
    return host_scripts.render("registry-trust.sh", {"REGISTRY_HOST": registry_host, "CA_CERT": ca_pem.rstrip("\n"),
                                                     "MIRRORS": mirrors})


def proxy_cache_objects(proxies: tuple[str, ...], admin_secret_data) -> list[dict]:
    """The Secret with Harbor's admin credentials, the script and the Job that creates the proxy-cache projects.
    The Job's name carries the upstream list, so a new list runs a new Job (Job specs are immutable)."""
    labels = {"app.kubernetes.io/name": PROXY_JOB, **MANAGED_BY}
    proxies_env = "\n".join(f"{u} {PROXY_UPSTREAMS[u][0]} {PROXY_UPSTREAMS[u][1]}" for u in sorted(proxies))
    script = host_scripts.SCRIPTS_DIR.joinpath("harbor-proxy-cache.sh").read_text()
    return [
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": ADMIN_SECRET, "namespace": NAMESPACE, "labels": labels}, "stringData": admin_secret_data},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": PROXY_JOB, "namespace": NAMESPACE, "labels": labels},
         "data": {"harbor-proxy-cache.sh": script}},
        {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": {"name": f"{PROXY_JOB}-{hashlib.sha256(proxies_env.encode()).hexdigest()[:8]}",
                      "namespace": NAMESPACE, "labels": labels},
         "spec": {"backoffLimit": 6, "activeDeadlineSeconds": 1800, "template": {
             "metadata": {"labels": labels},
             "spec": {
                 "restartPolicy": "OnFailure",
                 "securityContext": {"runAsNonRoot": True, "runAsUser": 65534},
                 "containers": [{
                     "name": "configure",
                     "image": versions.CURL_IMAGE,
                     "command": ["sh", "/scripts/harbor-proxy-cache.sh"],
                     "env": [{"name": "HARBOR_URL", "value": CORE_URL},
                             {"name": "HARBOR_USER", "value": "admin"},
                             {"name": "HARBOR_PASSWORD", "valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET,
                                                                                        "key": "password"}}},
                             {"name": "PROXIES", "value": proxies_env}],
                     "volumeMounts": [{"name": "scripts", "mountPath": "/scripts", "readOnly": True}],
                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                 }],
                 "volumes": [{"name": "scripts", "configMap": {"name": PROXY_JOB}}],
             },
         }}},
    ]


def tls_data(certificates: dict, host: str) -> dict:
    """A publicly trusted certificate (addons.tls without a ca) has no CA to ship: ca.crt is left out."""
    data = {"tls.crt": certificates["hosts"][host]["cert"], "tls.key": certificates["hosts"][host]["key"]}
    if certificates["ca"]:
        data["ca.crt"] = certificates["ca"]
    return data


def tls_secret(name: str, namespace: str, data) -> dict:
    """A kubernetes.io/tls Secret; `data` is tls_data(...) (a secret output in the program)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": namespace, "labels": MANAGED_BY}, "data": data}


def _requests(cpu: str, memory: str) -> dict:
    return {"resources": {"requests": {"cpu": cpu, "memory": memory}}}


def values(tier: str, host: str, storage_class: str, ingress_class: str, secrets: dict) -> dict:
    """`secrets`: adminPassword, databasePassword and the SECRET_LENGTHS keys, generated by the program."""
    size = TIERS[tier]

    def claim(gib: int) -> dict:
        return {"storageClass": storage_class, "size": f"{gib}Gi"}

    return {
        "expose": {
            "type": "ingress",
            "tls": {"enabled": True, "certSource": "secret", "secret": {"secretName": TLS_SECRET}},
            "ingress": {"hosts": {"core": host}, "className": ingress_class},
        },
        "externalURL": f"https://{host}",
        "harborAdminPassword": secrets["adminPassword"],
        "secretKey": secrets["secretKey"],
        "core": {"secret": secrets["core"], "xsrfKey": secrets["xsrfKey"], **_requests("100m", "256Mi")},
        "jobservice": {"secret": secrets["jobservice"], **_requests("50m", "128Mi")},
        "registry": {"secret": secrets["registry"], "registry": _requests("100m", "256Mi"),
                     "controller": _requests("20m", "64Mi")},
        "portal": _requests("20m", "64Mi"),
        "trivy": {"enabled": True, **_requests("200m", "512Mi")},
        "database": {"internal": {"password": secrets["databasePassword"], **_requests("100m", "256Mi")}},
        "redis": {"internal": _requests("50m", "64Mi")},
        "persistence": {
            "enabled": True,
            # Deleting the release keeps the volumes: images and the database survive a mistake.
            "resourcePolicy": "keep",
            "persistentVolumeClaim": {
                "registry": claim(size.registry_gib),
                "database": claim(size.database_gib),
                "redis": claim(size.redis_gib),
                "trivy": claim(size.trivy_gib),
                "jobservice": {"jobLog": claim(size.job_log_gib)},
            },
        },
    }
