"""k8s-platform: one Pulumi program for a production kubeadm cluster. Thin on purpose: settings in, outputs out."""

import pulumi

from components.aws_infrastructure import AwsInfrastructure, AwsInfrastructureArgs
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

infra = AwsInfrastructure(settings.cluster_name, AwsInfrastructureArgs(settings))
bootstrap = KubeadmBootstrap(settings.cluster_name, KubeadmBootstrapArgs(
    settings=settings,
    hosts=infra.hosts,
    endpoint=infra.endpoint,
    ssh_private_key=pulumi.Config().require_secret(settings.ssh_private_key_config),
    node_domain=infra.node_domain,
))

pulumi.export("tier", settings.tier)
pulumi.export("kubernetesVersion", settings.kubernetes_version)
pulumi.export("apiEndpoint", pulumi.Output.concat(infra.endpoint.host, ":", str(infra.endpoint.port)))
pulumi.export("bastion", infra.bastion_address)
pulumi.export("kubeconfig", bootstrap.kubeconfig)
pulumi.export("nodes", [
    {"name": h.name, "role": h.role, "pool": h.pool, "zone": h.zone, "privateAddress": h.private_address,
     "vcpu": h.capacity.vcpu, "memoryGiB": h.capacity.memory_gib, "diskGiB": h.capacity.disk_gib}
    for h in infra.hosts
])

# Documents rendered for hosts, by relative path; `python -m tools.plan --emit DIR` writes them for review.
artifacts = {"inventory/hosts.json": host_inventory(infra.hosts), **bootstrap.artifacts}
