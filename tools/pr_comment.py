"""Posts the plan diff on a pull request as one comment, updated in place on every push (never a new comment per
run). Standard library only: it runs in the comment workflow, which checks out the default branch, never the
pull request's code.

    GITHUB_TOKEN=... python -m tools.pr_comment --repo OWNER/NAME --pr N --body-file comment.md \
        [--head-sha SHA] [--api-url URL]

The comment is found by a hidden marker on its first line. With --head-sha, the pull request must still point at
that commit (the number came from another workflow's artifact: it is not trusted blindly). Exit 0 when created or
updated, 1 when refused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.request
from pathlib import Path

MARKER = "<!-- k8s-platform:plan-diff -->"
MAX_BODY = 65000  # GitHub refuses comments over 65,536 characters
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHub:
    def __init__(self, api_url: str, token: str):
        self.api_url = api_url.rstrip("/")
        self.token = token

    def request(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as response:
            return json.loads(response.read() or b"null")


def with_marker(body: str) -> str:
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + "\n\n(truncated: the full diff is in the workflow run's plan-diff artifact)\n"
    return f"{MARKER}\n{body}"


def find_comment(github: GitHub, repo: str, pr: int) -> int | None:
    for page in range(1, 51):  # at most 5,000 comments
        comments = github.request("GET", f"/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}")
        for comment in comments:
            if comment.get("body", "").startswith(MARKER):
                return comment["id"]
        if len(comments) < 100:
            return None
    return None


class Refused(Exception):
    pass


def post(github: GitHub, repo: str, pr: int, body: str, head_sha: str | None = None) -> str:
    if not _REPO.match(repo) or pr <= 0:
        raise Refused(f"refusing repo {repo!r} / pull request {pr!r}")
    if head_sha is not None:
        actual = (github.request("GET", f"/repos/{repo}/pulls/{pr}").get("head") or {}).get("sha")
        if actual != head_sha:
            raise Refused(f"pull request {pr} is at {actual}, not at the planned commit {head_sha}")
    existing = find_comment(github, repo, pr)
    if existing is None:
        github.request("POST", f"/repos/{repo}/issues/{pr}/comments", {"body": with_marker(body)})
        return "created"
    github.request("PATCH", f"/repos/{repo}/issues/comments/{existing}", {"body": with_marker(body)})
    return "updated"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.pr_comment", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--pr", required=True, type=int)
    parser.add_argument("--body-file", required=True, type=Path)
    parser.add_argument("--head-sha", help="the commit that was planned; the pull request must be at it")
    parser.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    args = parser.parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN")
    if not token:
        print("GITHUB_TOKEN is not set", file=sys.stderr)
        return 2
    try:
        print(post(GitHub(args.api_url, token), args.repo, args.pr, args.body_file.read_text(), args.head_sha))
    except Refused as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
