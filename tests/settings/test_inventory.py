"""Bare-metal settings: every inventory and load-balancer rule, accepted and refused, with key path and message."""

import copy
import json

import pytest

from components.settings import PROJECT, SettingsError, load_settings
from components.settings.inventory import load_balancer_hosts
from tests.helpers import PRIVATE_KEY, raw_config

SECRETS = frozenset({PRIVATE_KEY})
HOSTS = f"{PROJECT}:inventory"
LB = f"{PROJECT}:loadBalancer"


def metal(**changes) -> dict[str, str]:
    """The example bare-metal stack's config with some keys replaced (None removes one)."""
    config = raw_config("metal")
    for key, value in changes.items():
        full = f"{PROJECT}:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return config


def inventory() -> dict:
    return copy.deepcopy(json.loads(raw_config("metal")[HOSTS]))


def with_hosts(mutate, **changes) -> dict[str, str]:
    value = inventory()
    mutate(value["hosts"])
    return metal(inventory=value, **changes)


def host(hosts, name):
    return next(h for h in hosts if h["name"] == name)


def load(config, stack="metal"):
    return load_settings(config, SECRETS, stack)


def problems(config, stack="metal") -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load(config, stack)
    return {p.path: p.message for p in caught.value.problems}


def test_example_stack_becomes_hosts_pools_and_a_load_balancer():
    s = load(metal())
    assert s.bare_metal and s.region is None and s.access is None
    assert [h.name for h in s.inventory] == ["lb-1", "lb-2", "cp-1", "cp-2", "cp-3", "worker-1", "worker-2",
                                             "worker-3"]
    assert (s.control_plane.count, [(p.name, p.count) for p in s.worker_pools]) == (3, [("workers", 3)])
    assert s.load_balancer.vip == "203.0.113.10" and s.load_balancer.port == 6443
    assert s.load_balancer.prefix_length == 24 and s.load_balancer.mode == "dedicated"
    assert [h.name for h in load_balancer_hosts(s.inventory, "dedicated")] == ["lb-1", "lb-2"]
    # The shared bastion reaches every host; the SSH address defaults to the cluster address.
    assert {h.bastion.address for h in s.inventory} == {"198.51.100.5"}
    assert s.inventory[0].bastion.host_key.startswith("ssh-ed25519 ")
    assert s.inventory[2].ssh.address == "203.0.113.21" and s.inventory[2].ssh.user == "ubuntu"


def test_infrastructure_must_be_known():
    assert "did you mean 'bareMetal'" in problems(metal(infrastructure="baremetal"))["infrastructure"]


def test_settings_of_the_other_infrastructure_are_refused_not_ignored():
    found = problems(metal(workerPools=[{"name": "general", "count": 3}], imageId="ami-0123456789abcdef0"))
    assert "applies only when infrastructure is aws" in found["workerPools"]
    assert "applies only when infrastructure is aws" in found["imageId"]
    aws = raw_config("prod")
    aws[HOSTS] = raw_config("metal")[HOSTS]
    assert "applies only when infrastructure is bareMetal" in problems(aws, "prod")["inventory"]


def test_aws_network_keys_are_unknown_on_bare_metal():
    network = json.loads(raw_config("metal")[f"{PROJECT}:network"])
    network["zones"] = ["eu-west-1a"]
    assert "unknown key" in problems(metal(network=network))["network.zones"]
    del network["zones"], network["hostCidr"]
    assert problems(metal(network=network))["network.hostCidr"] == "is required"


def test_duplicate_names_and_addresses_name_both_hosts():
    def duplicate(hosts):
        hosts[6]["name"] = "worker-1"
        hosts[7]["address"] = "203.0.113.21"
    found = problems(with_hosts(duplicate))
    assert found["inventory.hosts[6].name"] == "'worker-1' is also the name of inventory.hosts[5]"
    assert found["inventory.hosts[7].address"] == "203.0.113.21 is also the address of inventory.hosts[2]"


