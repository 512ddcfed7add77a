"""k8s-platform: one Pulumi program for a production kubeadm cluster. Thin on purpose: settings in, outputs out."""

import pulumi
import pulumi_kubernetes as k8s

from components import versions
from components.addons.calico_addon import Calico, CalicoArgs
from components.addons.etcd_backup_addon import EtcdBackup, EtcdBackupArgs
from components.addons.ingress_addon import Ingress, IngressArgs
from components.addons.logging_addon import Logging, LoggingArgs
from components.addons.monitoring_addon import Monitoring, MonitoringArgs
from components.addons.storage_addon import Storage, StorageArgs
from components.aws_backup_bucket import BackupBucket
from components.infrastructure import provision
from components.inventory import host_inventory
from components.kubeadm_bootstrap import KubeadmBootstrap, KubeadmBootstrapArgs
from components.settings import SettingsError, load_settings
from components.stack_config import read_stack_config

config, secret_keys = read_stack_config()
try:
    settings = load_settings(config, secret_keys, stack=pulumi.get_stack())
except SettingsError as error:
    # Raised before any resource is declared: nothing is half-created.
    raise pulumi.RunError(str(error)) from None

ssh_private_key = pulumi.Config().require_secret(settings.ssh_private_key_config)
hosts = provision(settings, ssh_private_key)
bootstrap = KubeadmBootstrap(settings.cluster_name, KubeadmBootstrapArgs(
    settings=settings,
    hosts=hosts.nodes,
    endpoint=hosts.endpoint,
    ssh_private_key=ssh_private_key,
    node_domain=hosts.node_domain,
))

# Add-ons talk to the cluster through this provider. A fixed cluster identifier keeps an unknown kubeconfig at
# preview from replacing it (and every add-on); deleting from an unreachable cluster lets `destroy` finish.
kubernetes = k8s.Provider(f"{settings.cluster_name}-kubernetes", kubeconfig=bootstrap.kubeconfig,
                          cluster_identifier=settings.cluster_name, delete_unreachable=True,
                          opts=pulumi.ResourceOptions(depends_on=[bootstrap.api_ready]))
pod_network = [bootstrap.api_ready]  # pods need the network; everything with persistence waits for storage.ready
if settings.addons.calico:
    calico = Calico(f"{settings.cluster_name}-calico", CalicoArgs(settings, hosts.endpoint, kubernetes,
                                                                 after=[bootstrap.api_ready]))
    pod_network.append(calico.operator)
storage = Storage(f"{settings.cluster_name}-storage", StorageArgs(settings, kubernetes, after=pod_network))
ingress = None
if settings.addons.ingress:
    ingress = Ingress(f"{settings.cluster_name}-ingress", IngressArgs(settings, kubernetes, after=pod_network))
logging = None
if settings.addons.logging:
    logging = Logging(f"{settings.cluster_name}-logging", LoggingArgs(
        settings, kubernetes, storage.class_name, after=pod_network + storage.ready))
monitoring = None
if settings.addons.monitoring:
    monitoring = Monitoring(f"{settings.cluster_name}-monitoring", MonitoringArgs(
        settings, kubernetes, storage.class_name, after=pod_network + storage.ready,
        loki_url=logging.loki_url if logging else None))

backup_bucket = None
if settings.addons.etcd_backup:
    if settings.addons.etcd_backup_s3 and hosts.control_plane_role is not None:
        backup_bucket = BackupBucket(f"{settings.cluster_name}-etcd-backups", settings, hosts.control_plane_role,
                                     prefix=settings.cluster_name).bucket_name
    EtcdBackup(f"{settings.cluster_name}-etcd-backup", EtcdBackupArgs(
        settings, kubernetes, hosts.nodes, ssh_private_key, after=[bootstrap.api_ready], bucket=backup_bucket))

pulumi.export("infrastructure", settings.infrastructure)
pulumi.export("tier", settings.tier)
pulumi.export("kubernetesVersion", settings.kubernetes_version)
pulumi.export("apiEndpoint", pulumi.Output.concat(hosts.endpoint.host, ":", str(hosts.endpoint.port)))
pulumi.export("bastion", hosts.bastion_address)
pulumi.export("kubeconfig", bootstrap.kubeconfig)
pulumi.export("addons", {"calico": versions.CHARTS["tigera-operator"].version if settings.addons.calico else None,
                        "storageClass": storage.class_name,
                        "traefik": versions.CHARTS["traefik"].version if ingress else None,
                        "kube-prometheus-stack": versions.CHARTS["kube-prometheus-stack"].version
                        if monitoring else None,
                        "loki": versions.CHARTS["loki"].version if logging else None,
                        "fluent-bit": versions.CHARTS["fluent-bit"].version if logging else None})
if monitoring:
    pulumi.export("grafanaAdminPassword", monitoring.grafana_admin_password)
pulumi.export("etcdBackupBucket", backup_bucket)
pulumi.export("ingressAddress", hosts.ingress_address)
pulumi.export("nodes", [
    {"name": h.name, "role": h.role, "pool": h.pool, "zone": h.zone, "privateAddress": h.private_address,
     "vcpu": h.capacity.vcpu, "memoryGiB": h.capacity.memory_gib, "diskGiB": h.capacity.disk_gib}
    for h in hosts.nodes
])

# Documents rendered for hosts, by relative path; `python -m tools.plan --emit DIR` writes them for review.
artifacts = {"inventory/hosts.json": host_inventory(hosts.nodes), **hosts.artifacts, **bootstrap.artifacts}
