"""`python -m tools.plan diff` on crafted pairs of plans: additions only for a new worker, replacements said
out loud, host steps that re-run, masked secret changes, identical plans, and policy violations a change adds."""

import json

import pytest

from tests.helpers import edited, stack_document, write_stack
from tests.policies.test_pack import instance_named, set_key, transform
from tools import plan
from tools.plan_diff import diff_plans, render_markdown, render_text


def plan_of(tmp_path, name, document, transformations=()):
    result = plan.build_plan("dev", write_stack(tmp_path, document, name), transformations=transformations)
    return json.loads(plan.plan_json(result))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return plan_of(tmp_path_factory.mktemp("base"), "base", stack_document("dev"))


def pools(count=2, instance_type=None):
    pool = {"name": "general", "count": count}
    if instance_type:
        pool["instanceType"] = instance_type
    return [pool]


def test_identical_plans_give_an_empty_diff_and_say_so(base):
    d = diff_plans(base, base)
    assert d.empty and d.resources == []
    assert render_text(d) == "dev: no changes: the plans are identical\n"
    assert "No changes: the plans are identical." in render_markdown(d)


def test_adding_a_worker_shows_only_additions(base, tmp_path):
    head = plan_of(tmp_path, "head", edited("dev", workerPools=pools(3)))
    d = diff_plans(base, head)
    assert {r.action for r in d.resources} == {"add"}
    assert all("general-2" in r.resource["name"] for r in d.resources)
    assert d.count("add") == 22 and d.unchanged == len(base["resources"])
    assert "22 to add, 0 to replace, 0 to update, 0 to remove" in render_markdown(d)


def test_a_new_instance_type_replaces_the_pools_machines_and_says_so(base, tmp_path):
    head = plan_of(tmp_path, "head", edited("dev", workerPools=pools(2, "m7i.xlarge")))
    d = diff_plans(base, head)
    replaced = sorted(r.resource["name"] for r in d.resources if r.action == "replace")
    assert replaced == ["k8s-dev-general-0", "k8s-dev-general-1"]
    machine = next(r for r in d.resources if r.resource["name"] == "k8s-dev-general-0")
    assert [(c.path, c.old, c.new, c.replaces) for c in machine.changes] == [
        ("instanceType", "c7i.xlarge", "m7i.xlarge", True)]
    assert machine.dangerous and machine.consequence.startswith(
        "worker machine k8s-dev-general-0 replaced: a new machine is created and bootstrapped, then the old one is "
        "deleted; before the new one joins, its credentials step drains the old node")
    assert "k8s-dev-general-0-join" in machine.consequence, "the steps that run on the new machine are named"
    markdown = render_markdown(d)
    assert "`instanceType`: `c7i.xlarge` → `m7i.xlarge` **forces replacement**" in markdown
    assert ":warning: worker machine k8s-dev-general-0 replaced" in markdown.split("**Resources")[0], "not folded away"


def test_a_new_kubernetes_version_shows_which_host_steps_run_again(base, tmp_path):
    head = plan_of(tmp_path, "head", edited("dev", kubernetesVersion="1.37.3"))
    d = diff_plans(base, head)
    steps = sorted(r.resource["name"] for r in d.resources if r.resource["type"] == "command:remote:Command")
    assert {"k8s-dev-cp-0-install", "k8s-dev-general-0-install", "k8s-dev-cp-0-init"} <= set(steps)
    assert {r.action for r in d.resources if r.resource["name"] in steps} == {"update"}
    install = next(r for r in d.resources if r.resource["name"] == "k8s-dev-general-0-install")
    assert install.consequence == ("k8s-dev-general-0-install: containerd and the kubeadm/kubelet packages are "
                                   "installed again (on a node that has joined a version change waits for the "
                                   "upgrade steps)")
    init = next(r for r in d.resources if r.resource["name"] == "k8s-dev-cp-0-init")
    assert init.dangerous
    markdown = render_markdown(d)
    assert "1.37.3" in markdown and "```diff" in markdown, "the changed script lines are shown"
    assert d.version_refused is None and "refused" not in markdown
    assert not any(r.action in ("add", "remove", "replace") for r in d.resources)


def test_a_changed_secret_shows_as_changed_and_stays_masked(base, tmp_path):
    document = stack_document("dev")
    document["config"]["k8s-platform:sshPrivateKey"] = {"secure": "v1:ciphertext-of-a-new-key"}
    head = plan_of(tmp_path, "head", document)
    d = diff_plans(base, head)
    changed = [(r.resource["name"], c.path) for r in d.resources for c in r.changes if c.secret]
    assert ("k8s-dev-cp-0-prepare", "connection") in changed
    assert all(c.old == c.new == "[secret]" for r in d.resources for c in r.changes if c.secret)
    markdown = render_markdown(d)
    assert "`connection`: [secret] (changed)" in markdown and "ciphertext" not in markdown
    again = plan_of(tmp_path, "again", document)
    assert diff_plans(head, again).empty, "the same ciphertext twice is no change"


def test_a_new_mandatory_violation_appears_in_the_report(base, tmp_path):
    head = plan_of(tmp_path, "head", stack_document("dev"), transformations=(
        transform(instance_named("k8s-dev-general-1"), set_key("instance_type", "t3.small")),))
    d = diff_plans(base, head)
    assert [(v["policy"], v["level"], v["resource"]) for v in d.violations_added] == [
        ("machine-size", "mandatory", "k8s-dev-general-1")]
    markdown = render_markdown(d)
    assert "**Policy violations this change adds** (1 mandatory)" in markdown
    assert "`machine-size` (mandatory) on `k8s-dev-general-1`: t3.small (2 vCPU, 2 GiB) is smaller" in markdown
    assert diff_plans(head, base).violations_removed == d.violations_added


def test_long_diffs_are_folded_and_the_cli_writes_markdown(base, tmp_path):
    head = plan_of(tmp_path, "head", edited("dev", workerPools=pools(4)))
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    out = tmp_path / "diff.md"
    assert plan.main(["diff", str(tmp_path / "base.json"), str(tmp_path / "head.json"), "--markdown", str(out)]) == 0
    markdown = out.read_text()
    assert "<details><summary>Resources (43)</summary>" in markdown


def test_a_removed_worker_shows_what_runs_as_its_steps_are_deleted(base, tmp_path):
    head = plan_of(tmp_path, "head", edited("dev", workerPools=pools(1)))
    d = diff_plans(base, head)
    removed = {r.resource["name"]: r for r in d.resources if r.action == "remove"}
    assert "k8s-dev-general-1-leave" in removed and "k8s-dev-general-1-reset" in removed
    leave = removed["k8s-dev-general-1-leave"]
    assert leave.dangerous and "drains the node" in leave.consequence
    assert "kubeadm reset" in removed["k8s-dev-general-1-reset"].consequence
    assert removed["k8s-dev-general-1-member"].consequence.startswith("k8s-dev-general-1-member: 1. the node's mark")