@pytest.mark.parametrize("roles, expected", [
    (["controller"], "must list one or more of control-plane, worker, load-balancer"),
    (["control-plane", "worker"], "a control plane or a worker, not both"),
    (["control-plane", "load-balancer"], "set loadBalancer.mode: colocated"),
    (["worker", "worker"], "must not repeat a role"),
    ([], "must list one or more of"),
])
def test_role_combinations(roles, expected):
    found = problems(with_hosts(lambda hosts: host(hosts, "cp-1").update(roles=roles)))
    assert expected in found["inventory.hosts[2].roles"]


def test_control_plane_count_is_odd_and_at_least_three_in_prod():
    even = problems(with_hosts(lambda hosts: host(hosts, "cp-3").update(roles=["worker"])))
    assert "odd number of control planes" in even["inventory.hosts"] and "has 2" in even["inventory.hosts"]

    def one_control_plane(hosts):
        for name in ("cp-2", "cp-3"):
            host(hosts, name).update(roles=["worker"], vcpu=16, memoryGiB=64, diskGiB=500)
    assert "prod needs at least 3 control planes" in problems(with_hosts(one_control_plane))["inventory.hosts"]
    assert load(with_hosts(one_control_plane, tier="dev")).control_plane.count == 1
    none = problems(with_hosts(lambda hosts: [h.update(roles=["worker"]) for h in hosts if h["name"].startswith("cp")]))
    assert "at least one host with the control-plane role" in none["inventory.hosts"]


def test_prod_needs_two_workers_and_two_load_balancers():
    one_lb = problems(with_hosts(lambda hosts: hosts.pop(1)))
    assert "tier prod needs at least 2 host(s) with the load-balancer role" in one_lb["inventory.hosts"]
    one_worker = problems(with_hosts(lambda hosts: hosts.__delitem__(slice(6, None))))
    assert "prod needs at least 2 workers" in one_worker["inventory.hosts"]
    assert load(with_hosts(lambda hosts: hosts.pop(1), tier="dev")).tier == "dev"


@pytest.mark.parametrize("name, key, value, minimum", [
    ("cp-1", "vcpu", 2, "minimum of 4 for control-plane hosts"),
    ("worker-2", "memoryGiB", 32, "minimum of 64 for worker hosts"),
    ("worker-3", "diskGiB", 100, "minimum of 500 for worker hosts"),
    ("lb-2", "memoryGiB", 1, "minimum of 2 for load-balancer hosts"),
])
def test_declared_capacity_below_the_tier_minimum(name, key, value, minimum):
    config = with_hosts(lambda hosts: host(hosts, name).update({key: value}))
    index = [h["name"] for h in inventory()["hosts"]].index(name)
    message = problems(config)[f"inventory.hosts[{index}].{key}"]
    assert f"declares {value}, below the tier prod {minimum}" in message


def test_the_vip_lies_in_the_host_subnet_and_is_no_host_address():
    outside = problems(metal(loadBalancer={"vip": "198.51.100.10", "interface": "eth0"}))
    assert "must be inside network.hostCidr 203.0.113.0/24" in outside["loadBalancer.vip"]
    taken = problems(metal(loadBalancer={"vip": "203.0.113.31", "interface": "eth0"}))
    assert "is the address of inventory.hosts[5] (worker-1)" in taken["loadBalancer.vip"]
    broadcast = problems(metal(loadBalancer={"vip": "203.0.113.255", "interface": "eth0"}))
    assert "network or broadcast address" in broadcast["loadBalancer.vip"]
    garbage = problems(metal(loadBalancer={"vip": "203.0.113", "interface": "eth0"}))
    assert "must be an IPv4 address" in garbage["loadBalancer.vip"]


def test_vip_holders_sit_in_the_host_subnet_and_name_an_interface():
    found = problems(with_hosts(lambda hosts: host(hosts, "lb-2").update(address="198.51.100.12"),
                                loadBalancer={"vip": "203.0.113.10"}))
    assert "must be inside network.hostCidr 203.0.113.0/24" in found["inventory.hosts[1].address"]
    assert "is required on hosts that hold the VIP" in found["inventory.hosts[0].vipInterface"]
    per_host = with_hosts(lambda hosts: [host(hosts, n).update(vipInterface="bond0.10") for n in ("lb-1", "lb-2")],
                          loadBalancer={"vip": "203.0.113.10"})
    assert [h.vip_interface for h in load(per_host).inventory[:2]] == ["bond0.10", "bond0.10"]


