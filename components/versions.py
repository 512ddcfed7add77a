"""Every version the platform pins, in one place.

Kubernetes minors listed here are the ones the settings accept; a patch release of one of them is accepted as
given (the package repository of that minor carries it). Bump DEFAULT_KUBERNETES_VERSION and the minors together.
"""

# Kubernetes minors we support, at their newest patches (as the Go module proxy served k8s.io/kubernetes on
# 2026-12-02: v1.35.8, v1.36.5, v1.37.2). The default is the newest; bump it and the minors together.
SUPPORTED_KUBERNETES_MINORS = (35, 36, 37)
DEFAULT_KUBERNETES_VERSION = "1.37.2"
PINNED_KUBERNETES_PATCHES = {35: "1.35.8", 36: "1.36.5", 37: "1.37.2"}

# kubeadm#3294: from v1.34.2, `kubeadm init` made its API calls through controlPlaneEndpoint, and failed in
# upload-config when the load balancer did not yet pass its health checks (an NLB's take 30 s). Fixed by
# kubernetes#138449 (init talks only to its own API server): read in the kubeadm source of each release, the fix
# is first in these patches, and the settings refuse an older patch of the minor.
KUBEADM_INIT_THROUGH_LOAD_BALANCER_FIXED = {35: "1.35.5", 36: "1.36.1", 37: "1.37.0"}

# The official package repository of each minor (pkgs.k8s.io) and the package revision it publishes. The kubeadm
# package depends on the CNI plugins (kubernetes-cni) and crictl (cri-tools) of that repository.
KUBERNETES_APT_REPOSITORY_BASE = "https://pkgs.k8s.io/core:/stable:/"
KUBERNETES_APT_REPOSITORY_LAYOUT = "{base}v1.{minor}/deb/"  # a mirror (mirrors.kubernetesPackages) is laid out alike
KUBERNETES_PACKAGE_REVISION = "1.1"
DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io"

# The pause (sandbox) image kubeadm of each minor expects (PauseVersion in its constants); containerd must use it.
PAUSE_IMAGE_TAGS = {35: "3.10.1", 36: "3.10.2", 37: "3.10.2"}
# The other images kubeadm of each pinned patch runs (DefaultEtcdVersion and CoreDNSVersion in
# cmd/kubeadm/app/constants/constants.go, read at each pin): what an air-gapped mirror must hold.
KUBEADM_ETCD_IMAGE_TAGS = {35: "3.6.6-0", 36: "3.6.8-0", 37: "3.7.0-0"}
KUBEADM_COREDNS_IMAGE_TAGS = {35: "v1.13.1", 36: "v1.14.2", 37: "v1.14.6"}

# cri-tools of each minor's package repository (crictl, which our scripts use to find and restart static pods).
# kubeadm's package no longer depends on it (kubernetes#124685; release#3626, shipped from release#4387), so the
# install step asks for it by name.
CRI_TOOLS_VERSIONS = {34: "1.34.0", 35: "1.35.0", 36: "1.36.0", 37: "1.37.0"}

# containerd 2.3, the LTS line (supported until April 2028; upstream tests a direct move from 1.7 LTS to 2.3 LTS),
# as Docker's containerd.io package: a signed apt repository (its key checked against the fingerprint below) that
# publishes every containerd patch for each Ubuntu release, with runc bundled. Ubuntu's own archive carries 1.7
# and, in noble-updates, 2.2 (end of life November 2026). The CNI plugins come with kubeadm (above).
CONTAINERD_PACKAGE = "containerd.io"
CONTAINERD_VERSION = "2.3.7"
# Docker's repository, one below it per distribution (ubuntu/, debian/); a mirror (mirrors.containerdPackages) alike.
CONTAINERD_APT_REPOSITORY = "https://download.docker.com/linux/"
CONTAINERD_APT_KEY_FINGERPRINT = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
# Nodes that joined on Ubuntu's containerd 1.7 (the runtime before this release) keep it until the upgrade to this
# minor moves them to containerd 2 on the drained node, before its kubelet. containerd 1.7's support ended in
# September 2026 and its recommended Kubernetes range ends at 1.35; the kubelet refuses it from 1.38.
CONTAINERD_2_FROM_MINOR = 36
LEGACY_CONTAINERD_PACKAGE = "containerd"

# Operating systems the hosts may run (checked by the preflight): the Ubuntu LTS and Debian releases Docker's
# repository serves containerd.io for.
SUPPORTED_OS = (("ubuntu", "22.04"), ("ubuntu", "24.04"), ("debian", "12"), ("debian", "13"))

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


def kubeadm_images(release: str) -> dict[str, str]:
    """The tags of the images kubeadm of `release` runs besides the control plane's own (which carry `v<release>`)."""
    minor = kubernetes_minor(release)
    return {"etcd": KUBEADM_ETCD_IMAGE_TAGS[minor], "coredns": KUBEADM_COREDNS_IMAGE_TAGS[minor],
            "pause": PAUSE_IMAGE_TAGS[minor]}


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
    # kubernetes-sigs' own chart (3.13.1, June 2026: the newest release in its repository's index).
    "metrics-server": Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.1"),
}

# Images a chart would otherwise pick by itself, pinned here so that a chart bump shows the image it moves to.
# metrics-server 0.8.1 is the appVersion of chart 3.13.1; bump the two together.
METRICS_SERVER_IMAGE_REPOSITORY = "registry.k8s.io/metrics-server/metrics-server"
METRICS_SERVER_IMAGE_TAG = "v0.8.1"

# Images the program deploys itself (not through a chart).
LOCAL_PATH_PROVISIONER_IMAGE = "docker.io/rancher/local-path-provisioner:v0.0.37"
HELPER_IMAGE = "docker.io/library/busybox:1.38.0"
AWS_CLI_IMAGE = "docker.io/amazon/aws-cli:2.31.18"
CURL_IMAGE = "docker.io/curlimages/curl:8.17.0"


# --- what the real-node tests build (tests/realnodes, scripts/realnodes-tools) -----------------------------------
# Test tooling, not what the nodes of a real cluster run: the packages and images of a lab mirror, built from Go
# modules because no package repository or image registry but Debian's is reachable where the tests run.
# The releases the real nodes run: the default, and the previous minor's pin (the upgrade drill).
REAL_NODE_KUBERNETES_RELEASES = (PINNED_KUBERNETES_PATCHES[36], PINNED_KUBERNETES_PATCHES[37])
# kubernetes-cni of each minor's repository and the CNI plugins it carries (1.37's is 1.36's: no newer one was
# published with it as far as could be read).
KUBERNETES_CNI_VERSIONS = {35: "1.8.0", 36: "1.9.1", 37: "1.9.1"}
# runc as containerd.io bundles it: containerd 2.3.7's script/setup/runc-version.
RUNC_VERSION = "1.5.2"
# The machines' operating system (debootstrap): Debian 12, whose systemd 252 still runs on a cgroup v1 host.
REAL_NODE_DEBIAN_SUITE = "bookworm"
