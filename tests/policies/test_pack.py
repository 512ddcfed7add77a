"""The policy pack as a whole: the shipped stacks, stacks broken by a transformation that settings validation would
never let through (planned end to end: exit 3 and the policy named), the per-tier config files, and the pack's
entry point."""

import ast
import json
import runpy

import pulumi
import pytest
from pulumi_policy import EnforcementLevel

import tools.policy_check  # noqa: F401  (puts policies/ on sys.path)
from cluster_policies import pack
from cluster_policies.write_config import CONFIG_DIR, config_text
from tests import policy_breaks
from tests.helpers import ROOT, edited, write_stack
from tools import plan

POLICIES_DIR = ROOT / "policies"


@pytest.mark.parametrize("stack", ["dev", "prod", "metal"])
def test_shipped_stacks_break_no_mandatory_policy(stack, capsys):
    assert plan.main(["--stack", stack]) == 0
    document = plan.build_plan(stack).document
    assert not [v for v in document["violations"] if v["level"] == "mandatory"]
    assert "policies:" in capsys.readouterr().out


def transform(match, change):
    """A stack transformation changing the props of resources whose (type, name) `match` accepts."""
    def apply(args: pulumi.ResourceTransformationArgs):
        if match(args.type_, args.name):
            props = dict(args.props)
            change(props)
            return pulumi.ResourceTransformationResult(props, args.opts)
        return None
    return apply


def instance_named(*names):
    return lambda t, n: t == "aws:ec2/instance:Instance" and n in names


def set_key(key, value):
    return lambda props: props.__setitem__(key, value)


def retag(role):
    return lambda props: props.__setitem__("tags", {**props["tags"], "role": role})


def drop_tag(key):
    return lambda props: props.__setitem__("tags", {k: v for k, v in props["tags"].items() if k != key})


def set_root(**changes):
    def change(props):
        root = props["root_block_device"]
        props["root_block_device"] = {**(root if isinstance(root, dict) else vars(root)), **changes}
    return change


def on_node(name):
    return lambda t, n: t == "k8s-platform:hosts:Node" and n == f"{name}-node"


PUBLIC_SSH = set_key("cidr_ipv4", "0.0.0.0/0")

BROKEN = [
    ("machine-size", "prod", instance_named("k8s-prod-general-1"), set_key("instance_type", "m7i.large")),
    ("volumes-encrypted", "prod", instance_named("k8s-prod-general-0"), set_root(encrypted=False)),
    ("imdsv2-required", "dev", instance_named("k8s-dev-general-0"),
     set_key("metadata_options", {"http_tokens": "optional", "http_endpoint": "enabled"})),
    ("no-public-admin-ingress", "prod",
     lambda t, n: n == "k8s-prod-bastion-ingress-ssh-from-198-51-100-0-24", PUBLIC_SSH),
    ("security-group-rule-descriptions", "dev", lambda t, n: n == "k8s-dev-nodes-ingress-kubelet",
     set_key("description", "")),
    ("no-public-machines", "prod", instance_named("k8s-prod-general-2"), set_key("associate_public_ip_address", True)),
    ("required-tags", "prod", instance_named("k8s-prod-general-2"), drop_tag("tier")),
    ("control-plane-ha", "prod", instance_named("k8s-prod-cp-2"), retag("worker")),
    ("worker-ha", "prod", instance_named("k8s-prod-general-1", "k8s-prod-general-2"), retag("monitoring")),
    ("api-load-balancer-ha", "prod", lambda t, n: t == "aws:lb/loadBalancer:LoadBalancer" and n == "k8s-prod-api",
     lambda props: props.__setitem__("subnets", props["subnets"][:1])),
]


