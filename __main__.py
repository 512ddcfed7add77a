"""k8s-platform: one Pulumi program for a production kubeadm cluster. Thin on purpose: settings in, outputs out."""

import sys

import pulumi

from components.addons.install import Cluster, install_addons
from components.bootstrap.inventory import host_inventory
from components.bootstrap.kubeadm_bootstrap import KubeadmBootstrap, KubeadmBootstrapArgs
from components.infrastructure import provision
from components import stack_config
from components.settings import PROJECT, SettingsError, load_settings
from components.settings.examples import deploy_refusals
from components.stack_config import read_stack_config

# A rolling upgrade chains every worker's steps behind the previous batch's (one worker at a time in prod): the SDK
# resolves a dependency chain recursively, and 300 workers in a row go past Python's default depth of 1,000.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

config, secret_keys = read_stack_config()
try:
    settings = load_settings(config, secret_keys, stack=pulumi.get_stack())
except SettingsError as error:
    # Raised before any resource is declared: nothing is half-created.
    raise pulumi.RunError(str(error)) from None

# The shipped examples' key and documentation ranges, or a private key that does not match the public one: a
# preview and the offline plan warn, an update refuses before any resource is declared.
refusals = deploy_refusals(settings, config.get(f"{PROJECT}:{settings.ssh_private_key_config}"))
if refusals and stack_config.deploying():
    raise pulumi.RunError("not deployable as written (the example values of the shipped stacks, or a key pair that "
                          "does not match):\n  - " + "\n  - ".join(refusals))
for refusal in refusals:
    pulumi.log.warn(f"not deployable as written: {refusal}")

ssh_private_key = pulumi.Config().require_secret(settings.ssh_private_key_config)
hosts = provision(settings, ssh_private_key)
bootstrap = KubeadmBootstrap(settings.cluster_name, KubeadmBootstrapArgs(
    settings=settings,
    hosts=hosts.nodes,
    endpoint=hosts.endpoint,
    ssh_private_key=ssh_private_key,
    node_domain=hosts.node_domain,
))

addons = install_addons(settings, Cluster(bootstrap.kubeconfig, bootstrap.api_ready, hosts.endpoint, hosts.nodes,
                                         ssh_private_key, hosts.backup_store,
                                         web_certificate_request=bootstrap.web_certificate_request,
                                         control_planes_upgraded=bootstrap.control_planes_upgraded))

pulumi.export("infrastructure", settings.infrastructure)
pulumi.export("tier", settings.tier)
pulumi.export("kubernetesVersion", settings.kubernetes_version)
pulumi.export("apiEndpoint", pulumi.Output.concat(hosts.endpoint.host, ":", str(hosts.endpoint.port)))
pulumi.export("bastion", hosts.bastion_address)
pulumi.export("kubeconfig", bootstrap.kubeconfig)
pulumi.export("certificates", bootstrap.certificates)
pulumi.export("addons", addons.versions)
for key, value in addons.outputs.items():
    pulumi.export(key, value)
pulumi.export("ingressAddress", hosts.ingress_address)
if hosts.machine_roll is not None:
    pulumi.export("machineRoll", hosts.machine_roll)
pulumi.export("nodes", [
    {"name": h.name, "role": h.role, "pool": h.pool, "zone": h.zone, "privateAddress": h.private_address,
     "vcpu": h.capacity.vcpu, "memoryGiB": h.capacity.memory_gib, "diskGiB": h.capacity.disk_gib}
    for h in hosts.nodes
])

# Documents rendered for hosts, by relative path; `python -m tools.plan --emit DIR` writes them for review.
artifacts = {"inventory/hosts.json": host_inventory(hosts.nodes), **hosts.artifacts, **bootstrap.artifacts}
