"""Rules the cluster needs that no single value shows: networks clear of special-purpose ranges, a bastion that is up
before the cluster, names unique wherever entries are listed by name, and every independent problem in one run."""

import json

import pytest

from tests.helpers import raw_config
from tests.settings.test_inventory import HOSTS, LB, load, metal, problems, with_hosts

NS = "k8s-platform:"


def with_network(stack: str, **changes) -> dict[str, str]:
    config = raw_config(stack)
    network = json.loads(config[NS + "network"])
    network.update(changes)
    config[NS + "network"] = json.dumps(network)
    return config


@pytest.mark.parametrize("key, value, named", [
    ("podCidr", "127.0.0.0/16", "127.0.0.0/8 (loopback)"),
    ("serviceCidr", "169.254.0.0/16", "169.254.0.0/16 (link-local)"),
    ("podCidr", "224.0.0.0/12", "224.0.0.0/4 (multicast)"),
    ("serviceCidr", "240.0.0.0/12", "240.0.0.0/4 (reserved"),
    ("vpcCidr", "0.0.0.0/16", "0.0.0.0/8 ('this network'"),
])
def test_an_aws_cluster_network_in_a_special_purpose_range_is_refused_naming_the_range(key, value, named):
    found = problems(with_network("dev", **{key: value}), "dev")
    assert named in found[f"network.{key}"], found


def test_a_host_network_in_a_special_purpose_range_is_refused_naming_the_range():
    found = problems(with_network("metal", hostCidr="169.254.0.0/24"))
    assert "169.254.0.0/16 (link-local)" in found["network.hostCidr"], found


def test_documentation_shared_and_private_ranges_stay_usable_for_cluster_networks():
    config = with_network("dev", podCidr="100.64.0.0/16", serviceCidr="198.18.0.0/16", vpcCidr="10.10.0.0/16")
    assert load(config, "dev").network.pod_cidr == "100.64.0.0/16"


def bastion_at(address: str):
    def edit(config):
        inventory = json.loads(config[HOSTS])
        inventory["bastion"]["address"] = address
        config[HOSTS] = json.dumps(inventory)
    return edit


def test_a_shared_bastion_at_the_api_vip_is_refused_as_it_answers_only_once_the_cluster_runs():
    config = metal()
    bastion_at(json.loads(config[LB])["vip"])(config)
    found = problems(config)
    assert "keepalived is installed through the bastion" in found["inventory.bastion.address"], found


def test_a_hosts_own_bastion_at_the_api_vip_is_refused_at_that_host():
    vip = json.loads(metal()[LB])["vip"]

    def own_bastion(hosts):
        hosts[5]["bastion"] = {"address": vip}
    found = problems(with_hosts(own_bastion))
    assert "loadBalancer.vip" in found["inventory.hosts[5].bastion.address"], found


def test_a_workload_name_listed_twice_is_refused_at_the_second():
    workload = {"name": "batch", "replicas": 1, "cpu": "100m", "memory": "128Mi"}
    found = problems(metal(workloads=[workload, {**workload, "replicas": 2}]))
    assert found["workloads[1].name"] == "'batch' is also the name of workloads[0]: each workload once", found


def test_a_malformed_bastion_host_key_hides_no_check_of_the_rest_of_the_inventory():
    # Before: the bad key made the inventory "partial", and the VIP outside the hosts' network went unreported
    # until the key was fixed.
    config = metal(loadBalancer={**json.loads(metal()[LB]), "vip": "198.51.100.10"})
    inventory = json.loads(config[HOSTS])
    inventory["bastion"]["hostKey"] = "ssh-ed25519 not-base64!"
    config[HOSTS] = json.dumps(inventory)
    found = problems(config)
    assert "inventory.bastion.hostKey" in found and "inside network.hostCidr" in found["loadBalancer.vip"], found


def test_a_bad_zone_or_label_on_one_host_hides_no_count_or_vip_check():
    def edit(hosts):
        hosts[2]["zone"] = "Not_A_Zone"
        hosts[3]["labels"] = {"bad label!": "x"}
        del hosts[6]  # prod keeps 2 workers: remove two to break the count
        del hosts[5]
    config = with_hosts(edit, loadBalancer={**json.loads(metal()[LB]), "vip": "198.51.100.10"})
    found = problems(config)
    assert "inventory.hosts[2].zone" in found and any(path.startswith("inventory.hosts[3].labels") for path in found)
    assert "inside network.hostCidr" in found["loadBalancer.vip"], found
    assert "at least 2 workers" in found["inventory.hosts"], found


def test_a_host_name_may_start_with_a_digit_as_a_kubernetes_node_name_may():
    def rename(hosts):
        hosts[5]["name"] = "1worker"
    assert "1worker" in [h.name for h in load(with_hosts(rename)).inventory]


def test_a_host_name_that_is_no_label_is_refused_with_the_rule_and_why_it_is_stricter_than_kubernetes():
    def rename(hosts):
        hosts[5]["name"] = "worker.rack-a"
    message = problems(with_hosts(rename))["inventory.hosts[5].name"]
    assert "RFC 1123 label" in message and "no dots" in message and "at most 40" in message


@pytest.mark.parametrize("spelling", ["yes", "on", "Off", "n"])
def test_a_yaml_1_1_boolean_is_text_as_the_cli_reads_it_and_refused_with_what_to_write(spelling):
    config = raw_config("dev")
    config[NS + "addons"] = json.dumps({"calico": {"enabled": spelling}})
    message = problems(config, "dev")["addons.calico.enabled"]
    assert "YAML 1.2" in message and "write true or false" in message, message


def test_a_bad_pod_network_hides_no_check_of_the_vip_against_the_host_network():
    # Before: any problem in `network` left the host network unknown to the inventory's rules.
    config = with_network("metal", podCidr="127.0.0.0/16")
    config[LB] = json.dumps({**json.loads(config[LB]), "vip": "198.51.100.10"})
    found = problems(config)
    assert "loopback" in found["network.podCidr"] and "inside network.hostCidr" in found["loadBalancer.vip"], found