@pytest.mark.parametrize("rule,stack,match,change", BROKEN, ids=[f"{b[0]}-{b[1]}" for b in BROKEN])
def test_a_transformed_stack_breaking_a_rule_exits_3_naming_it(rule, stack, match, change, tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert plan.main(["--stack", stack, "--json", str(out)], transformations=(transform(match, change),)) == 3
    violations = json.loads(out.read_text())["violations"]
    assert any(v["policy"] == rule and v["level"] == "mandatory" for v in violations), violations
    assert f"[mandatory] {rule}: " in capsys.readouterr().out


@pytest.mark.parametrize("rule", sorted(policy_breaks.METAL_BREAKS))
def test_a_metal_stack_whose_components_break_a_stack_policy_exits_3_naming_it(rule, tmp_path, capsys):
    # Stack policies read what components register as outputs, as in the engine: a transformation of their
    # inputs could not break them.
    out = tmp_path / "plan.json"
    with policy_breaks.broken(rule):
        assert plan.main(["--stack", "metal", "--json", str(out)]) == 3
    violations = json.loads(out.read_text())["violations"]
    assert any(v["policy"] == rule and v["level"] == "mandatory" for v in violations), violations
    assert f"[mandatory] {rule}: " in capsys.readouterr().out


def test_a_transformation_of_component_inputs_does_not_reach_stack_policies(tmp_path):
    # What the engine does (AnalyzeStack gets outputs); the offline runner must not be stricter than a preview.
    out = tmp_path / "plan.json"
    breaks = (transform(on_node("worker-1"), set_key("vcpu", 4)),)
    assert plan.main(["--stack", "metal", "--json", str(out)], transformations=breaks) == 0


def test_policy_config_sets_levels_like_the_cli(tmp_path):
    # The same break at advisory level (the dev tier's level for public SSH) does not fail the plan.
    config = tmp_path / "levels.json"
    config.write_text(json.dumps({"no-public-machines": "advisory", "machine-size": {"enforcementLevel": "disabled"}}))
    breaks = (transform(instance_named("k8s-prod-general-2"), set_key("associate_public_ip_address", True)),
              transform(instance_named("k8s-prod-general-1"), set_key("instance_type", "m7i.large")))
    out = tmp_path / "plan.json"
    assert plan.main(["--stack", "prod", "--json", str(out), "--policy-config", str(config)], breaks) == 0
    violations = json.loads(out.read_text())["violations"]
    assert [(v["policy"], v["level"], v["resource"]) for v in violations] == [
        ("no-public-machines", "advisory", "k8s-prod-general-2")]


@pytest.mark.parametrize("content,said", [
    ({"no-public-machine": "advisory"}, "'no-public-machine' is not a policy of the k8s-platform pack; its policies "
                                        "are: api-load-balancer-ha"),
    ({"machine-size": {"enforcementLevel": "warn"}}, "machine-size.enforcementLevel is 'warn'; accepted: advisory"),
])
def test_a_policy_config_naming_no_policy_of_the_pack_or_no_level_is_refused(tmp_path, capsys, content, said):
    config = tmp_path / "levels.json"
    config.write_text(json.dumps(content))
    assert plan.main(["--stack", "prod", "--policy-config", str(config)]) == plan.EXIT_INVALID_SETTINGS
    assert said in capsys.readouterr().err


def test_all_sets_every_policy_s_level_as_in_the_cli(tmp_path):
    config = tmp_path / "levels.json"
    config.write_text(json.dumps({"all": "advisory"}))
    breaks = (transform(instance_named("k8s-prod-general-1"), set_key("instance_type", "m7i.large")),)
    out = tmp_path / "plan.json"
    assert plan.main(["--stack", "prod", "--json", str(out), "--policy-config", str(config)], breaks) == 0
    assert {v["level"] for v in json.loads(out.read_text())["violations"]} == {"advisory"}


def test_many_small_workers_plan_with_advice_only(tmp_path, capsys):
    pools = [{"name": "general", "count": 24, "instanceType": "c7i.2xlarge"}]
    path = write_stack(tmp_path, edited("dev", workerPools=pools))
    assert plan.main(["--stack", "dev", "--config-file", str(path)]) == 0
    assert "[advisory] fewer-larger-workers: (stack): 24 workers, 24 of them under 16 vCPU" in capsys.readouterr().out


# --- the pack itself ---------------------------------------------------------------------------------------------

def test_tier_config_files_are_written_from_the_levels_table():
    for tier in pack.TIER_INDEX:
        assert (CONFIG_DIR / f"{tier}.json").read_text() == config_text(tier), f"run write_config for {tier}"
    assert json.loads(config_text("prod"))["no-public-admin-ingress"] == "mandatory"
    assert json.loads(config_text("dev"))["no-public-admin-ingress"] == "advisory"
    assert set(json.loads(config_text("lab")).values()) == {"advisory", "mandatory"}


def test_the_pack_imports_nothing_from_the_program():
    for path in POLICIES_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in modules if m and m.split(".")[0] in ("components", "tools", "pulumi_aws")}, path


def test_main_builds_a_valid_pack_without_starting_the_server(monkeypatch):
    import pulumi_policy.policy as sdk

    captured = {}

    class FakeServer:
        def add_insecure_port(self, address):
            captured["address"] = address
            return 0

        def start(self):
            captured["started"] = True

    def stop_waiting(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(sdk.grpc, "server", lambda *a, **k: FakeServer())
    monkeypatch.setattr(sdk.analyzer_pb2_grpc, "add_AnalyzerServicer_to_server",
                        lambda servicer, server: captured.__setitem__("servicer", servicer))
    monkeypatch.setattr(sdk.time, "sleep", stop_waiting)
    FakeServer.stop = lambda self, grace: captured.__setitem__("stopped", True)
    monkeypatch.syspath_prepend(str(POLICIES_DIR))
    runpy.run_path(str(POLICIES_DIR / "__main__.py"), run_name="__main__")
    info = captured["servicer"].GetAnalyzerInfo(None, None)
    assert info.name == pack.PACK_NAME and captured["address"] == "127.0.0.1:0"
    assert sorted(p.name for p in info.policies) == sorted(pack.LEVELS)
    assert all(p.description for p in info.policies)
    mandatory = sdk.EnforcementLevel.MANDATORY
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels["fewer-larger-workers"] != levels["machine-size"]
    assert pack.LEVELS["machine-size"][2] is mandatory and pack.LEVELS["fewer-larger-workers"][2] is EnforcementLevel.ADVISORY
