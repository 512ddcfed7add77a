"""Scheduled etcd snapshots on every control plane (see etcd_backup/values.py), with the image the cluster's etcd
runs, read from the first control plane (and read again when the Kubernetes version changes)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.addons.etcd_backup import values as etcd_backup
from components.addons.kube import declare, on_cluster
from components.addons.manifests import namespace
from components.host import CONTROL_PLANE, Host
from components.remote import host_scripts
from components.remote.runner import HostRunner
from components.settings import Settings


@dataclass(frozen=True)
class EtcdBackupArgs:
    settings: Settings
    provider: k8s.Provider
    hosts: list[Host]
    ssh_private_key: pulumi.Input[str]
    after: list  # API readiness, and the control planes' upgrade steps (the image is the upgraded cluster's)
    bucket: pulumi.Input[str] | None = None  # AWS: where snapshots are copied


class EtcdBackup(pulumi.ComponentResource):
    def __init__(self, name: str, args: EtcdBackupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("k8s-platform:addons:EtcdBackup", name, None, opts)
        s = args.settings
        control_planes = [h for h in args.hosts if h.role == CONTROL_PLANE]
        # The image comes with the Kubernetes version, which is in the script's inputs: a new version re-reads it.
        read_script = host_scripts.render("read-etcd-image.sh", {"KUBERNETES_VERSION": s.kubernetes_version})
        read = HostRunner(self, args.ssh_private_key).run(f"{name}-etcd-image", control_planes[0], read_script,
                                                          list(args.after))
        image = read.stdout.apply(lambda out: out.strip().splitlines()[-1])

        def child(*depends_on) -> pulumi.ResourceOptions:
            return on_cluster(self, args.provider, *depends_on)

        # The pods mount host paths and use the host network.
        ns = declare(f"{name}-namespace", namespace(etcd_backup.NAMESPACE, pod_security="privileged"),
                     child(*args.after))
        scripts = declare(f"{name}-scripts", etcd_backup.script_config_map(), child(ns))
        plan = etcd_backup.TIERS[s.tier]
        plan = etcd_backup.BackupPlan(s.addons.etcd_backup_schedule or plan.schedule,
                                      s.addons.etcd_backup_keep or plan.keep)
        upload = None if args.bucket is None else etcd_backup.Upload(args.bucket, s.cluster_name)
        for host in control_planes:
            declare(f"{name}-{host.name}", etcd_backup.cronjob(host.name, image, plan, upload), child(scripts))
        self.register_outputs({"schedule": plan.schedule, "keep": plan.keep})
