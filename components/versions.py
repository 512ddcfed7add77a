"""Every version the platform pins, in one place.

Kubernetes minors listed here are the ones the settings accept; a patch release of one of them is accepted as
given (the package repository of that minor carries it). Bump DEFAULT_KUBERNETES_VERSION and the minors together.
"""

# Kubernetes minors we support. The nodes run Ubuntu 24.04's containerd 1.7 (below), and Kubernetes 1.35 is the
# last minor that supports containerd 1.x, so 1.36 waits until the runtime phase installs containerd 2.
SUPPORTED_KUBERNETES_MINORS = (34, 35)
DEFAULT_KUBERNETES_VERSION = "1.35.4"

# The official package repository of each minor (pkgs.k8s.io) and the package revision it publishes.
KUBERNETES_APT_REPOSITORY = "https://pkgs.k8s.io/core:/stable:/v1.{minor}/deb/"
KUBERNETES_PACKAGE_REVISION = "1.1"
DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io"

# The pause (sandbox) image kubeadm of each minor expects; containerd must use the same one.
PAUSE_IMAGE_TAGS = {34: "3.10.1", 35: "3.10.1"}

# containerd from the Ubuntu archive; the runtime phase refuses any other major.minor.
CONTAINERD_PACKAGE = "containerd"
CONTAINERD_VERSION_PREFIX = "1.7."

# Operating systems the hosts may run (checked by the preflight): the releases whose archive carries containerd 1.7.
SUPPORTED_OS = (("ubuntu", "22.04"), ("ubuntu", "24.04"))

# The bare-metal API load balancer, from the same archive; the install refuses any other major.minor.
HAPROXY_PACKAGE = "haproxy"
HAPROXY_VERSION_PREFIX = "2."
KEEPALIVED_PACKAGE = "keepalived"
KEEPALIVED_VERSION_PREFIX = "1:2.2."

# Ubuntu LTS images published by Canonical. The owner id is Canonical's AWS account; the name filter pins the
# release (24.04 "noble"), the architecture and the gp3 SSD image family.
UBUNTU_AMI_OWNER = "099720109477"
UBUNTU_AMI_NAME_FILTER = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
UBUNTU_AMI_ARCHITECTURE = "x86_64"


def kubernetes_minor(version: str) -> int:
    return int(version.split(".")[1])


def _triple(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def version_change_refusal(current: str, target: str) -> str | None:
    """Why a cluster at `current` may not move to `target` (kubeadm upgrades one minor at a time and never
    downgrades), or None. The reason names the setting and the versions that are allowed next."""
    now, then = _triple(current), _triple(target)
    if then == now:
        return None
    allowed = f"the allowed next versions are a later 1.{now[1]} patch or 1.{now[1] + 1}.x"
    if then < now:
        return (f"kubernetesVersion {target} is older than the cluster's {current}: kubeadm does not downgrade "
                f"(restore an etcd snapshot to go back); {allowed}")
    if then[1] > now[1] + 1:
        skipped = ", ".join(f"1.{minor}" for minor in range(now[1] + 1, then[1]))
        return (f"kubernetesVersion {target} skips {skipped}: upgrade one minor at a time; from {current} "
                f"{allowed}")
    return None


# --- cluster add-ons -----------------------------------------------------------------------------------------

class Chart:
    """A Helm chart pinned to one version, from its publisher's repository."""

    def __init__(self, name: str, repository: str, version: str):
        self.name, self.repository, self.version = name, repository, version

    def __repr__(self) -> str:
        return f"{self.name} {self.version}"


CHARTS = {
    # Calico 3.32 ships its CRDs in a chart of their own, installed before the operator.
    "calico-crds": Chart("crd.projectcalico.org.v1", "https://docs.tigera.io/calico/charts", "v3.32.1"),
    "tigera-operator": Chart("tigera-operator", "https://docs.tigera.io/calico/charts", "v3.32.1"),
    "aws-ebs-csi-driver": Chart("aws-ebs-csi-driver", "https://kubernetes-sigs.github.io/aws-ebs-csi-driver",
                                "2.64.0"),
    "traefik": Chart("traefik", "https://traefik.github.io/charts", "41.3.0"),
    "harbor": Chart("harbor", "https://helm.goharbor.io", "1.19.1"),
    "kube-prometheus-stack": Chart("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts",
                                   "88.5.3"),
    # The open-source Loki chart moved to the grafana-community repository (monolithic by default).
    "loki": Chart("loki", "https://grafana-community.github.io/helm-charts", "18.11.0"),
    "fluent-bit": Chart("fluent-bit", "https://fluent.github.io/helm-charts", "0.58.1"),
}

# Images the program deploys itself (not through a chart).
LOCAL_PATH_PROVISIONER_IMAGE = "docker.io/rancher/local-path-provisioner:v0.0.37"
HELPER_IMAGE = "docker.io/library/busybox:1.38.0"
AWS_CLI_IMAGE = "docker.io/amazon/aws-cli:2.31.18"
CURL_IMAGE = "docker.io/curlimages/curl:8.17.0"