def test_colocated_mode_runs_on_the_control_planes_on_another_port():
    def colocate(hosts):
        del hosts[0:2]
    config = with_hosts(colocate, loadBalancer={"vip": "203.0.113.10", "mode": "colocated", "interface": "eth0"})
    s = load(config)
    assert s.load_balancer.port == 8443
    assert [h.name for h in load_balancer_hosts(s.inventory, "colocated")] == ["cp-1", "cp-2", "cp-3"]
    clash = with_hosts(colocate, loadBalancer={"vip": "203.0.113.10", "mode": "colocated", "port": 6443,
                                               "interface": "eth0"})
    assert "cannot use 6443, a control-plane port" in problems(clash)["loadBalancer.port"]
    keeps_lb = metal(loadBalancer={"vip": "203.0.113.10", "mode": "colocated", "interface": "eth0"})
    assert "no host has the load-balancer role" in problems(keeps_lb)["inventory.hosts[0].roles"]


def test_host_fields_are_checked():
    def break_fields(hosts):
        hosts[2].update(hostKey="AAAA not a key", sshPort="22", name="CP_1")
        hosts[5].update(pool="cp", taints=[{"key": "dedicated", "effect": "NoPlace"}])
        hosts[0].update(pool="edge", vipInterface="eth0 ")
    found = problems(with_hosts(break_fields))
    assert "as ssh-keyscan prints it" in found["inventory.hosts[2].hostKey"]
    assert "write the number without quotes" in found["inventory.hosts[2].sshPort"]
    assert "must be an RFC 1123 label" in found["inventory.hosts[2].name"]
    assert "other than cp, bastion and api" in found["inventory.hosts[5].pool"]
    assert "must be one of NoSchedule" in found["inventory.hosts[5].taints[0].effect"]
    assert "only workers belong to a pool" in found["inventory.hosts[0].pool"]
    assert "network interface name" in found["inventory.hosts[0].vipInterface"]


def test_host_addresses_stay_out_of_the_cluster_networks():
    found = problems(with_hosts(lambda hosts: hosts[5].update(address="10.96.0.20")))
    assert "lies inside network.serviceCidr 10.96.0.0/12" in found["inventory.hosts[5].address"]


def test_worker_pools_group_hosts_and_plan_with_the_smallest():
    def pools(hosts):
        host(hosts, "worker-1").update(pool="gpu", vcpu=32, memoryGiB=256)
        host(hosts, "worker-2").update(vcpu=24, memoryGiB=96)
    s = load(with_hosts(pools))
    by_name = {p.name: p for p in s.worker_pools}
    assert sorted(by_name) == ["gpu", "workers"]
    assert (by_name["workers"].count, by_name["workers"].capacity.vcpu, by_name["workers"].capacity.memory_gib) == (2, 16, 64)
    assert by_name["gpu"].capacity.memory_gib == 256
    assert {h.name: h.pool for h in s.inventory if h.pool} == {"worker-1": "gpu", "worker-2": "workers",
                                                                "worker-3": "workers"}


def test_capacity_planning_applies_to_the_inventory():
    config = metal(workloads=[{"name": "batch", "replicas": 40, "cpu": "4", "memory": "8Gi"}])
    assert "workers" in problems(config)["workloads"]


def test_ssh_public_key_is_optional_on_bare_metal_but_required_on_aws():
    assert load(metal()).ssh_public_key == ""
    aws = raw_config("prod")
    aws[f"{PROJECT}:sshPublicKey"] = ""
    assert "is required" in problems(aws, "prod")["sshPublicKey"]


def test_host_network_mtu_defaults_to_1500_and_is_bounded():
    assert load(metal()).network.mtu == 1500
    network = json.loads(raw_config("metal")[f"{PROJECT}:network"])
    network["mtu"] = 9000
    assert load(metal(network=network)).network.mtu == 9000
    network["mtu"] = 576
    assert "must be at least 1280" in problems(metal(network=network))["network.mtu"]
