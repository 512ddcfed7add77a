"""A Kubernetes version change as ordered host steps, the kubeadm way (upgrade_steps renders each step):

    guard (first control plane) -> etcd snapshot (every control plane)
      -> first control plane: kubeadm upgrade apply, drain, containerd, kubelet, Ready + uncordon
      -> each other control plane in turn: kubeadm upgrade node, drain, containerd, kubelet, Ready + uncordon
      -> workers, batch after batch (upgrade.maxUnavailableWorkers at once, in parallel within a batch)

Every step carries the target version, so changing kubernetesVersion runs them again, and every step does nothing
on a node already at the target: on a new cluster they pass through, an interrupted upgrade resumes. Between two
batches stands a barrier that runs nothing (a local command without a create) and waits for the whole batch; the
next batch waits for it. The SDK would expand a dependency on a component into one on each of its children (a
batch of 100 workers would give each worker of the next one 400 dependencies): through the barrier the
dependencies grow with the nodes, and the chain with the batches. The
drains and uncordons run on a control plane (it has the admin credentials), through the load balancer: `drain_from`
names it for each node (the first control plane that answers, the node itself included: lifecycle_hosts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
from pulumi_command import local

from components.bootstrap import upgrade_steps
from components.host import Host
from components.remote.runner import HostRunner
from components.settings.mirrors import PackageMirror


@dataclass
class Upgrade:
    version: str
    first: Host
    key: pulumi.Input[str]
    parent: pulumi.Resource
    # The cluster at the target version (the containerd step's config names the target's pause image).
    cluster: pulumi.Output
    # Each node's kubelet patch (YAML), by node name: the kubelet step keeps the node's configuration current.
    kubelet_patches: dict
    # Where a node's drain and uncordon run, by node name; None: on the first control plane.
    drain_from: Callable[[str], Host] | None = None
    # The mirror of the Kubernetes package repositories (mirrors.kubernetesPackages); None: upstream's.
    packages: PackageMirror | None = None
    # The kubeadm preflight checks init and join let pass (hostSystem): kubeadm's upgrade runs its preflight too.
    ignored_preflight_errors: tuple[str, ...] = ()

    def __post_init__(self):
        self.run = HostRunner(self.parent, self.key).run
        self.containerd_script = self.cluster.apply(upgrade_steps.containerd)

    def node(self, host: Host, role: str, after: list):
        """The five steps of one node; returns the last."""
        run = self.run
        v = self.version
        kubeadm = run(f"{host.name}-upgrade-kubeadm", host, upgrade_steps.kubeadm(v, role, self.packages,
                                                                                  self.ignored_preflight_errors), after)
        acting = self.drain_from(host.name) if self.drain_from else self.first
        drain = run(f"{host.name}-upgrade-drain", acting, upgrade_steps.drain(v, host.name), [kubeadm])
        runtime = run(f"{host.name}-upgrade-containerd", host, self.containerd_script, [drain])
        kubelet = run(f"{host.name}-upgrade-kubelet", host,
                      self.kubelet_patches[host.name].apply(
                          lambda patch: upgrade_steps.kubelet(v, patch, self.packages)), [runtime])
        return run(f"{host.name}-upgrade-ready", acting, upgrade_steps.uncordon(v, host.name), [kubelet])

    def control_planes(self, name: str, others: list[Host], after: list):
        """Guard, snapshots, then the control planes one by one; returns (first done, all done)."""
        run = self.run
        guard = run(f"{name}-upgrade-guard", self.first, upgrade_steps.guard(self.version), after)
        snapshots = [run(f"{cp.name}-upgrade-etcd-snapshot", cp, upgrade_steps.etcd_snapshot(self.version), [guard])
                     for cp in (self.first, *others)]
        first_done = last = self.node(self.first, upgrade_steps.FIRST_CONTROL_PLANE, snapshots)
        for cp in others:
            last = self.node(cp, upgrade_steps.CONTROL_PLANE, [last])
        return first_done, last

    def workers(self, workers: list[Host], joined: dict, size: int, after):
        """Batches of `size` workers after `after`; each worker also after its own join. Returns the last
        barrier."""
        previous = after
        for batch in upgrade_steps.batches(workers, size):
            done = [self.node(host, upgrade_steps.WORKER, [previous, joined[host.name]]) for host in batch]
            # Named after its first worker: a worker added at the end joins the last batch or starts its own.
            previous = local.Command(f"{batch[0].name}-upgrade-batch", opts=pulumi.ResourceOptions(
                parent=self.parent, depends_on=done))
        return previous
