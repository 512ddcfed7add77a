"""Each class of malformed stack file the mutation fuzzer found is refused with its key path, never a traceback, or
accepted where the test says why it is valid. Stack files go through YAML on disk, the offline reader and the
settings, the path a stack file takes to the program."""

from __future__ import annotations

import json

import pytest
import yaml

from components.settings import PROJECT, SettingsError, load_settings
from tests.helpers import PRIVATE_KEY, raw_config, settings_from_stack_text, stack_document
from tools.stack_file import StackFileError

NS = f"{PROJECT}:"


read = settings_from_stack_text


def refused(tmp_path, stack: str, edit) -> dict[str, str]:
    """The problems, by key path, of the shipped stack `stack` after `edit(config)`."""
    document = stack_document(stack)
    edit(document["config"])
    with pytest.raises(SettingsError) as caught:
        read(tmp_path, yaml.safe_dump(document, sort_keys=False), stack)
    return {p.path: p.message for p in caught.value.problems}


def file_refused(tmp_path, stack: str, text: str) -> str:
    with pytest.raises(StackFileError) as caught:
        read(tmp_path, text, stack)
    return str(caught.value)


def shipped_text(stack: str) -> str:
    return yaml.safe_dump(stack_document(stack), sort_keys=False)


# --- what used to crash -----------------------------------------------------------------------------------------

def test_keys_that_are_not_strings_are_refused_at_their_path(tmp_path):
    text = shipped_text("dev").replace("  k8s-platform:network:\n", "  k8s-platform:network:\n    7: x\n    null: y\n")
    message = file_refused(tmp_path, "dev", text)
    assert "config.k8s-platform:network: the key 7 is not a string" in message
    assert "config.k8s-platform:network: the key null is not a string" in message
    top = shipped_text("dev").replace("config:\n", "config:\n  12: x\n", 1)
    assert "config: the key 12 is not a string" in file_refused(tmp_path, "dev", top)


def test_on_and_yes_are_strings_as_the_cli_reads_them(tmp_path):
    # Go's yaml.v3 (the Pulumi CLI) follows YAML 1.2: `on:` is the string "on", so it is an unknown key here too.
    text = shipped_text("dev").replace("  k8s-platform:network:\n", "  k8s-platform:network:\n    on: yes\n")
    found = refused(tmp_path, "dev", lambda c: c[NS + "network"].update({"on": "yes"}))
    assert "unknown key" in found["network.on"]
    with pytest.raises(SettingsError) as caught:
        read(tmp_path, text, "dev")
    assert [p.path for p in caught.value.problems] == ["network.on"]


def test_yaml_dates_are_refused_at_their_path_as_the_cli_turns_them_into_go_times(tmp_path):
    # yaml.v3 gives an untyped value a timestamp as a Go time, which the CLI hands the program as
    # "2026-01-01 00:00:00 +0000 UTC": no setting takes one, so the file reader refuses it with its path.
    text = shipped_text("dev").replace("  - eu-west-1a\n", "  - 2026-01-01\n").replace(
        "k8s-platform:clusterName: k8s-dev", "k8s-platform:clusterName: 2026-01-01")
    message = file_refused(tmp_path, "dev", text)
    assert "config.k8s-platform:clusterName: '2026-01-01' is read as a date and time" in message
    assert "config.k8s-platform:network.zones[0]: '2026-01-01' is read as a date and time" in message
    assert "quote it" in message


def test_integers_of_thousands_of_digits_are_refused_at_their_path(tmp_path):
    # yaml.v3 reads an integer past 64 bits as a float, and one past a float's range as the text it is.
    text = shipped_text("prod").replace("count: 3\n", f"count: {'9' * 5000}\n", 1)
    with pytest.raises(SettingsError) as caught:
        read(tmp_path, text, "prod")
    assert {p.path for p in caught.value.problems} == {"controlPlane.count"}
    # The same value as JSON (the engine's form) is refused by the settings, not by a crash.
    config = raw_config("prod")
    config[NS + "controlPlane"] = '{"count": ' + "9" * 5000 + "}"
    with pytest.raises(SettingsError) as caught:
        load_settings(config, frozenset({PRIVATE_KEY}), "prod")
    assert {p.path for p in caught.value.problems} == {"controlPlane"}


def test_a_bastion_without_an_address_is_refused(tmp_path):
    found = refused(tmp_path, "metal", lambda c: c[NS + "inventory"]["bastion"].pop("address"))
    assert "is required" in found["inventory.bastion.address"]


