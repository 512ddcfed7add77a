"""Config files for a node, built as Python data: kubeadm (v1beta4), kubelet, kube-proxy and containerd. Pure.

Secrets (the bootstrap token, join credentials with a control plane's certificate key) are parameters: the bootstrap
component fills them in inside Pulumi secret outputs, and the plan fills in placeholders for review.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from components import sizing, versions
from components.bootstrap import api_security, toml_writer
from components.host import CONTROL_PLANE, Taint
from components.settings import rules
from components.settings.host_system import HostSystemSettings
from components.settings.mirrors import MirrorSettings

KUBEADM_API = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
KUBE_PROXY_API = "kubeproxy.config.k8s.io/v1alpha1"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
CONTAINERD_CERTS_DIR = "/etc/containerd/certs.d"
PATCHES_DIR = "/etc/kubernetes/patches"
KUBELET_PATCH_FILE = "kubeletconfiguration+merge.yaml"
CONTROL_PLANE_TAINT = Taint(key="node-role.kubernetes.io/control-plane", effect="NoSchedule")
# Short-lived: every join fetches fresh credentials right before it runs, so nothing needs a long-lived token.
INIT_TOKEN_TTL = "1h0m0s"
JOIN_TOKEN_TTL_SECONDS = 3600
# Metrics endpoints that in-cluster Prometheus scrapes; the security groups admit them from the nodes only.
ETCD_METRICS_PORT = 2381
KUBE_PROXY_METRICS_PORT = 10249


@dataclass(frozen=True)
class ClusterFacts:
    cluster_name: str
    tier: str
    kubernetes_version: str
    endpoint: str  # host:port of the API load balancer
    cert_sans: tuple[str, ...]
    pod_cidr: str
    service_cidr: str
    node_cidr_mask_size: int
    max_pods: int
    image_repository: str
    host_system: HostSystemSettings = HostSystemSettings()
    mirrors: MirrorSettings = MirrorSettings()
    # In-cluster Prometheus scrapes etcd, the controller-manager and the scheduler: only then do they listen beyond
    # the host's loopback (bare metal has no firewall in front of those ports).
    monitoring: bool = True


@dataclass(frozen=True)
class NodeFacts:
    name: str
    address: str
    role: str
    capacity: sizing.NodeSize
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()
    # The machine behind the name: the instance ID on AWS, a digest of the pinned SSH host key on bare metal, "" when
    # nothing identifies it. A new identity means a replaced or re-imaged machine (join-credentials.sh).
    identity: str = ""
    # A fresh install behind the name (its preflight found no finished init or join): only then may its credentials
    # step take the old machine's Node out. False when unknown.
    fresh: bool = False


def _args(**values: str) -> list[dict[str, str]]:
    """kubeadm v1beta4 extraArgs: a list of name/value pairs, in a stable order."""
    return [{"name": name.replace("_", "-"), "value": value} for name, value in sorted(values.items())]


ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"


def topology_labels(zone: str, region: str | None) -> tuple[tuple[str, str], ...]:
    """The well-known topology labels of a node in `zone` (and `region` on AWS): spread constraints, zonal volumes
    and topology-aware routing read them. No cloud controller runs here to set them; the kubelet accepts them."""
    return tuple((key, value) for key, value in ((REGION_LABEL, region), (ZONE_LABEL, zone)) if value)


def _node_registration(node: NodeFacts, c: ClusterFacts) -> dict:
    taints = list(node.taints)
    if node.role == CONTROL_PLANE and CONTROL_PLANE_TAINT not in taints:
        taints.insert(0, CONTROL_PLANE_TAINT)
    extra = {"node_ip": node.address}
    # node-role.kubernetes.io/<role> and the like: the kubelet refuses them; the labels step applies them.
    kubelet_labels = [(k, v) for k, v in node.labels if not rules.is_api_only_label(k)]
    if kubelet_labels:
        extra["node_labels"] = ",".join(f"{k}={v}" for k, v in kubelet_labels)
    ignored = c.host_system.ignored_preflight_errors
    return {
        "name": node.name,
        "criSocket": CRI_SOCKET,
        "imagePullPolicy": "IfNotPresent",
        "kubeletExtraArgs": _args(**extra),
        "taints": [{"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})} for t in taints],
        **({"ignorePreflightErrors": list(ignored)} if ignored else {}),
    }


def cluster_configuration(c: ClusterFacts) -> dict:
    return {
        "apiVersion": KUBEADM_API,
        "kind": "ClusterConfiguration",
        "clusterName": c.cluster_name,
        "kubernetesVersion": f"v{c.kubernetes_version}",
        "controlPlaneEndpoint": c.endpoint,
        "imageRepository": c.image_repository,
        "networking": {"podSubnet": c.pod_cidr, "serviceSubnet": c.service_cidr, "dnsDomain": "cluster.local"},
        # Audit log and Secrets encrypted at rest: the files are on every control plane before its init or join.
        "apiServer": {"certSANs": list(c.cert_sans),
                      "extraArgs": [{"name": k, "value": v} for k, v in sorted(api_security.api_server_args().items())],
                      "extraVolumes": api_security.api_server_volumes()},
        **_metrics_listeners(c),
    }


def _metrics_listeners(c: ClusterFacts) -> dict:
    """With monitoring, the controller-manager, the scheduler and etcd's plain-HTTP metrics listen on every address
    so that in-cluster Prometheus can scrape them (the AWS firewall admits the nodes only); without it they stay on
    the host's loopback, kubeadm's default, which nothing off the host reaches."""
    everywhere = "0.0.0.0" if c.monitoring else "127.0.0.1"
    etcd = {"extraArgs": _args(listen_metrics_urls=f"http://{everywhere}:{ETCD_METRICS_PORT}")} if c.monitoring else {}
    return {"controllerManager": {"extraArgs": _args(bind_address=everywhere,
                                                     node_cidr_mask_size=str(c.node_cidr_mask_size))},
            "scheduler": {"extraArgs": _args(bind_address=everywhere)},
            "etcd": {"local": etcd}}


# The kubelet's own hard-eviction thresholds for inodes (its defaults on Linux).
KUBELET_DEFAULT_INODE_EVICTION = {"nodefs.inodesFree": "5%", "imagefs.inodesFree": "5%"}


def kubelet_configuration(c: ClusterFacts) -> dict:
    return {
        "apiVersion": KUBELET_API,
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",  # must match containerd's SystemdCgroup = true
        "containerRuntimeEndpoint": CRI_SOCKET,
        "maxPods": c.max_pods,
        "rotateCertificates": True,
        "nodeStatusUpdateFrequency": "10s",
        # Set with the update frequency: left out, the kubelet's defaulting copies the update frequency into it
        # (pkg/kubelet/apis/config/v1beta1/defaults.go) and every kubelet writes its whole Node status every 10 s.
        # 5m is the kubelet's own default; a change of the status is still written at once.
        "nodeStatusReportFrequency": "5m0s",
        "evictionPressureTransitionPeriod": "3m0s",
        # The kubelet refuses cgroup v1 from 1.35 unless told otherwise (hostSystem.cgroupV1).
        **({"failCgroupV1": False} if c.host_system.cgroup_v1 else {}),
    }


def kube_proxy_configuration(c: ClusterFacts) -> dict:
    return {
        "apiVersion": KUBE_PROXY_API,
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clusterCIDR": c.pod_cidr,
        "metricsBindAddress": f"0.0.0.0:{KUBE_PROXY_METRICS_PORT}",
        # On hosts that are containers the conntrack table is the host's kernel's: kube-proxy leaves its size alone.
        **({"conntrack": {"maxPerCore": 0, "min": 0}} if c.host_system.containers else {}),
    }


def kubelet_patch(tier: str, node: NodeFacts, max_pods: int | None = None) -> dict:
    """This node's reservations (they depend on its size) and the cluster's maxPods, applied by kubeadm as a patch of
    the kubelet config. maxPods is in the patch as well as in the cluster's KubeletConfiguration (which kubeadm keeps
    as it was at init): a changed setting reaches every node through its patch (upgrade-kubelet.sh)."""
    r = sizing.kubelet_reservations(tier, node.capacity)
    pods = {} if max_pods is None else {"maxPods": max_pods}
    return {
        **pods,
        "systemReserved": {"cpu": f"{r.system_cpu_m}m", "memory": f"{r.system_memory_mib}Mi"},
        "kubeReserved": {"cpu": f"{r.kube_cpu_m}m", "memory": f"{r.kube_memory_mib}Mi"},
        # Setting any hard-eviction signal drops the kubelet's defaults for the others (to 0: never evicted), so its
        # inode signals are set here as it sets them by default.
        "evictionHard": {
            "memory.available": f"{r.eviction_memory_mib}Mi",
            "nodefs.available": f"{r.eviction_nodefs_gib}Gi",
            "imagefs.available": f"{r.eviction_imagefs_gib}Gi",
            **KUBELET_DEFAULT_INODE_EVICTION,
        },
        "evictionMinimumReclaim": {
            "memory.available": f"{r.reclaim_memory_mib}Mi",
            "nodefs.available": f"{r.reclaim_nodefs_mib}Mi",
            "imagefs.available": f"{r.reclaim_imagefs_mib}Mi",
        },
    }


def init_configuration(c: ClusterFacts, node: NodeFacts, token: str) -> dict:
    return {
        "apiVersion": KUBEADM_API,
        "kind": "InitConfiguration",
        "bootstrapTokens": [{
            "token": token,
            "ttl": INIT_TOKEN_TTL,
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:kubeadm:default-node-token"],
        }],
        "nodeRegistration": _node_registration(node, c),
        "localAPIEndpoint": {"advertiseAddress": node.address, "bindPort": 6443},
        "patches": {"directory": PATCHES_DIR},
    }


def join_configuration(c: ClusterFacts, node: NodeFacts, token: str, ca_cert_hash: str,
                       certificate_key: str | None) -> dict:
    document = {
        "apiVersion": KUBEADM_API,
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {"apiServerEndpoint": c.endpoint, "token": token,
                                         "caCertHashes": [ca_cert_hash]}},
        "nodeRegistration": _node_registration(node, c),
        "patches": {"directory": PATCHES_DIR},
    }
    if node.role == CONTROL_PLANE:
        document["controlPlane"] = {"localAPIEndpoint": {"advertiseAddress": node.address, "bindPort": 6443},
                                    "certificateKey": certificate_key}
    return document


def init_documents(c: ClusterFacts, node: NodeFacts, token: str) -> list[dict]:
    return [init_configuration(c, node, token), cluster_configuration(c), kubelet_configuration(c),
            kube_proxy_configuration(c)]


def api_server_documents(c: ClusterFacts, node: NodeFacts) -> list[dict]:
    """What `kubeadm init phase control-plane apiserver` and `upload-config kubeadm` read on a control plane of a
    running cluster (api-server-config.sh): its own address and name, and the cluster's configuration."""
    local = {"apiVersion": KUBEADM_API, "kind": "InitConfiguration", "nodeRegistration": _node_registration(node, c),
             "localAPIEndpoint": {"advertiseAddress": node.address, "bindPort": 6443}}
    return [local, cluster_configuration(c)]


