"""Installs the add-ons the settings ask for, in dependency order, and says what it installed.

    API ready -> Calico -> storage -> ingress, logging, monitoring, Harbor (each after what it needs)
    API ready -> Calico -> metrics-server (the API server reaches its pods through the pod network)
    API ready -> web certificates (cluster CA) -> registry trust on every node, TLS Secrets
    API ready -> etcd backups (and their S3 bucket on AWS)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.addons.calico.component import Calico, CalicoArgs
from components.addons.etcd_backup.component import EtcdBackup, EtcdBackupArgs
from components.addons.harbor.component import Harbor, HarborArgs
from components.addons.ingress.component import Ingress, IngressArgs
from components.addons.logging.component import Logging, LoggingArgs
from components.addons.metrics_server.component import MetricsServer, MetricsServerArgs
from components.addons.monitoring.component import Monitoring, MonitoringArgs
from components.addons.storage.component import Storage, StorageArgs
from components.addons.web_certificates.component import WebCertificates, WebCertificatesArgs
from components.host import ApiEndpoint, Host
from components.settings import Settings


@dataclass(frozen=True)
class Cluster:
    """What the add-ons need of the bootstrapped cluster."""

    kubeconfig: pulumi.Output[str]
    api_ready: pulumi.Resource
    endpoint: ApiEndpoint
    nodes: list[Host]
    ssh_private_key: pulumi.Input[str]
    backup_store: Callable[[], pulumi.Output[str]] | None = None  # declares a bucket for etcd snapshots (AWS)
    # After the control planes' upgrade steps: the etcd image the backups use is read from a cluster at the version.
    control_planes_upgraded: pulumi.Resource | None = None
    # What the control planes' certificate read asks of the web CA step (bootstrap/certificates.py web_request).
    web_certificate_request: pulumi.Input[str] = "nothing due"


@dataclass
class Installed:
    versions: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


def install_addons(s: Settings, c: Cluster) -> Installed:
    name, a, done = s.cluster_name, s.addons, Installed()
    # A fixed cluster identifier keeps an unknown kubeconfig at preview from replacing the provider (and every
    # add-on with it). deleteUnreachable is left unset: set, it would let a refresh from a machine that cannot
    # reach the API drop live objects from the state; unset, the provider takes it from
    # PULUMI_K8S_DELETE_UNREACHABLE, given only to the destroy of a cluster that is gone (docs/teardown.md).
    provider = k8s.Provider(f"{name}-kubernetes", kubeconfig=c.kubeconfig, cluster_identifier=name,
                            opts=pulumi.ResourceOptions(depends_on=[c.api_ready]))
    pod_network: list = [c.api_ready]
    if a.calico:
        calico = Calico(f"{name}-calico", CalicoArgs(s, c.endpoint, provider, after=[c.api_ready]))
        pod_network.append(calico.operator)
        done.versions["calico"] = versions.CHARTS["tigera-operator"].version
    storage = Storage(f"{name}-storage", StorageArgs(s, provider, after=pod_network))
    done.versions["storageClass"] = storage.class_name
    persistent = pod_network + storage.ready

    harbor_host, grafana_host = a.web_hosts()
    certificates = None
    if harbor_host or grafana_host:
        certificates = WebCertificates(f"{name}-web-certificates", WebCertificatesArgs(
            s, c.nodes, c.ssh_private_key, [h for h in (harbor_host, grafana_host) if h], harbor_host,
            after=[c.api_ready], renewal_request=c.web_certificate_request)).certificates
    ingress = None
    if a.ingress:
        ingress = Ingress(f"{name}-ingress", IngressArgs(s, provider, after=pod_network))
        done.versions["traefik"] = versions.CHARTS["traefik"].version
    loki_url = None
    if a.logging:
        loki_url = Logging(f"{name}-logging", LoggingArgs(s, provider, storage.class_name, after=persistent)).loki_url
        done.versions.update({key: versions.CHARTS[key].version for key in ("loki", "fluent-bit")})
    if a.monitoring:
        monitoring = Monitoring(f"{name}-monitoring", MonitoringArgs(
            s, provider, storage.class_name, after=persistent + ([ingress.release] if ingress else []),
            loki_url=loki_url, grafana_host=grafana_host, certificates=certificates))
        done.versions["kube-prometheus-stack"] = versions.CHARTS["kube-prometheus-stack"].version
        done.outputs["grafanaAdminPassword"] = monitoring.grafana_admin_password
        done.outputs["grafanaUrl"] = f"https://{grafana_host}" if grafana_host else None
    if a.metrics_server:  # after the monitoring release, whose CRDs its ServiceMonitor needs
        MetricsServer(f"{name}-metrics-server", MetricsServerArgs(
            s, provider, after=pod_network + ([monitoring.release] if a.monitoring else []), scraped=a.monitoring))
        done.versions["metrics-server"] = versions.CHARTS["metrics-server"].version
    if harbor_host:
        harbor = Harbor(f"{name}-harbor", HarborArgs(s, provider, harbor_host, storage.class_name, ingress.class_name,
                                                     certificates, after=persistent + [ingress.release]))
        done.versions["harbor"] = versions.CHARTS["harbor"].version
        done.outputs["harborUrl"] = f"https://{harbor_host}"
        done.outputs["harborAdminPassword"] = harbor.admin_password
    if a.etcd_backup:
        bucket = None
        if a.etcd_backup_s3 and c.backup_store is not None:
            bucket = c.backup_store()
        read_after = [c.api_ready, *filter(None, [c.control_planes_upgraded])]
        EtcdBackup(f"{name}-etcd-backup", EtcdBackupArgs(s, provider, c.nodes, c.ssh_private_key, after=read_after,
                                                         bucket=bucket))
        done.outputs["etcdBackupBucket"] = bucket
    return done
