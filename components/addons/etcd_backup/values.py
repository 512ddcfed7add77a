"""etcd backups: on every control plane a CronJob saves a snapshot with the cluster's own etcdctl and
certificates, keeps the newest ones on the node, and on AWS copies each to an encrypted, versioned S3 bucket.
Pure: the manifests; the component declares them.

One CronJob per control plane, pinned to it: the snapshots of a lost control plane's disk are still on the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import versions
from components.addons.manifests import MANAGED_BY
from components.host import CONTROL_PLANE
from components.remote import host_scripts

NAMESPACE = "etcd-backup"
BACKUP_DIR = "/var/backups/etcd"
PKI_DIR = "/etc/kubernetes/pki/etcd"
# What the snapshot needs of the etcd PKI, and nothing more: the CA's certificate and kubeadm's etcd client
# certificate (etcd-healthcheck-client, renewed with the others). Never the folder: it holds the etcd CA's private
# key, which would let anyone who can read a backup pod's volumes mint etcd and peer certificates.
PKI_FILES = {"etcd-ca": "ca.crt", "etcd-client-cert": "healthcheck-client.crt", "etcd-client-key": "healthcheck-client.key"}
SCRIPTS = ("etcd-backup-rotate.sh", "etcd-backup-upload.sh")
CONFIG_MAP = "etcd-backup-scripts"


@dataclass(frozen=True)
class BackupPlan:
    schedule: str
    keep: int


TIERS = {
    "lab": BackupPlan("0 */12 * * *", 4),
    "dev": BackupPlan("0 */6 * * *", 8),
    "prod": BackupPlan("0 * * * *", 48),
}


@dataclass(frozen=True)
class Upload:
    bucket: object  # the bucket's name (a Pulumi output in the program)
    prefix: str


def script_config_map() -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CONFIG_MAP, "namespace": NAMESPACE, "labels": MANAGED_BY},
            "data": {name: host_scripts.SCRIPTS_DIR.joinpath(name).read_text() for name in SCRIPTS}}


def _requests(cpu: str, memory: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}}


def cronjob(node: str, etcd_image: object, plan: BackupPlan, upload: Upload | None) -> dict:
    backup_mount = {"name": "backup", "mountPath": "/backup"}
    scripts_mount = {"name": "scripts", "mountPath": "/scripts", "readOnly": True}
    snapshot = {
        "name": "snapshot",
        "image": etcd_image,
        "command": ["etcdctl", "snapshot", "save", "/backup/incoming.db", "--endpoints=https://127.0.0.1:2379",
                    f"--cacert={PKI_DIR}/ca.crt", f"--cert={PKI_DIR}/healthcheck-client.crt",
                    f"--key={PKI_DIR}/healthcheck-client.key"],
        "env": [{"name": "ETCDCTL_API", "value": "3"}],
        "volumeMounts": [*({"name": volume, "mountPath": f"{PKI_DIR}/{file}", "readOnly": True}
                           for volume, file in PKI_FILES.items()), backup_mount],
        "resources": _requests("100m", "128Mi"),
    }
    rotate = {
        "name": "rotate",
        "image": versions.HELPER_IMAGE,
        "command": ["sh", "/scripts/etcd-backup-rotate.sh"],
        "env": [{"name": "BACKUP_DIR", "value": "/backup"}, {"name": "KEEP", "value": str(plan.keep)}],
        "volumeMounts": [backup_mount, scripts_mount],
        "resources": _requests("10m", "16Mi"),
    }
    init, main = [snapshot], rotate
    if upload is not None:
        init.append(rotate)
        main = {
            "name": "upload",
            "image": versions.AWS_CLI_IMAGE,
            "command": ["sh", "/scripts/etcd-backup-upload.sh"],
            "env": [{"name": "BACKUP_DIR", "value": "/backup"}, {"name": "BUCKET", "value": upload.bucket},
                    {"name": "PREFIX", "value": upload.prefix}, {"name": "NODE_NAME", "value": node}],
            "volumeMounts": [backup_mount, scripts_mount],
            "resources": _requests("50m", "128Mi"),
        }
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": f"etcd-backup-{node}", "namespace": NAMESPACE, "labels": MANAGED_BY},
        "spec": {
            "schedule": plan.schedule,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": 900,
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "etcd-backup", **MANAGED_BY}},
                    "spec": {
                        "restartPolicy": "Never",
                        # etcd listens on the node's loopback; the node's instance profile signs the upload.
                        "hostNetwork": True,
                        "nodeSelector": {"kubernetes.io/hostname": node},
                        "tolerations": [{"key": f"node-role.kubernetes.io/{CONTROL_PLANE}", "operator": "Exists",
                                         "effect": "NoSchedule"}],
                        "initContainers": init,
                        "containers": [main],
                        "volumes": [
                            *({"name": volume, "hostPath": {"path": f"{PKI_DIR}/{file}", "type": "File"}}
                              for volume, file in PKI_FILES.items()),
                            {"name": "backup", "hostPath": {"path": BACKUP_DIR, "type": "DirectoryOrCreate"}},
                            {"name": "scripts", "configMap": {"name": CONFIG_MAP, "defaultMode": 0o555}},
                        ],
                    },
                },
            }},
        },
    }