def upload_certs_configuration(c: ClusterFacts) -> list[dict]:
    """What `kubeadm init phase upload-certs` reads, less `certificateKey`: join-credentials.sh appends the fresh key
    it makes for each control-plane join to the last document, the InitConfiguration (in a file, so the key stays
    off the host's process list). With the cluster's configuration: without a kubernetesVersion kubeadm looks the
    version up on the internet (stable-1.txt) for every phase it runs, and waits on it where there is none."""
    return [cluster_configuration(c), {"apiVersion": KUBEADM_API, "kind": "InitConfiguration"}]


def containerd_config(c: ClusterFacts) -> str:
    """containerd 2 (config version 3, where the CRI plugin is split into an images and a runtime plugin): systemd
    cgroups for runc, the pause image kubeadm of this minor expects, certs.d for mirrors and private CAs."""
    pause = f"{c.image_repository}/pause:{versions.PAUSE_IMAGE_TAGS[versions.kubernetes_minor(c.kubernetes_version)]}"
    runtime: dict = {"containerd": {"runtimes": {"runc": {
        "runtime_type": "io.containerd.runc.v2",
        "options": {"SystemdCgroup": True},
    }}}}
    if c.host_system.containers:
        # A container cannot lower a process's OOM score below its own: containerd asks no lower than that.
        runtime["restrict_oom_score_adj"] = True
    return toml_writer.dumps({
        "version": 3,
        "plugins": {
            "io.containerd.cri.v1.images": {
                "pinned_images": {"sandbox": pause},
                "registry": {"config_path": CONTAINERD_CERTS_DIR},
            },
            "io.containerd.cri.v1.runtime": runtime,
        },
    })


def to_yaml(documents: list[dict] | dict) -> str:
    docs = documents if isinstance(documents, list) else [documents]
    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in docs)
