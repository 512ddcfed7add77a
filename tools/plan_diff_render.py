"""How a plan diff (tools/plan_diff.py) reads: in the terminal, and as a pull-request comment section in markdown.
Pure: no Pulumi."""

from __future__ import annotations

import difflib
import json
from typing import Any

from tools.plan_diff import SECRET, Change, PlanDiff, ResourceDiff

SYMBOL = {"add": "+", "remove": "-", "replace": "+-", "update": "~", "ignored": "="}
FOLD_ROWS = 20
MAX_TEXT_DIFF_LINES = 60


def _short(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def _change_line(c: Change) -> str:
    if c.secret:
        return f"`{c.path}`: {SECRET} (changed)"
    tag = " **forces replacement**" if c.replaces else (" (ignored: ignoreChanges)" if c.ignored else "")
    if isinstance(c.old, str) and isinstance(c.new, str) and ("\n" in c.old or "\n" in c.new):
        return f"`{c.path}`: text changed{tag}"
    return f"`{c.path}`: `{_short(c.old)}` → `{_short(c.new)}`{tag}"


def _text_diffs(d: ResourceDiff) -> list[str]:
    blocks = []
    for c in d.changes:
        if c.secret or not (isinstance(c.old, str) and isinstance(c.new, str) and ("\n" in c.old or "\n" in c.new)):
            continue
        lines = list(difflib.unified_diff(c.old.splitlines(), c.new.splitlines(), "before", "after", n=1,
                                          lineterm=""))
        if len(lines) > MAX_TEXT_DIFF_LINES:
            lines = lines[:MAX_TEXT_DIFF_LINES] + [f"... {len(lines) - MAX_TEXT_DIFF_LINES} more lines"]
        blocks.append(f"`{d.resource['name']}` `{c.path}`:\n\n```diff\n" + "\n".join(lines) + "\n```\n")
    return blocks


def summary(d: PlanDiff) -> str:
    return (f"{d.count('add')} to add, {d.count('replace')} to replace, {d.count('update')} to update, "
            f"{d.count('remove')} to remove, {d.unchanged} unchanged")


def credential_note(d: PlanDiff) -> str | None:
    """One sentence for every host step whose only change is its SSH connection."""
    count = sum(1 for r in d.resources if r.credential_only)
    if not count:
        return None
    return (f"The SSH connection changed (the private key set as a secret, or the user or port): {count} host "
            f"step(s) run again over it, each idempotent; their scripts did not change and no machine is replaced. "
            f"If only the plan's machine changed (a key set locally, a placeholder in CI), `pulumi up` runs them "
            f"again with the same key")


def _plain(markdown_line: str) -> str:
    return markdown_line.replace("**", "").replace("`", "")


def render_text(d: PlanDiff) -> str:
    if d.empty:
        return f"{d.stack}: no changes: the plans are identical\n"
    lines = [f"{d.stack}: {summary(d)}"] + ([f"  REFUSED: {d.version_refused}"] if d.version_refused else [])
    lines += [f"  {_plain(line)}" for line in d.upgrade if line]
    note = credential_note(d)
    if note:
        lines.append(f"  {note}:")
        lines += [f"    ~ {r.resource['name']}" for r in d.resources if r.credential_only]
    for r in d.resources:
        if r.credential_only:
            continue
        lines.append(f"  {SYMBOL[r.action]:2} {r.resource['type']} {r.resource['name']}")
        lines += [f"       {_change_line(c)}" for c in r.changes]
        if r.consequence:
            lines.append(f"       {'DANGER: ' if r.dangerous else ''}{r.consequence}")
    for v in d.violations_added:
        lines.append(f"  new violation [{v['level']}] {v['policy']}: {v['resource']}: {v['message']}")
    for v in d.violations_removed:
        lines.append(f"  fixed violation [{v['level']}] {v['policy']}: {v['resource']}: {v['message']}")
    return "\n".join(lines) + "\n"


def _fold(summary_text: str, body: list[str], always: bool = False) -> list[str]:
    if not body:
        return []
    if always or len(body) > FOLD_ROWS:
        return [f"<details><summary>{summary_text}</summary>", "", *body, "", "</details>", ""]
    return [f"**{summary_text}**", "", *body, ""]


def render_markdown(d: PlanDiff, title: str | None = None) -> str:
    head = f"### {title or 'Plan diff'}: `{d.stack}`"
    if d.empty:
        return f"{head}\n\nNo changes: the plans are identical.\n"
    out = [head, "", f"**{summary(d)}**", ""]
    if d.version_refused:
        out += [f":x: **Version change refused**: {d.version_refused}", ""]
    out += d.upgrade
    note = credential_note(d)
    if note:
        out += [f"**{note}.**", ""]
    attention = [r for r in d.resources if r.dangerous]
    if attention:
        out += ["**Needs attention**", ""] + [f"- :warning: {r.consequence}" for r in attention] + [""]
    mandatory = [v for v in d.violations_added if v["level"] == "mandatory"]
    if d.violations_added:
        out += [f"**Policy violations this change adds** ({len(mandatory)} mandatory)", ""]
        out += [f"- `{v['policy']}` ({v['level']}) on `{v['resource']}`: {v['message']}" for v in d.violations_added]
        out.append("")
    if d.violations_removed:
        out += ["**Policy violations this change fixes**", ""]
        out += [f"- `{v['policy']}` ({v['level']}) on `{v['resource']}`: {v['message']}"
                for v in d.violations_removed] + [""]
    rows = ["| | resource | type | what changes |", "|---|---|---|---|"]
    for r in d.resources:
        if r.credential_only:
            rows.append(f"| `~` | `{r.resource['name']}` | `{r.resource['type']}` | the SSH connection only |")
            continue
        what = "; ".join(_change_line(c) for c in r.changes) or ("new" if r.action == "add" else "deleted"
                                                                  if r.action == "remove" else "")
        if r.consequence and not r.dangerous:
            what += f" ({r.consequence})"
        cell = what.replace("|", "\\|")
        rows.append(f"| `{SYMBOL[r.action]}` | `{r.resource['name']}` | `{r.resource['type']}` | {cell} |")
    out += _fold(f"Resources ({len(d.resources)})", rows)
    texts = [block for r in d.resources for block in _text_diffs(r)]
    out += _fold(f"Changed scripts and documents ({len(texts)})", texts, always=True)
    return "\n".join(out).rstrip() + "\n"