def test_a_partial_user_certificate_is_refused_part_by_part(tmp_path):
    def partial(c):
        c[NS + "addons"]["tls"] = {"certificate": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
                                   "ca": "-----BEGIN CERTIFICATE-----\ny\n-----END CERTIFICATE-----"}
    assert "is required" in refused(tmp_path, "metal", partial)["addons.tls.key"]


@pytest.mark.parametrize("stack,path,edit", [
    ("prod", "workerPools[0].name", lambda c: c[NS + "workerPools"][0].update(name="general\n")),
    ("metal", "inventory.hosts[0].name", lambda c: c[NS + "inventory"]["hosts"][0].update(name="lb-1\n")),
    ("dev", "clusterName", lambda c: c.update({NS + "clusterName": "k8s-dev\n"})),
    ("metal", "addons.domain", lambda c: c[NS + "addons"].update(domain="k8s-metal.example.com\n")),
])
def test_a_trailing_newline_in_a_name_is_refused(tmp_path, stack, path, edit):
    assert path in refused(tmp_path, stack, edit)


@pytest.mark.parametrize("stack,path,edit", [
    ("prod", "workerPools[0].memoryGiB", lambda c: c[NS + "workerPools"][0].update(memoryGiB=2 ** 63)),
    ("prod", "workerPools[0].vcpu", lambda c: c[NS + "workerPools"][0].update(vcpu=10 ** 12)),
    ("metal", "inventory.hosts[5].memoryGiB", lambda c: c[NS + "inventory"]["hosts"][5].update(memoryGiB=2 ** 63)),
    ("metal", "inventory.hosts[5].vcpu", lambda c: c[NS + "inventory"]["hosts"][5].update(vcpu=65536)),
])
def test_capacities_have_an_upper_bound(tmp_path, stack, path, edit):
    assert "at most" in refused(tmp_path, stack, edit)[path]


# --- what used to be accepted -----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.\u0663\u0665.4", "1.035.4", "1.35.04", "01.35.4", "1.35.4\n"])
def test_kubernetes_versions_are_ascii_without_leading_zeros(tmp_path, version):
    found = refused(tmp_path, "dev", lambda c: c.update({NS + "kubernetesVersion": version}))
    assert "1.MINOR.PATCH" in found["kubernetesVersion"]


@pytest.mark.parametrize("key,why", [
    ("kubernetes.io/hostname", "kubelet refuses"),
    ("topology.kubernetes.io/zone", "set from the zones"),
    ("example.node-role.kubernetes.io/x", "node-role.kubernetes.io/ (applied through the API)"),
    ("example.k8s.io/x", "kubelet refuses"),
    ("example.com/" + "n" * 64, "1 to 63"),
    ("a" * 254 + "/name", "at most 253"),
])
def test_node_labels_the_kubelet_would_refuse_are_refused(tmp_path, key, why):
    found = refused(tmp_path, "prod", lambda c: c[NS + "workerPools"][0].update(labels={key: "x"}))
    assert why in found[f"workerPools[0].labels.{key}"]


def test_node_labels_in_the_kubelets_own_namespaces_are_accepted(tmp_path):
    # The kubelet allows these two namespaces in --node-labels (and so does the settings check).
    document = stack_document("prod")
    document["config"][NS + "workerPools"][0]["labels"] = {"node.kubernetes.io/pool": "general",
                                                          "kubelet.kubernetes.io/x": "y", "example.com/role": "web"}
    assert read(tmp_path, yaml.safe_dump(document), "prod").worker_pools[0].labels


def test_node_role_labels_are_accepted_and_left_to_the_api(tmp_path):
    document = stack_document("prod")
    document["config"][NS + "workerPools"][0]["labels"] = {"node-role.kubernetes.io/worker": ""}
    assert dict(read(tmp_path, yaml.safe_dump(document), "prod").worker_pools[0].labels) == {
        "node-role.kubernetes.io/worker": ""}


def test_every_bad_or_repeated_taint_is_reported(tmp_path):
    taints = [{"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NoSchedule"},
              {"key": "b", "value": "x" * 64, "effect": "NoSchedule"}, {"key": "c d", "effect": "NoSchedule"},
              {"key": "a", "effect": "NoExecute"}]
    found = refused(tmp_path, "prod", lambda c: c[NS + "workerPools"][0].update(taints=taints))
    assert "repeats the taint a:NoSchedule" in found["workerPools[0].taints[1]"]
    assert "taint value" in found["workerPools[0].taints[2].value"]
    assert "taint key" in found["workerPools[0].taints[3].key"]
    assert not any(p.startswith("workerPools[0].taints[4]") for p in found), "same key, other effect: valid"


