"""The kubeadm bootstrap under Pulumi mocks: order of phases, secrets, lifecycle, and the emitted artifacts."""

import json
import re
import shutil
import subprocess
from functools import lru_cache

import yaml
from pulumi.runtime.sync_await import _sync_await

from tests.helpers import edited, write_stack
from tests.kube_schema import unknown_fields
from tests.plan_fixtures import INSTANCE, of_type, scaled_plan, shipped_plan
from components.remote import runner
from tools import plan_mocks
from tools.plan import build_plan, plan_json, write_artifacts
from tools.plan_mocks import SECRET_SIG_KEY, digest

COMMAND = "command:remote:Command"


def commands(result) -> dict[str, dict]:
    return {r["name"]: r for r in of_type(result, COMMAND)}


def urn_of(result, name):
    return next(r["urn"] for r in result.document["resources"] if r["name"] == name)


def raw_inputs(result, name):
    return next(r.inputs for r in result.registrations if r.name == name)


def is_wrapped_secret(value) -> bool:
    return isinstance(value, dict) and SECRET_SIG_KEY in value


def unwrapped(value):
    return value["value"] if is_wrapped_secret(value) else value


def test_each_host_runs_its_phases_in_order():
    result = shipped_plan("prod")
    cmds = commands(result)
    for machine in of_type(result, INSTANCE):
        if machine["inputs"]["tags"]["role"] == "bastion":
            continue
        host = machine["name"]
        assert machine["urn"] in cmds[f"{host}-prepare"]["dependsOn"]
        assert urn_of(result, f"{host}-prepare") in cmds[f"{host}-install"]["dependsOn"]
        join = cmds[f"{host}-join"]  # every host, the first control plane too (a no-op after its init)
        assert urn_of(result, f"{host}-install") in join["dependsOn"]
        assert urn_of(result, f"{host}-credentials") in join["dependsOn"]
        if f"{host}-init" in cmds:
            assert urn_of(result, f"{host}-install") in cmds[f"{host}-init"]["dependsOn"]


def test_control_planes_join_one_after_another():
    result = shipped_plan("prod")
    cmds = commands(result)
    assert urn_of(result, "k8s-prod-cp-0-init") in cmds["k8s-prod-cp-1-credentials"]["dependsOn"]
    # The first control plane's join (a no-op after its init; a replaced one's way back in) comes right after the
    # second's, with credentials from the second, and before anything else joins.
    assert urn_of(result, "k8s-prod-cp-1-join") in cmds["k8s-prod-cp-0-credentials"]["dependsOn"]
    assert urn_of(result, "k8s-prod-cp-0-credentials") in cmds["k8s-prod-cp-0-join"]["dependsOn"]
    assert urn_of(result, "k8s-prod-cp-0-join") in cmds["k8s-prod-cp-2-credentials"]["dependsOn"]
    assert urn_of(result, "k8s-prod-cp-2-join") in cmds["k8s-prod-api-ready"]["dependsOn"]
    assert urn_of(result, "k8s-prod-cp-0-join") in cmds["k8s-prod-kubeconfig"]["dependsOn"]


def test_lifecycle_steps_run_on_a_control_plane_other_than_their_node():
    result = shipped_plan("prod")
    machines = {m["name"]: m for m in of_type(result, INSTANCE)}

    def host_of(step: str) -> str:  # prod's nodes are private: reached at their private address
        address = unwrapped(raw_inputs(result, step)["connection"])["host"]
        return next(name for name in machines if address == plan_mocks.fake_address(INSTANCE, name))

    for step in ("credentials", "leave", "member"):
        assert host_of(f"k8s-prod-cp-0-{step}") == "k8s-prod-cp-1"
        for node in ("k8s-prod-cp-1", "k8s-prod-cp-2", "k8s-prod-general-0"):
            assert host_of(f"{node}-{step}") == "k8s-prod-cp-0"
    for node, machine in machines.items():
        if machine["inputs"]["tags"]["role"] != "bastion":
            identity = f"readonly NODE_IDENTITY=i-{digest(INSTANCE, node)[:17]}"  # the mocks' instance ID
            assert identity in unwrapped(raw_inputs(result, f"{node}-credentials")["stdin"]), node
            assert identity in unwrapped(raw_inputs(result, f"{node}-join")["stdin"]), node


