"""Every settings rule, accepted and refused, with the key path and the accepted values in the message."""

import json

import pytest

from components import versions
from components.settings import PROJECT, SettingsError, load_settings
from tests.helpers import PRIVATE_KEY, raw_config

SECRETS = frozenset({PRIVATE_KEY})


def load(config, secrets=SECRETS, stack="prod"):
    return load_settings(config, secrets, stack)


def with_object(stack: str, key: str, mutate) -> dict[str, str]:
    config = raw_config(stack)
    value = json.loads(config[f"{PROJECT}:{key}"]) if f"{PROJECT}:{key}" in config else {}
    result = mutate(value)
    config[f"{PROJECT}:{key}"] = json.dumps(value if result is None else result)
    return config


def problems(config, secrets=SECRETS, stack="prod") -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load(config, secrets, stack)
    return {p.path: p.message for p in caught.value.problems}


def test_shipped_stacks_are_valid():
    dev = load(raw_config("dev"), stack="dev")
    prod = load(raw_config("prod"))
    assert (dev.tier, dev.control_plane.count, sum(p.count for p in dev.worker_pools)) == ("dev", 1, 2)
    assert (prod.tier, prod.control_plane.count) == ("prod", 3)
    assert sum(p.count for p in prod.worker_pools) >= 3
    assert len(prod.network.zones) == 3


def test_tier_must_be_known():
    config = raw_config("prod")
    config[f"{PROJECT}:tier"] = "production"
    assert "must be one of lab, dev, prod" in problems(config)["tier"]


def test_unknown_top_level_key_gets_a_hint():
    config = raw_config("prod")
    config[f"{PROJECT}:kubernetesVerison"] = "1.35.4"
    assert "did you mean 'kubernetesVersion'" in problems(config)["kubernetesVerison"]


def test_unknown_nested_key_gets_a_hint():
    config = with_object("prod", "workerPools", lambda pools: pools[0].update(cout=4))
    assert "did you mean 'count'" in problems(config)["workerPools[0].cout"]


def test_keys_of_other_namespaces_are_not_ours_to_refuse():
    config = raw_config("prod")
    config["aws:profile"] = "platform"
    assert load(config).region == "eu-west-1"


@pytest.mark.parametrize("value, hint", [("3", "without quotes"), (True, "whole number")])
def test_numbers_given_as_strings_or_booleans_are_refused(value, hint):
    config = with_object("prod", "controlPlane", lambda cp: cp.update(count=value))
    assert hint in problems(config)["controlPlane.count"]


def test_wrong_types_are_refused():
    config = with_object("prod", "network", lambda n: n.update(zones="eu-west-1a"))
    assert "must be a list of strings" in problems(config)["network.zones"]
    config = with_object("prod", "access", lambda a: None)
    config[f"{PROJECT}:access"] = json.dumps(["198.51.100.0/24"])
    assert "must be a mapping" in problems(config)["access"]


def test_pool_below_tier_minimum_names_pool_and_minimum():
    config = with_object("prod", "workerPools", lambda pools: pools[0].update(memoryGiB=32))
    message = problems(config)["workerPools[0].memoryGiB"]
    assert "below the tier prod minimum of 64" in message and "worker" in message


@pytest.mark.parametrize("tier, role, key, value, minimum", [
    ("lab", "controlPlane", "memoryGiB", 1, 2),
    ("dev", "controlPlane", "diskGiB", 30, 40),
    ("prod", "controlPlane", "vcpu", 2, 4),
])
def test_every_tier_minimum_applies(tier, role, key, value, minimum):
    config = with_object("dev" if tier != "prod" else "prod", role, lambda cp: cp.update({key: value}))
    config[f"{PROJECT}:tier"] = tier
    assert f"minimum of {minimum}" in problems(config, stack=tier)[f"{role}.{key}"]


def test_dev_worker_minimum_is_4_vcpu():
    config = with_object("dev", "workerPools", lambda pools: pools[0].update(vcpu=2))
    assert "minimum of 4" in problems(config, stack="dev")["workerPools[0].vcpu"]


def test_larger_than_minimum_is_accepted_and_sized_up():
    config = with_object("prod", "workerPools", lambda pools: pools[0].update(vcpu=16, memoryGiB=128))
    pool = load(config).worker_pools[0]
    assert pool.instance_type == "r7i.4xlarge" and pool.capacity.vcpu == 16 and pool.capacity.memory_gib == 128


@pytest.mark.parametrize("count", [2, 4])
def test_even_control_plane_counts_are_refused(count):
    config = with_object("dev", "controlPlane", lambda cp: cp.update(count=count))
    assert "odd" in problems(config, stack="dev")["controlPlane.count"]