@pytest.mark.parametrize("value,why", [
    ("127.0.0.1", "loopback"), ("0.0.0.0", "unspecified"), ("255.255.255.255", "broadcast"),
    ("224.0.0.5", "multicast"), ("169.254.10.1", "link-local"), ("203.0.113.0", "network or broadcast"),
    ("203.0.113.255", "network or broadcast"),
])
def test_host_addresses_that_name_no_single_machine_are_refused(tmp_path, value, why):
    found = refused(tmp_path, "metal", lambda c: c[NS + "inventory"]["hosts"][2].update(address=value))
    assert why in found["inventory.hosts[2].address"]


@pytest.mark.parametrize("port,owner", [(22, "sshd"), (8405, "health check")])
def test_a_load_balancer_port_that_collides_is_refused(tmp_path, port, owner):
    found = refused(tmp_path, "metal", lambda c: c[NS + "loadBalancer"].update(port=port))
    assert owner in found["loadBalancer.port"]


def test_a_load_balancer_port_on_a_holders_ssh_port_is_refused(tmp_path):
    def edit(c):
        c[NS + "loadBalancer"]["port"] = 2222
        c[NS + "inventory"]["hosts"][0]["sshPort"] = 2222
    assert "SSH port of inventory.hosts[0]" in refused(tmp_path, "metal", edit)["loadBalancer.port"]


def test_prod_cannot_open_ssh_to_the_world_in_halves(tmp_path):
    found = refused(tmp_path, "prod", lambda c: c[NS + "access"].update(sshAllowedCidrs=["0.0.0.0/1",
                                                                                          "128.0.0.0/1"]))
    assert "refused in prod" in found["access.sshAllowedCidrs[0]"]
    assert "refused in prod" in found["access.sshAllowedCidrs[1]"]


@pytest.mark.parametrize("user", ["ubuntu;reboot", "$(reboot)", "a b", "-rf", "x" * 33, "ubuntu\n"])
def test_ssh_users_are_login_names(tmp_path, user):
    assert "login name" in refused(tmp_path, "dev", lambda c: c.update({NS + "sshUser": user}))["sshUser"]
    hosts = refused(tmp_path, "metal", lambda c: c[NS + "inventory"]["hosts"][0].update(sshUser=user))
    assert "login name" in hosts["inventory.hosts[0].sshUser"]


@pytest.mark.parametrize("key,value,why", [
    ("aws:cost", "x", "reserved for AWS"), ("AWS:cost", "x", "reserved for AWS"),
    ("k" * 129, "x", "1 to 128"), ("team", "v" * 257, "at most 256"), ("team", "a;b", "at most 256"),
])
def test_aws_tags_follow_aws_rules(tmp_path, key, value, why):
    assert why in refused(tmp_path, "dev", lambda c: c.update({NS + "tags": {key: value}}))[f"tags.{key}"]


@pytest.mark.parametrize("schedule", ["61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                                      "not a cron", "*/0 * * * *", "* * * * * *", "@often", "* * * * 7",
                                      "0 0 5-1 * *", "0 0 30 2 *", "0 0 , * *", "TZ=UTC 0 * * * *"])
def test_invalid_backup_schedules_are_refused(tmp_path, schedule):
    found = refused(tmp_path, "dev", lambda c: c.update({NS + "addons": {"etcdBackup": {"schedule": schedule}}}))
    assert "cron schedule" in found["addons.etcdBackup.schedule"]


@pytest.mark.parametrize("schedule", ["0 * * * *", "*/15 2-4 1,15 jan-jun mon-fri", "@daily", "30 3 * * 0",
                                      "0 0 ? * SUN", "@every 90m", "0 0 29 2 *"])
def test_valid_backup_schedules_are_accepted(tmp_path, schedule):
    document = stack_document("dev")
    document["config"][NS + "addons"] = {"etcdBackup": {"schedule": schedule}}
    assert read(tmp_path, yaml.safe_dump(document), "dev").addons.etcd_backup_schedule == schedule


@pytest.mark.parametrize("value", ["0.0.0.0", "127.0.0.1", "1.035.4", "bad host", "a" * 64 + ".example.com",
                                   "x\n", "224.0.0.1"])
def test_bastion_addresses_are_ip_addresses_or_dns_names(tmp_path, value):
    found = refused(tmp_path, "metal", lambda c: c[NS + "inventory"]["bastion"].update(address=value))
    assert "inventory.bastion.address" in found


def test_a_top_level_null_is_refused_not_read_as_none(tmp_path):
    text = shipped_text("dev").replace("k8s-platform:clusterName: k8s-dev", "k8s-platform:clusterName: null")
    assert "config.k8s-platform:clusterName: has no value" in file_refused(tmp_path, "dev", text)


