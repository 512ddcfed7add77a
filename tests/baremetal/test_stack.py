"""A bare-metal stack under Pulumi mocks: preflight first, the VIP load balancer before kubeadm init, secrets kept
secret, host keys pinned, emitted configs valid, and a worker added without touching anything else."""

import copy
import json
import re
import subprocess

import pytest

import tools.plan_mocks as plan_mocks
from components.bootstrap.host_preflight import HostIdentityClash
from tests.helpers import stack_document, write_stack
from tests.plan_fixtures import of_type, shipped_plan
from tests.bootstrap.test_bootstrap import commands, is_wrapped_secret, raw_inputs, unwrapped, urn_of
from tools.plan import build_plan, plan_json

INVENTORY = "k8s-platform:inventory"
LOAD_BALANCERS = ("lb-1", "lb-2")
NODES = ("cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3")


def metal_document(mutate=None, **config) -> dict:
    document = copy.deepcopy(stack_document("metal"))
    document["config"].update({f"k8s-platform:{k}": v for k, v in config.items()})
    if mutate:
        mutate(document["config"][INVENTORY]["hosts"])
    return document


def test_a_bare_metal_plan_declares_no_cloud_resource_and_serves_the_api_on_the_vip():
    result = shipped_plan("metal")
    assert not [r for r in result.document["resources"] if r["type"].startswith("aws:")]
    assert result.document["outputs"]["apiEndpoint"] == "203.0.113.10:6443"
    assert [n["name"] for n in result.document["outputs"]["nodes"]] == list(NODES)
    init = result.artifacts["hosts/cp-1/kubeadm-init.yaml"]
    assert "controlPlaneEndpoint: 203.0.113.10:6443" in init
    assert "- 203.0.113.10" in init and "- 203.0.113.23" in init  # the VIP and every control plane in the certificate


def test_load_balancer_hosts_run_only_their_preflight_and_the_load_balancer():
    cmds = commands(shipped_plan("metal"))
    for host in LOAD_BALANCERS:
        assert sorted(n for n in cmds if n.startswith(f"{host}-")) == [f"{host}-load-balancer", f"{host}-preflight"]
    for host in NODES:
        assert {f"{host}-preflight", f"{host}-prepare", f"{host}-install"} <= set(cmds)
        assert f"{host}-load-balancer" not in cmds


def test_nothing_changes_a_host_before_its_preflight_and_init_waits_for_the_load_balancers():
    result = shipped_plan("metal")
    cmds = commands(result)
    for host in NODES:
        depends = cmds[f"{host}-prepare"]["dependsOn"]
        assert urn_of(result, f"{host}-preflight") in depends
    for host in LOAD_BALANCERS:
        assert urn_of(result, f"{host}-preflight") in cmds[f"{host}-load-balancer"]["dependsOn"]
        assert urn_of(result, f"{host}-load-balancer") in cmds["cp-1-init"]["dependsOn"]
    # Preflights change nothing, so they wait only for their own host's SSH server: all run at once.
    assert all(cmds[f"{h}-preflight"]["dependsOn"] == [urn_of(result, f"{h}-reachable")]
               for h in NODES + LOAD_BALANCERS)


def test_the_vrrp_secret_is_generated_and_travels_only_as_a_secret():
    result = shipped_plan("metal")
    password = next(r for r in of_type(result, "random:index/randomPassword:RandomPassword")
                    if r["name"].endswith("-vrrp-auth"))
    assert password["inputs"]["length"] == 8 and password["inputs"]["special"] is False
    clear = (plan_mocks.digest(password["type"], password["name"]) * 4)[:8]
    for host in LOAD_BALANCERS:
        stdin = raw_inputs(result, f"{host}-load-balancer")["stdin"]
        assert is_wrapped_secret(stdin) and f"auth_pass {clear}" in unwrapped(stdin)
        assert commands(result)[f"{host}-load-balancer"]["inputs"]["logging"] == "none"
        assert "auth_pass PLACEHLD" in result.artifacts[f"hosts/{host}/keepalived.conf"]
    assert clear not in plan_json(result) and not any(clear in text for text in result.artifacts.values())


def test_pinned_host_keys_reach_the_ssh_connections():
    result = shipped_plan("metal")
    connection = unwrapped(raw_inputs(result, "worker-2-join")["connection"])
    expected = stack_document("metal")["config"][INVENTORY]["bastion"]["hostKey"]
    assert connection["proxy"]["hostKey"] == expected and connection["proxy"]["host"] == "198.51.100.5"
    assert connection["host"] == "203.0.113.32" and "hostKey" not in connection