def test_single_control_plane_allowed_in_lab_and_dev_but_not_prod():
    assert load(raw_config("dev"), stack="dev").control_plane.count == 1
    lab = raw_config("dev")
    lab[f"{PROJECT}:tier"] = "lab"
    assert load(lab, stack="lab").control_plane.count == 1
    config = with_object("prod", "controlPlane", lambda cp: cp.update(count=1))
    assert "at least 3" in problems(config)["controlPlane.count"]


@pytest.mark.parametrize("version, fragment", [
    ("1.35", "exact version"),
    ("v1.35.4", "exact version"),
    ("1.29.3", "not supported"),
])
def test_kubernetes_version_must_be_exact_and_supported(version, fragment):
    config = raw_config("prod")
    config[f"{PROJECT}:kubernetesVersion"] = version
    message = problems(config)["kubernetesVersion"]
    assert fragment in message and "1.35.x" in message


@pytest.mark.parametrize("version, accepted", [("1.35.4", False), ("1.35.5", True), ("1.36.0", False),
                                               ("1.36.1", True), ("1.37.0", True), ("1.37.2", True)])
def test_a_patch_with_kubeadm_3294_is_refused_naming_the_first_fixed_patch(version, accepted):
    config = raw_config("prod")
    config[f"{PROJECT}:kubernetesVersion"] = version
    found = problems(config) if not accepted else {}
    if accepted:
        assert load(config, stack="prod").kubernetes_version == version
    else:
        minor = int(version.split(".")[1])
        assert found["kubernetesVersion"] == (
            f"{version} has kubeadm#3294 (kubeadm init fails while the API load balancer is not yet healthy); "
            f"accepted: 1.{minor}.x from {versions.KUBEADM_INIT_THROUGH_LOAD_BALANCER_FIXED[minor]} "
            f"(pinned: {versions.PINNED_KUBERNETES_PATCHES[minor]})")


def test_the_pinned_patches_are_the_supported_minors_with_the_fix_and_the_default_is_the_newest():
    assert sorted(versions.PINNED_KUBERNETES_PATCHES) == list(versions.SUPPORTED_KUBERNETES_MINORS)
    assert set(versions.KUBEADM_INIT_THROUGH_LOAD_BALANCER_FIXED) == set(versions.SUPPORTED_KUBERNETES_MINORS)
    assert set(versions.PAUSE_IMAGE_TAGS) == set(versions.SUPPORTED_KUBERNETES_MINORS)
    for minor, pinned in versions.PINNED_KUBERNETES_PATCHES.items():
        fixed = versions.KUBEADM_INIT_THROUGH_LOAD_BALANCER_FIXED[minor]
        assert versions.kubernetes_minor(pinned) == versions.kubernetes_minor(fixed) == minor
        assert int(pinned.split(".")[2]) >= int(fixed.split(".")[2]), f"{pinned} lacks the kubeadm#3294 fix"
    newest = versions.PINNED_KUBERNETES_PATCHES[max(versions.SUPPORTED_KUBERNETES_MINORS)]
    assert versions.DEFAULT_KUBERNETES_VERSION == newest


def test_invalid_and_overlapping_cidrs_are_refused():
    config = with_object("prod", "network", lambda n: n.update(podCidr="10.20.0.0/16", serviceCidr="10.96.0.1/12"))
    found = problems(config)
    assert "overlaps network.vpcCidr" in found["network.podCidr"]
    assert "no host bits" in found["network.serviceCidr"]


def test_pod_cidr_must_hold_the_largest_allowed_node_count():
    config = with_object("prod", "network", lambda n: n.update(podCidr="10.244.0.0/20"))
    message = problems(config)["network.podCidr"]
    assert "fits 16 nodes" in message and "allow 33" in message


def test_pod_block_must_hold_max_pods():
    config = with_object("prod", "network", lambda n: n.update(nodeCidrMaskSize=26))
    assert "fewer than maxPodsPerNode (110)" in problems(config)["network.nodeCidrMaskSize"]


def test_scale_limits():
    config = raw_config("prod")
    config[f"{PROJECT}:maxPodsPerNode"] = "111"
    assert "from 10 to 110" in problems(config)["maxPodsPerNode"]
    config = with_object("prod", "workerPools", lambda pools: pools[0].update(maxCount=5000))
    config = {**config, f"{PROJECT}:network": json.dumps({**json.loads(config[f"{PROJECT}:network"]),
                                                            "podCidr": "10.128.0.0/9", "vpcCidr": "10.20.0.0/16"})}
    assert "tested up to 5000" in problems(config)["workerPools"]


