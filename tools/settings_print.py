"""Every setting with its type, default, the infrastructures it applies to and what it does.

    python -m tools.settings_print [--infrastructure aws|bareMetal] [--format text|yaml|markdown]

docs/settings-reference.md is this command's markdown (a test keeps the two equal).

Types, bounds, choices and defaults come from the readers that validate a stack (tools/settings_catalog.py), the
sentences from components/settings/descriptions.py, so the list cannot drift from what `pulumi up` accepts.
"required": the stack must set it; "not set": it may be left out and no value stands in (the description says
what happens then); a path with [] is an item of a list (workerPools[].count is every pool's count).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

import yaml  # noqa: E402

from components.settings.catalog import NO_VALUE, Entry  # noqa: E402
from components.settings.model import INFRASTRUCTURES  # noqa: E402
from tools.settings_catalog import description, entries  # noqa: E402


def as_record(entry: Entry) -> dict[str, Any]:
    """One setting as the YAML format gives it: bounds, choices and a mapping's keys as fields of their own."""
    record: dict[str, Any] = {"path": entry.path, "type": entry.kind.name if entry.kind else entry.type}
    if entry.kind is not None:
        for name in ("minimum", "maximum"):
            if getattr(entry.kind, name) is not None:
                record[name] = getattr(entry.kind, name)
        if entry.kind.choices:
            record["choices"] = list(entry.kind.choices)
    if entry.known:
        record["keys"] = list(entry.known)
    # The default itself where it is one plain value (110, true), so a reader of the YAML gets it typed.
    record["default"] = entry.default if entry.value is NO_VALUE else entry.value
    record.update(appliesTo=list(entry.applies_to), description=description(entry.path))
    return record


def render_text(found: list[Entry], infrastructures: tuple[str, ...]) -> str:
    lines = [f"Settings of k8s-platform on {' and '.join(infrastructures)}, from the readers that validate them.",
             "required: the stack must set it; not set: it may be left out; [] stands for every item of a list.", ""]
    for entry in found:
        lines += [entry.path,
                  f"  type:        {entry.type}",
                  f"  default:     {entry.default}",
                  f"  applies to:  {', '.join(entry.applies_to)}",
                  f"  description: {description(entry.path)}",
                  ""]
    return "\n".join(lines)


def render_yaml(found: list[Entry]) -> str:
    return yaml.safe_dump([as_record(e) for e in found], sort_keys=False, allow_unicode=True, width=120)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(found: list[Entry], infrastructures: tuple[str, ...]) -> str:
    lines = ["# Settings reference", "",
             "Every setting of a stack, generated from the readers that validate it (`python -m tools.settings_print "
             "--format markdown > docs/settings-reference.md`; a test keeps this page equal to its output). "
             "*required*: the stack must set it; *not set*: it may be left out; `[]` stands for every item of a "
             "list. Keys are written in the stack file under the project's namespace (`k8s-platform:tier`).", "",
             "| setting | type | default | applies to | what it does |", "|---|---|---|---|---|"]
    for entry in found:
        lines.append(f"| `{_cell(entry.path)}` | {_cell(entry.type)} | {_cell(entry.default)} | "
                     f"{_cell(', '.join(entry.applies_to))} | {_cell(description(entry.path))} |")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "yaml": lambda found, _: render_yaml(found), "markdown": render_markdown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.settings_print", description=__doc__.split("\n\n")[0])
    parser.add_argument("--infrastructure", choices=INFRASTRUCTURES,
                        help="only the settings of this infrastructure, with its defaults (default: both)")
    parser.add_argument("--format", choices=tuple(RENDERERS), default="text", dest="output_format")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    infrastructures = (args.infrastructure,) if args.infrastructure else INFRASTRUCTURES
    found = entries(infrastructures)
    sys.stdout.write(RENDERERS[args.output_format](found, infrastructures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