def test_workers_join_independently_after_init():
    result = shipped_plan("prod")
    cmds = commands(result)
    workers = [m["name"] for m in of_type(result, INSTANCE) if m["inputs"]["tags"]["role"] == "worker"]
    for worker in workers:
        assert urn_of(result, "k8s-prod-cp-0-init") in cmds[f"{worker}-credentials"]["dependsOn"]
        for phase in ("prepare", "install", "credentials", "join"):
            deps = " ".join(cmds[f"{worker}-{phase}"]["dependsOn"])
            for other in workers:
                if other != worker:
                    assert f"::{other}" not in deps, f"{worker}-{phase} depends on {other}"
            # Workers know the control planes' addresses (for /etc/hosts), never wait on their bootstrap steps.
            assert not re.search(r"cp-[12]-(prepare|install|credentials|join)", deps)


def _generated_secrets(result) -> list[str]:
    """The values the plan's mocks generated for the bootstrap token, and the certificate keys the control planes'
    credentials commands printed (the mocks' stand-in for the key each host makes)."""
    by_name = {r.name: r for r in result.registrations}
    token_id = digest("random:index/randomString:RandomString", "k8s-prod-token-id")[:6]
    token_secret = digest("random:index/randomPassword:RandomPassword", "k8s-prod-token-secret")[:16]
    assert by_name["k8s-prod-token-id"].inputs["length"] == 6
    return [f"{token_id}.{token_secret}", token_secret, *_certificate_keys(result).values()]


def _certificate_keys(result) -> dict[str, str]:
    """control plane -> the certificate key its credentials command printed (under the mocks)."""
    keys = {}
    for name in ("k8s-prod-cp-1", "k8s-prod-cp-2"):
        credentials = raw_inputs(result, f"{name}-credentials")["stdin"]
        h = digest(COMMAND, f"{name}-credentials")
        keys[name] = json.loads(plan_mocks.fake_command_stdout(credentials, h))["certificateKey"]
    return keys


def test_no_secret_on_any_command_line_and_secrets_sent_as_secrets():
    result = shipped_plan("prod")
    secrets = _generated_secrets(result)
    init_stdin = unwrapped(raw_inputs(result, "k8s-prod-cp-0-init")["stdin"])
    assert secrets[0] in init_stdin, "the host does get the real token"
    for name, cmd in commands(result).items():
        command_lines = cmd["inputs"].get("create", "") + cmd["inputs"].get("delete", "")
        assert not any(secret in command_lines for secret in secrets), name
        if name.endswith(("-leave", "-reset")):
            assert "create" not in cmd["inputs"] and "stdin" not in cmd["inputs"]
            continue
        assert cmd["inputs"]["create"] == runner.RUN_AS_ROOT
        raw = raw_inputs(result, name)
        if name.endswith(("-init", "-join", "-credentials")):
            assert is_wrapped_secret(raw["stdin"]), f"{name} must send its stdin as a secret"
        if name.endswith(("-init", "-join", "-credentials", "-kubeconfig")):
            assert "stdout" in cmd["options"]["additionalSecretOutputs"]
        else:
            assert not any(secret in raw["stdin"] for secret in secrets), name
        assert raw["addPreviousOutputInEnv"] is False
        connection = unwrapped(raw["connection"])  # pulumi-command keeps the whole connection secret
        # Few dials (a wrong host key fails within seconds); a booting machine waits in its -reachable step.
        assert connection["dialErrorLimit"] <= runner.DIAL_ERROR_LIMIT
    plan_text = plan_json(result) + "".join(result.artifacts.values())
    assert not any(secret in plan_text for secret in secrets)
    assert "PRIVATE KEY" not in plan_text