def test_capacity_shortfall_shows_demand_capacity_and_workers_to_add():
    config = with_object("prod", "workloads", lambda w: [{"name": "batch", "replicas": 40, "cpu": "2",
                                                          "memory": "8Gi"}])
    message = problems(config)["workloads"]
    # 40 x 2 vCPU x 1.2 = 96 vCPU; 3 r7i.2xlarge workers allocate 3 x 7.4 vCPU = 22.2 vCPU. The missing
    # 73.8 vCPU need ceil(73.8 / 7.4) = 10 more workers (memory alone would need 4).
    assert "96.0 vCPU" in message and "22.2 vCPU" in message and "384.0 GiB" in message
    assert "add 10 more worker(s) in pool 'general'" in message


def test_capacity_that_fits_is_accepted():
    settings = load(raw_config("prod"))
    assert len(settings.workloads) == 2


def test_workload_quantities_are_checked():
    config = with_object("prod", "workloads", lambda w: [{"name": "x", "replicas": 1, "cpu": "2 cores",
                                                          "memory": "1GB"}])
    found = problems(config)
    assert "not a CPU quantity" in found["workloads[0].cpu"]
    assert "not a memory quantity" in found["workloads[0].memory"]


def test_private_key_must_be_a_secret_and_present():
    assert "must be a secret" in problems(raw_config("prod"), secrets=frozenset())["sshPrivateKey"]
    config = raw_config("prod")
    del config[PRIVATE_KEY]
    assert "is required" in problems(config)["sshPrivateKey"]


def test_prod_refuses_access_from_anywhere_and_public_ssh():
    config = with_object("prod", "access", lambda a: a.update(sshAllowedCidrs=["0.0.0.0/0"], sshVia="public",
                                                              apiAllowedCidrs=["198.51.100.0/24", "0.0.0.0/0"]))
    found = problems(config)
    assert "refused in prod" in found["access.sshAllowedCidrs[0]"]
    assert "refused in prod" in found["access.apiAllowedCidrs[1]"]
    assert "must be bastion" in found["access.sshVia"]


def test_dev_may_open_ssh_to_anywhere():
    config = with_object("dev", "access", lambda a: a.update(sshAllowedCidrs=["0.0.0.0/0"]))
    assert load(config, stack="dev").access.ssh_allowed_cidrs == ("0.0.0.0/0",)


def test_prod_needs_three_zones_in_the_region():
    config = with_object("prod", "network", lambda n: n.update(zones=["eu-west-1a", "eu-west-1b", "us-east-1a"]))
    assert "not in region 'eu-west-1'" in problems(config)["network.zones[2]"]
    config = with_object("prod", "network", lambda n: n.update(zones=["eu-west-1a", "eu-west-1b"]))
    assert "at least 3" in problems(config)["network.zones"]


def test_instance_type_override_must_meet_minimum_and_be_known():
    config = with_object("prod", "controlPlane", lambda cp: cp.update(instanceType="c7i.large"))
    assert "need at least 4 vCPU and 8 GiB" in problems(config)["controlPlane.instanceType"]
    config = with_object("prod", "controlPlane", lambda cp: cp.update(instanceType="m5.huge"))
    assert "unknown instance type" in problems(config)["controlPlane.instanceType"]
    config = with_object("prod", "controlPlane", lambda cp: cp.update(instanceType="m7i.2xlarge"))
    assert load(config).control_plane.instance_type == "m7i.2xlarge"


def test_pool_names_labels_and_taints_are_checked():
    def mutate(pools):
        pools.append({"name": "general", "count": 1, "taints": [{"key": "dedicated", "effect": "NoSchedul"}]})
        pools.append({"name": "cp", "count": 1, "labels": {"tier": "a b"}})
    found = problems(with_object("prod", "workerPools", mutate))
    assert "used twice" in found["workerPools[1].name"]
    assert "must be one of NoSchedule" in found["workerPools[1].taints[0].effect"]
    assert "reserved" in found["workerPools[2].name"]
    assert "not a valid node label" in found["workerPools[2].labels.tier"]


def test_reserved_tags_are_refused():
    config = raw_config("prod")
    config[f"{PROJECT}:tags"] = json.dumps({"tier": "gold", "cost-center": "42"})
    assert "set by the program" in problems(config)["tags.tier"]


def test_one_error_lists_every_problem():
    config = raw_config("prod")
    config[f"{PROJECT}:tier"] = "staging"
    config[f"{PROJECT}:clusterName"] = "Prod_Cluster"
    config[f"{PROJECT}:kubernetesVersion"] = "latest"
    with pytest.raises(SettingsError) as caught:
        load(config)
    text = str(caught.value)
    for path in ("tier", "clusterName", "kubernetesVersion"):
        assert f"  - {path}:" in text
    assert len(caught.value.problems) >= 3


def test_settings_never_hold_the_private_key():
    settings = load(raw_config("prod"))
    assert "PRIVATE KEY" not in repr(settings)
