"""Settings of the cluster add-ons (`addons`): each can be switched off, some tuned. Pure: no Pulumi."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from components.settings.cron import DESCRIPTORS, schedule_problem
from components.settings.reader import Problems, Reader, shown
from components.settings.rules import DNS_LABEL
from components.settings.web_tls import WebTls, read_web_tls

PROXY_CACHE_UPSTREAMS = ("docker.io", "quay.io", "registry.k8s.io")
ADDONS = ("domain", "tls", "calico", "storage", "ingress", "harbor", "monitoring", "logging", "etcdBackup",
          "metricsServer")
# Labels of at most 63 characters; the last one (the top-level domain) is never all digits, so an IP is no domain.
_DOMAIN = re.compile(r"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_DURATION = re.compile(r"^[1-9][0-9]*[hdw]$")


@dataclass(frozen=True)
class AddonSettings:
    calico: bool = True
    storage: bool = True
    # Bare metal: an existing StorageClass (a SAN's CSI driver, say) to use instead of local-path-provisioner.
    storage_class: str | None = None
    monitoring: bool = True
    # Overrides of the tier's defaults (addons/monitoring/values.py): Prometheus retention ("15d") and volume size.
    monitoring_retention: str | None = None
    monitoring_storage_gib: int | None = None
    logging: bool = True
    ingress: bool = True
    harbor: bool = True
    # Upstream registries Harbor caches for the nodes (containerd pulls them through Harbor, falling back to the
    # upstream when Harbor does not answer).
    harbor_proxy_cache: tuple[str, ...] = ()
    # Web hosts are harbor.<domain> and grafana.<domain>. AWS default: the cluster's private zone
    # <cluster>.internal, where the program adds their records; bare metal: required, in your DNS.
    domain: str | None = None
    etcd_backup: bool = True
    etcd_backup_schedule: str | None = None  # cron; default per tier (addons/etcd_backup/values.py)
    etcd_backup_keep: int | None = None  # snapshots kept on each control plane; default per tier
    etcd_backup_s3: bool = True  # AWS: copy each snapshot to an encrypted, versioned bucket
    # The resource metrics API (`kubectl top`, HorizontalPodAutoscalers); needs only the pod network.
    metrics_server: bool = True
    # The user's own certificate for the web hosts (web_tls.py); None: the cluster's generated CA signs them.
    tls: WebTls | None = None

    def web_hosts(self) -> tuple[str | None, str | None]:
        """Harbor's and Grafana's host names, when the ingress serves them."""
        return web_hosts(self.ingress, self.harbor, self.monitoring, self.domain)


def web_hosts(ingress: bool, harbor: bool, monitoring: bool, domain: str | None) -> tuple[str | None, str | None]:
    served = ingress and domain is not None
    return (f"harbor.{domain}" if served and harbor else None,
            f"grafana.{domain}" if served and monitoring else None)


def read_addons(value: Any, bare_metal: bool, problems: Problems, cluster_name: str | None = None,
                secret: bool = False, now: datetime.datetime | None = None) -> AddonSettings | None:
    """`secret`: whether the stack stores `addons` as a secret (it does once addons.tls.key is set with --secret);
    `now`: when certificates must be valid (default: the current time)."""
    if value is None:
        value = {}
    r = Reader(value, "addons", problems, ADDONS)
    calico = Reader(r.raw("calico", {}), "addons.calico", problems, ["enabled"])
    storage = Reader(r.raw("storage", {}), "addons.storage", problems, ["enabled", "className"])
    monitoring = Reader(r.raw("monitoring", {}), "addons.monitoring", problems, ["enabled", "retention", "storageGiB"])
    monitoring_on = monitoring.boolean("enabled", True)
    retention = monitoring.string("retention", None)
    if retention is not None and not _DURATION.fullmatch(retention):
        problems.add("addons.monitoring.retention", f"must be a duration in hours, days or weeks such as 15d, "
                                                    f"got {retention!r}")
    monitoring_gib = monitoring.integer("storageGiB", None, minimum=5, maximum=16384)
    logging = Reader(r.raw("logging", {}), "addons.logging", problems, ["enabled"])
    logging_on = logging.boolean("enabled", True)
    backup = Reader(r.raw("etcdBackup", {}), "addons.etcdBackup", problems, ["enabled", "schedule", "keep", "s3"])
    backup_on = backup.boolean("enabled", True)
    schedule = backup.string("schedule", None)
    if schedule is not None and (why := schedule_problem(schedule)):
        problems.add("addons.etcdBackup.schedule", f"must be a cron schedule a Kubernetes CronJob runs: five fields "
                                                   f"such as '0 * * * *', one of {', '.join(DESCRIPTORS)}, or "
                                                   f"'@every DURATION'; {shown(schedule)} {why}")
        schedule = None
    keep = backup.integer("keep", None, minimum=1, maximum=1000)
    s3 = backup.boolean("s3", not bare_metal)
    if s3 and bare_metal and backup.raw("s3", None) is not None:
        problems.add("addons.etcdBackup.s3", "applies to AWS only; on bare metal snapshots stay on the control "
                                             "planes (copy /var/backups/etcd off them with your own tooling)")
    ingress = Reader(r.raw("ingress", {}), "addons.ingress", problems, ["enabled"])
    ingress_on = ingress.boolean("enabled", True)
    harbor = Reader(r.raw("harbor", {}), "addons.harbor", problems, ["enabled", "proxyCache"])
    harbor_on = harbor.boolean("enabled", True)
    proxies = harbor.string_list("proxyCache", [])
    for i, upstream in enumerate(proxies or []):
        if upstream not in PROXY_CACHE_UPSTREAMS:
            problems.add(f"addons.harbor.proxyCache[{i}]", f"must be one of {', '.join(PROXY_CACHE_UPSTREAMS)}, "
                                                           f"got {upstream!r}")
            proxies = None
    if proxies is not None and len(set(proxies)) != len(proxies):
        problems.add("addons.harbor.proxyCache", "must not repeat a registry")
        proxies = None
    domain = r.string("domain", None)
    if domain is not None and not (len(domain) <= 200 and _DOMAIN.fullmatch(domain)):
        problems.add("addons.domain", f"must be a DNS domain of at most 200 characters such as k8s.example.com, "
                                      f"got {shown(domain)}")
    if domain is None and not bare_metal and cluster_name:
        domain = f"{cluster_name}.internal"
    calico_on = calico.boolean("enabled", True)
    metrics = Reader(r.raw("metricsServer", {}), "addons.metricsServer", problems, ["enabled"])
    metrics_on = metrics.boolean("enabled", True)
    storage_on = storage.boolean("enabled", True)
    class_name = storage.string("className", None)
    if class_name is not None:
        if not bare_metal:
            problems.add("addons.storage.className", "applies to bare metal only: on AWS the EBS CSI driver's "
                                                     "encrypted gp3 class is the default")
        elif not DNS_LABEL.fullmatch(class_name):
            problems.add("addons.storage.className", f"must be a StorageClass name (a DNS label), got {class_name!r}")
    if None in (calico_on, storage_on, monitoring_on, logging_on, backup_on, s3, ingress_on, harbor_on, metrics_on,
                proxies) or not all(
            x.ok for x in (r, calico, storage, monitoring, logging, backup, ingress, harbor, metrics)):
        return None
    for key, on in (("monitoring", monitoring_on), ("logging", logging_on)):
        if on and not storage_on:
            problems.add(f"addons.{key}.enabled", f"{key} keeps its data on volumes: it needs addons.storage")
    if (monitoring_on or logging_on) and not storage_on:
        return None
    if harbor_on and not (storage_on and ingress_on):
        problems.add("addons.harbor.enabled", "Harbor keeps images on volumes and is served through the ingress: "
                                              "it needs addons.storage and addons.ingress")
        return None
    if domain is None and bare_metal and ingress_on and (harbor_on or monitoring_on):
        problems.add("addons.domain", "is required on bare metal to serve Harbor and Grafana: they become "
                                      "harbor.<domain> and grafana.<domain> (point both at your workers or at the "
                                      "load balancer in front of them)")
        return None
    tls = None
    if r.raw("tls", None) is not None:
        served = [h for h in web_hosts(ingress_on, harbor_on, monitoring_on, domain) if h]
        tls = read_web_tls(r.raw("tls", None), served, secret,
                           now or datetime.datetime.now(datetime.timezone.utc), problems)
        if tls is None:
            return None
    return AddonSettings(tls=tls, calico=calico_on, storage=storage_on, storage_class=class_name, monitoring=monitoring_on,
                         monitoring_retention=retention, monitoring_storage_gib=monitoring_gib, logging=logging_on,
                         ingress=ingress_on, harbor=harbor_on, harbor_proxy_cache=tuple(proxies), domain=domain,
                         etcd_backup=backup_on, etcd_backup_schedule=schedule, etcd_backup_keep=keep,
                         etcd_backup_s3=bool(s3) and not bare_metal, metrics_server=metrics_on)