def test_emitted_load_balancer_configs_pass_haproxy_and_rank_the_holders(tmp_path):
    result = shipped_plan("metal")
    for host, priority in (("lb-1", 200), ("lb-2", 190)):
        cfg = tmp_path / f"{host}.cfg"
        cfg.write_text(result.artifacts[f"hosts/{host}/haproxy.cfg"])
        check = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=20)
        assert check.returncode == 0, check.stdout + check.stderr
        servers = [line.split()[1:3] for line in cfg.read_text().splitlines() if line.strip().startswith("server ")]
        assert servers == [["cp-1", "203.0.113.21:6443"], ["cp-2", "203.0.113.22:6443"], ["cp-3", "203.0.113.23:6443"]]
        keepalived = result.artifacts[f"hosts/{host}/keepalived.conf"]
        assert f"priority {priority}" in keepalived and "203.0.113.10/24 dev eth0" in keepalived


def test_colocated_load_balancer_runs_on_the_control_planes_on_its_own_port(tmp_path):
    def drop_load_balancers(hosts):
        hosts[:] = [h for h in hosts if "load-balancer" not in h["roles"]]
    document = metal_document(drop_load_balancers, loadBalancer={"vip": "203.0.113.10", "mode": "colocated",
                                                                 "interface": "eth0"})
    result = build_plan("custom", write_stack(tmp_path, document))
    cmds = commands(result)
    assert sorted(n for n in cmds if n.endswith("-load-balancer")) == ["cp-1-load-balancer", "cp-2-load-balancer",
                                                                       "cp-3-load-balancer"]
    assert result.document["outputs"]["apiEndpoint"] == "203.0.113.10:8443"
    assert "bind :8443" in result.artifacts["hosts/cp-2/haproxy.cfg"]
    assert "8443:haproxy" in result.artifacts["hosts/cp-2/preflight.sh"]
    assert "controlPlaneEndpoint: 203.0.113.10:8443" in result.artifacts["hosts/cp-1/kubeadm-init.yaml"]


def test_adding_a_worker_to_the_inventory_only_adds_its_resources(tmp_path):
    def add_worker(hosts):
        hosts.append({**hosts[-1], "name": "worker-4", "address": "203.0.113.34"})
    base = build_plan("custom", write_stack(tmp_path, metal_document(), "base"))
    head = build_plan("custom", write_stack(tmp_path, metal_document(add_worker), "head"))
    before = {r["urn"]: json.dumps(r, sort_keys=True) for r in json.loads(plan_json(base))["resources"]}
    after = {r["urn"]: json.dumps(r, sort_keys=True) for r in json.loads(plan_json(head))["resources"]}
    assert set(before) <= set(after)
    assert [urn for urn in before if before[urn] != after[urn]] == []
    added = sorted(urn.split("::")[-1] for urn in set(after) - set(before))
    assert added == ["worker-4-credentials", "worker-4-install", "worker-4-join", "worker-4-labels", "worker-4-leave",
                     "worker-4-member",
                     "worker-4-node", "worker-4-preflight", "worker-4-prepare", "worker-4-reachable",
                     "worker-4-registry-trust",
                     "worker-4-reset", "worker-4-upgrade-batch",
                     "worker-4-upgrade-containerd", "worker-4-upgrade-drain",
                     "worker-4-upgrade-kubeadm", "worker-4-upgrade-kubelet", "worker-4-upgrade-ready"]


def test_cloned_hosts_stop_the_update_before_they_are_changed(monkeypatch):
    real = plan_mocks.fake_command_stdout

    def cloned(stdin, h):
        out = real(stdin, h)
        if "from preflight.sh" in str(stdin) and '"worker-' in out:
            report = json.loads(out)
            return json.dumps({**report, "machineId": "5eed" * 8}) + "\n"
        return out
    monkeypatch.setattr(plan_mocks, "fake_command_stdout", cloned)
    with pytest.raises(HostIdentityClash) as caught:
        build_plan("metal")
    # Whichever later worker is compared first is named, with the earlier ones that share its machine id.
    message = str(caught.value)
    assert re.search(rf"worker-[23]: /etc/machine-id {'5eed' * 8} is also the one of worker-1", message), message
    assert "cloned machine" in message


def test_emit_writes_each_holders_load_balancer_configs(tmp_path):
    from tools.plan import main
    assert main(["--stack", "metal", "--emit", str(tmp_path)]) == 0
    for host in LOAD_BALANCERS:
        assert (tmp_path / f"hosts/{host}/haproxy.cfg").read_text().count("server cp-") == 3
        assert "auth_pass PLACEHLD" in (tmp_path / f"hosts/{host}/keepalived.conf").read_text()
    assert not (tmp_path / "hosts/worker-1/haproxy.cfg").exists()