def test_each_control_plane_joins_with_the_certificate_key_made_for_it():
    result = shipped_plan("prod")
    assert of_type(result, "random:index/randomBytes:RandomBytes") == [], "no certificate key for the stack's life"
    init_stdin = unwrapped(raw_inputs(result, "k8s-prod-cp-0-init")["stdin"])
    assert "certificateKey" not in init_stdin, "init makes and uploads no certificate key"
    init_line = r'^run_logged .* kubeadm init --config "\$state/kubeadm-init.yaml" --skip-token-print$'
    assert re.search(init_line, init_stdin, re.MULTILINE), "no --upload-certs, and the token is not printed"
    keys = _certificate_keys(result)
    assert len(set(keys.values())) == 2
    for name, key in keys.items():
        credentials = unwrapped(raw_inputs(result, f"{name}-credentials")["stdin"])
        assert "UPLOAD_CERTS_CONFIG=''" not in credentials and not re.search(r"[0-9a-f]{64}", credentials)
        join_stdin = raw_inputs(result, f"{name}-join")["stdin"]
        assert is_wrapped_secret(join_stdin) and f"certificateKey: {key}" in unwrapped(join_stdin)
        other = next(k for n, k in keys.items() if n != name)
        assert other not in unwrapped(join_stdin)
    worker_join = unwrapped(raw_inputs(result, "k8s-prod-general-0-join")["stdin"])
    assert "certificateKey" not in worker_join
    worker_credentials = unwrapped(raw_inputs(result, "k8s-prod-general-0-credentials")["stdin"])
    assert "readonly UPLOAD_CERTS_CONFIG=''" in worker_credentials


def test_secret_values_never_reach_the_plan_json():
    result = shipped_plan("prod")
    cmds = commands(result)
    for name in ("k8s-prod-cp-0-init", "k8s-prod-general-0-join", "k8s-prod-cp-1-credentials"):
        assert cmds[name]["inputs"]["stdin"] == "[secret]"
    assert result.document["outputs"]["kubeconfig"] == "[secret]"


def test_kubeconfig_is_secret_and_points_at_the_load_balancer():
    result = shipped_plan("dev")
    kubeconfig = result.program["bootstrap"].kubeconfig
    assert _sync_await(kubeconfig.is_secret())
    document = yaml.safe_load(_sync_await(kubeconfig.future()))
    endpoint = result.document["outputs"]["apiEndpoint"]
    assert document["clusters"][0]["cluster"]["server"] == f"https://{endpoint}"


def test_private_nodes_are_reached_through_the_bastion():
    prod, dev = shipped_plan("prod"), shipped_plan("dev")
    bastion = prod.document["outputs"]["bastion"]
    assert all(unwrapped(raw_inputs(prod, n)["connection"])["proxy"]["host"] == bastion for n in commands(prod))
    assert all("proxy" not in unwrapped(raw_inputs(dev, n)["connection"]) for n in commands(dev))


def test_removing_a_node_leaves_the_cluster_then_resets_the_host_then_deletes_the_machine():
    """Pulumi deletes in reverse dependency order: the leave step (drain, etcd member, Node; on the first control
    plane) depends on the reset (on the host), which depends on the join, which depends on the machine (through its
    address)."""
    result = shipped_plan("prod")
    cmds = commands(result)
    for node, role in (("k8s-prod-general-2", "worker"), ("k8s-prod-cp-2", "control-plane")):
        leave, reset, join = cmds[f"{node}-leave"], cmds[f"{node}-reset"], cmds[f"{node}-join"]
        for step in (leave, reset):
            assert "create" not in step["inputs"] and "stdin" not in step["inputs"], "it runs only on delete"
        assert "from leave-cluster.sh" in leave["inputs"]["delete"]
        assert f"readonly NODE_NAME={node}" in leave["inputs"]["delete"]
        assert f"readonly ROLE={role}" in leave["inputs"]["delete"]
        assert urn_of(result, f"{node}-reset") in leave["dependsOn"]
        member = cmds[f"{node}-member"]  # deleted first: the node loses its mark before the leave step runs
        assert urn_of(result, f"{node}-leave") in member["dependsOn"]
        assert "readonly ACTION=add" in member["inputs"]["stdin"] and "readonly ACTION=remove" in \
            member["inputs"]["delete"]
        assert member["options"].get("deleteBeforeReplace") is True, "a --replace of it keeps the mark"
        assert unwrapped(raw_inputs(result, f"{node}-leave")["connection"])["host"] == \
            unwrapped(raw_inputs(result, "k8s-prod-cp-0-init")["connection"])["host"]
        assert "reset-node.sh. Do not edit." in reset["inputs"]["delete"]
        reset_connection = unwrapped(raw_inputs(result, f"{node}-reset")["connection"])
        assert reset_connection["host"] == unwrapped(raw_inputs(result, f"{node}-join")["connection"])["host"]
        assert reset_connection["dialErrorLimit"] == 4, "a dead host fails the reset in about a minute"
        assert urn_of(result, f"{node}-join") in reset["dependsOn"]
        assert urn_of(result, node) in join["dependsOn"]
        assert "delete" not in join["inputs"] and "delete" not in cmds[f"{node}-credentials"]["inputs"]


