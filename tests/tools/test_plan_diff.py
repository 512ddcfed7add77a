"""`python -m tools.plan diff` on crafted pairs of plans: additions only for a new worker, replacements said
out loud, host steps that re-run, masked secret changes, identical plans, and policy violations a change adds."""

import json

import pytest

from tests.helpers import edited, stack_document, write_stack
from tests.policies.test_pack import instance_named, set_key, transform
from tools import plan
from tools.plan_diff import diff_plans
from tools.plan_diff_render import render_markdown, render_text


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
    # Said, but not flagged as danger: the workers' replacement is what the change asks for (issue 31).
    assert not machine.dangerous and machine.consequence.startswith(
        "worker machine k8s-dev-general-0 replaced: a new machine is created and bootstrapped, then the old one is "
        "deleted; before the new one joins, its credentials step drains the old node")
    assert "k8s-dev-general-0-join" in machine.consequence, "the steps that run on the new machine are named"
    markdown = render_markdown(d)
    assert "`instanceType`: `c7i.xlarge` → `m7i.xlarge` **forces replacement**" in markdown
    assert "**Needs attention**" not in markdown
    assert "(worker machine k8s-dev-general-0 replaced: a new machine" in markdown


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
    # An init that runs again on a cluster that answers only compares its fixed settings: no danger to flag.
    assert not any(r.dangerous for r in d.resources), [r.resource["name"] for r in d.resources if r.dangerous]
    markdown = render_markdown(d)
    assert "**Needs attention**" not in markdown
    # The upgrade's order, in the terminal as in the pull request.
    text = render_text(d)
    assert "Upgrade 1.37.2 → 1.37.3 (a patch), in this order:" in text
    assert "3. control planes one at a time" in text and "k8s-dev-cp-0" in text.split("3. control planes")[1]
    assert "1.37.3" in markdown and "```diff" in markdown, "the changed script lines are shown"
    assert d.version_refused is None and "refused" not in markdown
    assert not any(r.action in ("add", "remove", "replace") for r in d.resources)


def test_a_changed_ssh_key_is_one_credential_change_masked_not_a_danger_per_step(base, tmp_path):
    document = stack_document("dev")
    document["config"]["k8s-platform:sshPrivateKey"] = {"secure": "v1:ciphertext-of-a-new-key"}
    head = plan_of(tmp_path, "head", document)
    d = diff_plans(base, head)
    changed = [(r.resource["name"], c.path) for r in d.resources for c in r.changes if c.secret]
    assert ("k8s-dev-cp-0-prepare", "connection") in changed
    assert all(c.old == c.new == "[secret]" for r in d.resources for c in r.changes if c.secret)
    steps = [r for r in d.resources if r.action == "update"]  # the encryption key's step ignores its connection
    assert {r.resource["type"] for r in steps} == {"command:remote:Command", "command:local:Command"}
    assert steps and all(r.credential_only and not r.dangerous and r.consequence is None for r in steps)
    text, markdown = render_text(d), render_markdown(d)
    sentence = f"The SSH connection changed (the private key set as a secret, or the user or port): {len(steps)} host"
    assert sentence in text and sentence in markdown
    assert "DANGER" not in text and "**Needs attention**" not in markdown and "ciphertext" not in markdown
    assert "| `~` | `k8s-dev-cp-0-prepare` | `command:remote:Command` | the SSH connection only |" in markdown
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
    assert not leave.dangerous and "drains the node" in leave.consequence, "the removal asked for, said plainly"
    assert "kubeadm reset" in removed["k8s-dev-general-1-reset"].consequence
    assert removed["k8s-dev-general-1-member"].consequence.startswith("k8s-dev-general-1-member: 1. the node's mark")


def test_a_control_plane_leaving_is_flagged_as_danger_for_its_etcd_member(tmp_path):
    def metal(name, control_planes):
        document = stack_document("metal")
        hosts = document["config"]["k8s-platform:inventory"]["hosts"]
        model = next(h for h in hosts if h["name"] == "cp-3")
        hosts += [{**model, "name": f"cp-{i}", "address": f"203.0.113.{20 + i}"} for i in range(4, control_planes + 1)]
        result = plan.build_plan("metal", write_stack(tmp_path, document, name))
        return json.loads(plan.plan_json(result))
    d = diff_plans(metal("five", 5), metal("three", 3))
    flagged = sorted(r.resource["name"] for r in d.resources if r.dangerous)
    assert flagged == ["cp-4-leave", "cp-5-leave"], flagged
    assert "**Needs attention**" in render_markdown(d) and "DANGER: cp-4-leave" in render_text(d)
