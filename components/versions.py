"""Every version the platform pins, in one place.

Kubernetes minors listed here are the ones the settings accept; a patch release of one of them is accepted as
given (the package repository of that minor carries it). Bump DEFAULT_KUBERNETES_VERSION and the minors together.
"""

# Kubernetes minors we test and support: the current upstream release and its neighbours.
SUPPORTED_KUBERNETES_MINORS = (34, 35, 36)
DEFAULT_KUBERNETES_VERSION = "1.35.4"

# Ubuntu LTS images published by Canonical. The owner id is Canonical's AWS account; the name filter pins the
# release (24.04 "noble"), the architecture and the gp3 SSD image family.
UBUNTU_AMI_OWNER = "099720109477"
UBUNTU_AMI_NAME_FILTER = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
UBUNTU_AMI_ARCHITECTURE = "x86_64"
