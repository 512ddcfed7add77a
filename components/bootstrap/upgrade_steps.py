"""What each upgrade step sends to a host: the rendered script of that step, for one target version. Pure.

A node's upgrade is five steps, the kubeadm way: kubeadm and the control-plane components (on the node), the drain
(on the first control plane, which has the admin credentials), containerd (on the drained node: a move from 1.7 to
2 in the upgrade to 1.36, the pinned containerd 2 after it), kubelet and kubectl with the node's kubelet
configuration (on the node; a changed configuration alone reruns only this step, node after node), then Ready and
uncordon (on the first control plane). Before them: a guard that reads the cluster's version and an etcd snapshot
on every control plane. Every script compares what the node runs with the target first and does nothing when it
is there already, so an interrupted upgrade resumes on the next `pulumi up`.
"""

from __future__ import annotations

import base64

from components import versions
from components.bootstrap import certificates, host_steps, node_config
from components.bootstrap.node_config import ClusterFacts
from components.remote import host_scripts
from components.settings.mirrors import PackageMirror

FIRST_CONTROL_PLANE, CONTROL_PLANE, WORKER = "first-control-plane", "control-plane", "worker"
# A drain waits this long for PodDisruptionBudgets to let pods go before it stops the upgrade.
DRAIN_TIMEOUT = "10m"
# An upgraded kubelet re-registers in seconds; a node that is not Ready after 5 minutes stops the upgrade.
READY_ATTEMPTS = 60
READY_INTERVAL_SECONDS = 5
SNAPSHOT_DIR = "/var/lib/k8s-platform/etcd-snapshots"


def _target(version: str) -> dict[str, str]:
    return {"TARGET_VERSION": version,
            "KUBERNETES_PACKAGE_VERSION": f"{version}-{versions.KUBERNETES_PACKAGE_REVISION}",
            "CONTAINERD_VERSION": versions.CONTAINERD_VERSION,
            "CONTAINERD_2_FROM_MINOR": versions.CONTAINERD_2_FROM_MINOR}


def _render(step: str, version: str, inputs: dict[str, object] | None = None,
            libraries: tuple[str, ...] = ()) -> str:
    return host_scripts.render(("upgrade-lib.sh", *libraries, f"upgrade-{step}.sh"),
                               {**_target(version), **(inputs or {})}, name=f"upgrade-{step}")


def guard(version: str) -> str:
    return _render("guard", version)


def etcd_snapshot(version: str) -> str:
    return _render("etcd-snapshot", version, {"SNAPSHOT_DIR": SNAPSHOT_DIR})


def kubeadm(version: str, role: str, packages: PackageMirror | None = None,
            ignored_preflight_errors: tuple[str, ...] = ()) -> str:
    """`packages`: the mirror of the Kubernetes package repositories (mirrors.kubernetesPackages), or upstream;
    `ignored_preflight_errors`: the kubeadm checks init and join let pass (hostSystem), for the upgrade's preflight."""
    if role not in (FIRST_CONTROL_PLANE, CONTROL_PLANE, WORKER):
        raise ValueError(f"unknown upgrade role {role!r}")
    return _render("kubeadm", version, {"ROLE": role, "IGNORE_PREFLIGHT_ERRORS": ",".join(ignored_preflight_errors),
                                        **host_steps.kubernetes_repository(version, packages)},
                   libraries=("kubernetes-packages-lib.sh",))


def drain(version: str, node_name: str) -> str:
    return _render("drain", version, {"NODE_NAME": node_name, "DRAIN_TIMEOUT": DRAIN_TIMEOUT})


def containerd(cluster: ClusterFacts) -> str:
    """The containerd step for the cluster at its target version (the config names the target's pause image)."""
    return _render("containerd", cluster.kubernetes_version, host_steps.containerd_inputs(cluster),
                   libraries=("containerd-lib.sh",))


# A kubelet restarted with its new version or configuration answers its health check within this many 5 s tries.
KUBELET_HEALTH_ATTEMPTS = 24


# The kubelet's self-signed serving certificate is made again within this many days of its expiry, by a daily
# timer on every node (kubelet-serving-certificate.sh) that the kubelet step installs; the timers of a cluster
# spread over three hours, so that not every kubelet restarts in the same minute.
SERVING_RENEW_WITHIN_DAYS = 30
SERVING_PROGRAM_PATH = "/usr/local/lib/k8s-platform/kubelet-serving-certificate"
SERVING_UNIT = "k8s-platform-kubelet-certificate"
SERVING_CALENDAR = "*-*-* 01:00:00 UTC"
SERVING_SPREAD = "RandomizedDelaySec=3h"
SERVING_METRICS_FILE = f"{certificates.METRICS_DIR}/k8s-platform-kubelet.prom"


def kubelet_serving_program() -> str:
    return host_scripts.render("kubelet-serving-certificate.sh", {
        "RENEW_WITHIN_DAYS": SERVING_RENEW_WITHIN_DAYS, "HEALTH_ATTEMPTS": KUBELET_HEALTH_ATTEMPTS,
        "METRICS_FILE": SERVING_METRICS_FILE})


def kubelet(version: str, kubelet_patch: str, packages: PackageMirror | None = None) -> str:
    """kubelet, kubectl and cri-tools at `version` (from `packages`, the mirror, or upstream), the node's kubelet
    configuration from `kubelet_patch` (its YAML), and the timer that keeps the kubelet's serving certificate from
    expiring."""
    return _render("kubelet", version, {
        **host_steps.kubernetes_repository(version, packages),
        "CRI_TOOLS_PACKAGE_VERSION": host_steps.cri_tools_package_version(version),
        "KUBELET_PATCH": kubelet_patch.rstrip("\n"), "PATCH_FILE": node_config.KUBELET_PATCH_FILE,
        "HEALTH_ATTEMPTS": KUBELET_HEALTH_ATTEMPTS,
        "SERVING_PROGRAM_BASE64": base64.b64encode(kubelet_serving_program().encode()).decode(),
        "SERVING_PROGRAM_PATH": SERVING_PROGRAM_PATH, "SERVING_UNIT": SERVING_UNIT,
        "SERVING_CALENDAR": SERVING_CALENDAR, "SERVING_SPREAD": SERVING_SPREAD},
        libraries=("kubernetes-packages-lib.sh", "timer-lib.sh"))


def uncordon(version: str, node_name: str) -> str:
    return _render("uncordon", version, {"NODE_NAME": node_name, "ATTEMPTS": READY_ATTEMPTS,
                                         "INTERVAL_SECONDS": READY_INTERVAL_SECONDS})


def batches(items: list, size: int) -> list[list]:
    """`items` in consecutive groups of at most `size`, in their order (a node added at the end joins the last
    group or a new one; no other node changes group)."""
    if size < 1:
        raise ValueError("a batch holds at least one node")
    return [items[i:i + size] for i in range(0, len(items), size)]
