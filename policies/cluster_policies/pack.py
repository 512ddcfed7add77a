"""The policies of the pack, and the enforcement level of each per tier.

A policy's level is fixed for one `pulumi preview`, so the level per tier reaches the CLI as policy config:
config/<tier>.json (written from LEVELS by `python -m cluster_policies.write_config`), passed with
`--policy-pack-config`. Without config every policy runs at its prod level, the strictest. The offline plan
(tools/plan.py) picks the stack's tier itself.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy

from cluster_policies import ha, node_system, scale, security, sizing

PACK_NAME = "k8s-platform"
M, A = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY

# policy name -> (lab, dev, prod). Prod is mandatory throughout except the advisory sizing hint. Lab and dev are
# for trying things: sizes and tags stay checked in dev, public access and addresses are only flagged there.
LEVELS: dict[str, tuple[EnforcementLevel, EnforcementLevel, EnforcementLevel]] = {
    "machine-size": (A, M, M),
    "bare-metal-capacity": (A, M, M),
    "control-plane-ha": (M, M, M),
    "worker-ha": (M, M, M),
    "api-load-balancer-ha": (M, M, M),
    "imdsv2-required": (M, M, M),
    "volumes-encrypted": (M, M, M),
    "no-public-admin-ingress": (A, A, M),
    "security-group-rule-descriptions": (A, M, M),
    "no-public-machines": (A, A, M),
    "required-tags": (A, A, M),
    "cluster-scale": (M, M, M),
    "fewer-larger-workers": (A, A, A),
    "production-hosts": (A, A, M),
    "pod-network": (A, A, A),
}
TIER_INDEX = {"lab": 0, "dev": 1, "prod": 2}

_INSTANCE_TYPES_SCHEMA = PolicyConfigSchema(properties={
    "instanceTypes": {"type": "object", "description": "Extra EC2 types: {name: {vcpu, memoryGiB}}",
                      "additionalProperties": {"type": "object", "required": ["vcpu", "memoryGiB"],
                                               "properties": {"vcpu": {"type": "integer"},
                                                              "memoryGiB": {"type": "number"}}}}})


def levels_for(tier: str) -> dict[str, EnforcementLevel]:
    return {name: levels[TIER_INDEX[tier]] for name, levels in LEVELS.items()}


def policies() -> list[Policy]:
    def resource(name, description, validate, schema=None):
        return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                        enforcement_level=LEVELS[name][2], config_schema=schema)

    def stack(name, description, validate, schema=None):
        return StackValidationPolicy(name=name, description=description, validate=validate,
                                     enforcement_level=LEVELS[name][2], config_schema=schema)

    return [
        resource("machine-size", "Every EC2 node's instance type and root volume meet its role's and tier's minimum "
                 "(lab 2 vCPU/2 GiB/20 GiB; dev control plane 2/4/40, worker 4/8/40; prod control plane 4/8/100, "
                 "worker 8/64/500); control-plane volumes are SSD-class.", sizing.validate_machine_size,
                 _INSTANCE_TYPES_SCHEMA),
        stack("bare-metal-capacity", "Every bare-metal host's declared capacity meets its role's and tier's minimum.",
              sizing.validate_bare_metal_capacity),
        stack("control-plane-ha", "An odd number of control planes (etcd quorum); in prod at least 3, over at least "
              "3 availability zones on AWS.", ha.validate_control_plane_ha),
        stack("worker-ha", "At least 2 workers in prod.", ha.validate_worker_ha),
        stack("api-load-balancer-ha", "The API load balancer targets every control plane; in prod it spans at least 2 "
              "zones (AWS) or has at least 2 VIP holders (bare metal).", ha.validate_api_load_balancer),
        resource("imdsv2-required", "Instance metadata requires session tokens (IMDSv2).", security.validate_imdsv2),
        resource("volumes-encrypted", "Every EBS volume (root, attached, launch template, EBS CSI StorageClass) is "
                 "encrypted.", security.validate_volumes_encrypted),
        resource("no-public-admin-ingress", "No ingress from 0.0.0.0/0 or ::/0 to SSH or the Kubernetes API.",
                 security.validate_no_public_admin_ingress,
                 PolicyConfigSchema(properties={"adminPorts": {"type": "array", "items": {"type": "integer"}}})),
        resource("security-group-rule-descriptions", "Every security-group rule says what it is for.",
                 security.validate_rule_descriptions),
        resource("no-public-machines", "No machine has a public IP address except the bastion.",
                 security.validate_no_public_machines),
        resource("required-tags", "Machines, volumes, security groups, load balancers, subnets and Node components "
                 "carry tier, role and pool.", security.validate_required_tags),
        stack("cluster-scale", "At most 5,000 nodes and at most 110 pods per node (upstream tested limits).",
              scale.validate_scale,
              PolicyConfigSchema(properties={"maxNodes": {"type": "integer"}, "maxPodsPerNode": {"type": "integer"}})),
        stack("fewer-larger-workers", "Advice: more than 20 workers, mostly under 16 vCPU, would serve better as "
              "10 to 20 larger ones.", scale.validate_fewer_larger_workers,
              PolicyConfigSchema(properties={"manyWorkers": {"type": "integer"},
                                             "largeWorkerVcpu": {"type": "integer"}})),
        stack("production-hosts", "In prod, no node is set up for hosts that are containers, run cgroup v1 or let "
              "kubeadm preflight errors pass (hostSystem).", node_system.validate_production_hosts),
        stack("pod-network", "Advice in prod: without the platform's Calico, nodes wait for your CNI and "
              "NetworkPolicies hold only if it enforces them.", node_system.validate_pod_network),
    ]