def test_a_cidr_listed_twice_is_refused_where_it_is_written(tmp_path):
    found = refused(tmp_path, "dev", lambda c: c[NS + "access"].update(apiAllowedCidrs=["198.51.100.0/24",
                                                                                         "198.51.100.0/24"]))
    assert "listed already at access.apiAllowedCidrs[0]" in found["access.apiAllowedCidrs[1]"]


@pytest.mark.parametrize("value", ["127.0.0.0/8", "224.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"])
def test_allowed_networks_that_send_no_traffic_are_refused(tmp_path, value):
    found = refused(tmp_path, "dev", lambda c: c[NS + "access"].update(sshAllowedCidrs=[value]))
    assert "no client connects" in found["access.sshAllowedCidrs[0]"]


def test_ssh_keys_must_hold_a_whole_key(tmp_path):
    found = refused(tmp_path, "dev", lambda c: c.update({NS + "sshPublicKey": "ssh-ed25519 AAAA me@host"}))
    assert "OpenSSH public key" in found["sshPublicKey"]
    hosts = refused(tmp_path, "metal", lambda c: c[NS + "inventory"]["bastion"].update(hostKey="ssh-ed25519 AAAA"))
    assert "host key" in hosts["inventory.bastion.hostKey"]


# --- what used to be reported wrongly or in part ---------------------------------------------------------------

def test_a_bad_region_is_reported_at_aws_region_only(tmp_path):
    found = refused(tmp_path, "dev", lambda c: c.update({"aws:region": "eu-west"}))
    assert list(found) == ["aws:region"]


def test_independent_mistakes_in_different_sections_are_reported_together(tmp_path):
    def edit(c):
        c[NS + "tags"] = {"aws:x": "y"}  # one section
        c[NS + "network"]["podCidr"] = "10.244.0.0/24"  # the pod CIDR room, a rule across sections
    found = refused(tmp_path, "prod", edit)
    assert "tags.aws:x" in found and "network.nodeCidrMaskSize" in found


def test_a_rule_across_sections_runs_while_another_section_is_wrong(tmp_path):
    def edit(c):
        c[NS + "tags"] = {"aws:x": "y"}
        c[NS + "workerPools"][0].update(count=1, maxCount=1)  # prod needs 2 workers: a rule over the pools
    found = refused(tmp_path, "prod", edit)
    assert "tags.aws:x" in found and "at least 2 workers" in found["workerPools"]


def test_a_bad_bastion_does_not_hide_the_checks_across_hosts(tmp_path):
    def edit(c):
        c[NS + "inventory"]["bastion"]["address"] = "0.0.0.0"
        c[NS + "inventory"]["hosts"][6]["name"] = c[NS + "inventory"]["hosts"][5]["name"]
    found = refused(tmp_path, "metal", edit)
    assert "inventory.bastion.address" in found and "inventory.hosts[6].name" in found


def test_errors_never_echo_a_pasted_value_in_full(tmp_path):
    found = refused(tmp_path, "dev", lambda c: c.update({NS + "clusterName": "x" * 5000}))
    assert len(found["clusterName"]) < 300 and "5000 characters" in found["clusterName"]


def test_the_offline_reader_and_the_settings_agree_on_the_shipped_stacks(tmp_path):
    for stack in ("dev", "prod", "metal"):
        through_yaml = read(tmp_path, shipped_text(stack), stack)
        config = raw_config(stack)
        assert through_yaml == load_settings(config, frozenset({PRIVATE_KEY}), stack), stack
        assert json.loads(config[NS + "network"]) == stack_document(stack)["config"][NS + "network"]


def test_no_encapsulation_is_refused_across_aws_zones_and_accepted_in_one_zone_and_on_bare_metal(tmp_path):
    found = refused(tmp_path, "prod", lambda c: c[NS + "network"].update(calicoEncapsulation="None"))
    message = found["network.calicoEncapsulation"]
    assert "3 zones" in message and "VXLANCrossSubnet" in message and "IPIP" in message
    one_zone = stack_document("dev")
    one_zone["config"][NS + "network"].update(calicoEncapsulation="None", zones=["eu-west-1a"])
    assert read(tmp_path, yaml.safe_dump(one_zone), "dev").network.calico_encapsulation == "None"
    metal = stack_document("metal")
    metal["config"].setdefault(NS + "network", {})["calicoEncapsulation"] = "None"
    assert read(tmp_path, yaml.safe_dump(metal), "metal").network.calico_encapsulation == "None"