def test_no_command_can_be_replaced_into_a_late_destructive_delete():
    for cmd in commands(shipped_plan("prod")).values():
        assert "triggers" not in cmd["inputs"], "a triggers change replaces create-before-delete"
        if "delete" in cmd["inputs"]:
            assert re.search(r"-(reset|leave|member)$", cmd["name"]), cmd["name"]
            # Each checks, when it runs, that the node really left: the leave step looks for the node's mark (the
            # member step's delete only takes the mark away), the reset asks the API for the Node.
            assert any(re.search(rf"^# Generated by k8s-platform from (.+, )?{script}\. Do not edit\.$",
                                 cmd["inputs"]["delete"], re.M)
                       for script in ("leave-cluster.sh", "reset-node.sh", "member.sh"))


def _host_commands(result):
    return {name: cmd["inputs"] for name, cmd in commands(result).items()}


def test_unrelated_settings_rerun_nothing_on_hosts(tmp_path):
    base = _host_commands(shipped_plan("prod"))
    document = edited("prod", tags={"cost-center": "platform-42"})
    document["config"]["k8s-platform:access"]["apiAllowedCidrs"].append("203.0.113.0/24")
    changed = _host_commands(build_plan("prod", write_stack(tmp_path, document)))
    assert changed == base


def _longest_chain_to(result, target_name):
    resources = {r["urn"]: r for r in result.document["resources"]}
    memo = {}

    def depth(urn):
        if urn not in memo:
            memo[urn] = 1 + max((depth(d) for d in resources[urn]["dependsOn"] if d in resources), default=0)
        return memo[urn]

    return depth(urn_of(result, target_name))


@lru_cache(maxsize=None)
def test_chain_to_api_ready_does_not_grow_with_workers():
    three = _longest_chain_to(scaled_plan("prod", 3), "k8s-prod-api-ready")
    many = _longest_chain_to(scaled_plan("prod", 300), "k8s-prod-api-ready")
    assert three == many
    assert three <= 16


def test_emitted_configs_have_only_known_fields_and_scripts_pass_shellcheck(tmp_path):
    result = shipped_plan("prod")
    written = write_artifacts(result, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"hosts/k8s-prod-cp-0/kubeadm-init.yaml", "hosts/k8s-prod-cp-1/kubeadm-join.yaml",
            "hosts/k8s-prod-general-0/kubelet-patch.yaml", "hosts/k8s-prod-general-0/containerd-config.toml",
            "hosts/k8s-prod-general-0/kubeadm-join.sh"} <= names
    for path in written:
        if path.name.startswith("kubeadm-") and path.suffix == ".yaml":
            for document in yaml.safe_load_all(path.read_text()):
                assert unknown_fields(document) == [], path
        if path.name == "kubelet-patch.yaml":
            patch = yaml.safe_load(path.read_text())
            assert unknown_fields(patch, "kubelet.config.k8s.io/v1beta1", "KubeletConfiguration") == []
    scripts = [p for p in written if p.suffix == ".sh"]
    assert shutil.which("shellcheck")
    check = subprocess.run(["shellcheck", "-S", "warning", *map(str, scripts)], capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout
    init = (tmp_path / "hosts/k8s-prod-cp-0/kubeadm-init.yaml").read_text()
    assert re.search(r"token: secret\.placeholder00000", init)
    endpoint = result.document["outputs"]["apiEndpoint"]
    assert f"controlPlaneEndpoint: {endpoint}" in init


def test_prod_workers_get_prod_reservations_in_their_patch():
    result = shipped_plan("prod")
    patch = yaml.safe_load(result.artifacts["hosts/k8s-prod-general-0/kubelet-patch.yaml"])
    assert patch["evictionHard"]["memory.available"] == "1024Mi"
    assert patch["systemReserved"]["cpu"] == "300m"
