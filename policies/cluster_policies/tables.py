"""The numbers the rules enforce, kept here on purpose: the pack is an independent check of the program, so it
carries its own copy of the operations brief's minimums and its own table of EC2 instance types, and imports
nothing from the program."""

from __future__ import annotations

TIERS = ("lab", "dev", "prod")
CONTROL_PLANE, WORKER, LOAD_BALANCER, BASTION = "control-plane", "worker", "load-balancer", "bastion"
NODE_ROLES = (CONTROL_PLANE, WORKER)

# (vCPU, memory GiB, disk GiB): a machine may be larger, never smaller. Hosts that only hold the API VIP on bare
# metal (haproxy + keepalived) need little, in every tier.
MINIMUMS = {
    ("lab", CONTROL_PLANE): (2, 2, 20), ("lab", WORKER): (2, 2, 20),
    ("dev", CONTROL_PLANE): (2, 4, 40), ("dev", WORKER): (4, 8, 40),
    ("prod", CONTROL_PLANE): (4, 8, 100), ("prod", WORKER): (8, 64, 500),
    ("lab", LOAD_BALANCER): (2, 2, 20), ("dev", LOAD_BALANCER): (2, 2, 20), ("prod", LOAD_BALANCER): (2, 2, 20),
}

# EC2 instance types: vCPU and memory in GiB, from the AWS instance-type pages. Types not listed can be added
# through the `machine-size` policy's `instanceTypes` config rather than passing unchecked.
_FAMILY_SHAPES = {
    # family: memory GiB per vCPU, sizes
    "c5": 2, "c6i": 2, "c6a": 2, "c7i": 2, "c7a": 2, "c6g": 2, "c7g": 2,
    "m5": 4, "m6i": 4, "m6a": 4, "m7i": 4, "m7a": 4, "m6g": 4, "m7g": 4,
    "r5": 8, "r6i": 8, "r6a": 8, "r7i": 8, "r7a": 8, "r6g": 8, "r7g": 8,
}
_SIZES = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64,
          "24xlarge": 96}
INSTANCE_TYPES: dict[str, tuple[int, int]] = {
    f"{family}.{size}": (vcpu, vcpu * per_vcpu)
    for family, per_vcpu in _FAMILY_SHAPES.items() for size, vcpu in _SIZES.items()
    # Graviton families stop at 16xlarge; c5 has 9xlarge/18xlarge instead of 8xlarge/16xlarge.
    if not (family.endswith("g") and size == "24xlarge") and not (family == "c5" and size in ("8xlarge", "16xlarge"))
}
INSTANCE_TYPES.update({
    "c5.9xlarge": (36, 72), "c5.18xlarge": (72, 144),
    "t3.nano": (2, 0.5), "t3.micro": (2, 1), "t3.small": (2, 2), "t3.medium": (2, 4), "t3.large": (2, 8),
    "t3.xlarge": (4, 16), "t3.2xlarge": (8, 32),
    "t3a.small": (2, 2), "t3a.medium": (2, 4), "t3a.large": (2, 8), "t3a.xlarge": (4, 16), "t3a.2xlarge": (8, 32),
    "t4g.small": (2, 2), "t4g.medium": (2, 4), "t4g.large": (2, 8), "t4g.xlarge": (4, 16), "t4g.2xlarge": (8, 32),
})

# EBS volume types backed by SSDs; standard (magnetic), st1 and sc1 (HDD) are not.
SSD_VOLUME_TYPES = ("gp2", "gp3", "io1", "io2")

# Upstream Kubernetes tested limits.
MAX_NODES = 5000
MAX_PODS_PER_NODE = 110
# The operations brief prefers about 10 to 20 large workers to many small ones.
MANY_WORKERS = 20
LARGE_WORKER_VCPU = 16
