"""The README and docs/: a short README that maps every page, a settings reference equal to the catalogue, tables
that render as tables, links that lead somewhere, and commands that name things that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.settings.model import INFRASTRUCTURES
from tests.helpers import ROOT
from tools.settings_catalog import entries
from tools.settings_print import render_markdown

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 200


def prose(path: Path) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def cells(row: str) -> int:
    """The cells of a table row: pipes that are not escaped and not inside inline code split it."""
    text = re.sub(r"`[^`]*`", "code", row.strip()).replace("\\|", "")
    return len(text.strip("|").split("|"))


def test_the_readme_is_short_and_maps_every_page_of_the_docs():
    text = README.read_text()
    assert len(text.splitlines()) < README_MAX_LINES
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", text))
    assert linked == {page.name for page in DOCS}, "every page in the map, and nothing else"


def test_the_settings_reference_is_what_the_catalogue_prints():
    generated = render_markdown(entries(INFRASTRUCTURES), INFRASTRUCTURES)
    assert (ROOT / "docs" / "settings-reference.md").read_text() == generated, \
        "run: python -m tools.settings_print --format markdown > docs/settings-reference.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_table_renders_as_a_table(page):
    lines = prose(page)
    for index, (number, line) in enumerate(lines):
        if not line.startswith("|"):
            continue
        previous = lines[index - 1][1] if index else ""
        if previous.startswith("|"):
            continue
        # A table starts here: a header, then a delimiter row with as many cells; every row as many again.
        assert index + 1 < len(lines) and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[index + 1][1].strip()), \
            f"{page.name}:{number}: a row without a header and delimiter (a blank line inside a table?)"
        width = cells(line)
        for row_number, row in lines[index:]:
            if not row.startswith("|"):
                break
            assert cells(row) == width, f"{page.name}:{row_number}: {cells(row)} cells, the header has {width}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_local_link_leads_to_a_file_and_heading_that_exist(page):
    text = page.read_text()
    for target, anchor in re.findall(r"\]\((?!https?:)([^)#\s]*)(?:#([^)\s]+))?\)", text):
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name}: link to {target}"
        if anchor and path.suffix == ".md":
            headings = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                        for h in re.findall(r"^#+ (.+)$", path.read_text(), re.MULTILINE)}
            assert anchor in headings, f"{page.name}: #{anchor} is no heading of {path.name}"


# What a command in the docs may name: a module run with -m, a script, a file of the repository.
MODULE = re.compile(r"python3? -m ((?:tools|tests)(?:\.\w+)+)")
SCRIPT = re.compile(r"bash ((?:scripts|\.ci)/[\w.-]+)")
PATH = re.compile(r"(?<![\w/.<-])((?:components|tests|tools|scripts|engine|policies|docs)/[\w./-]*[\w])")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_and_path_in_the_docs_names_something_that_exists(page):
    text = page.read_text()
    missing = []
    for module in MODULE.findall(text):
        if not ((ROOT / module.replace(".", "/")).with_suffix(".py").exists()
                or (ROOT / module.replace(".", "/") / "__main__.py").exists()):
            missing.append(f"python -m {module}")
    missing += [f"bash {s}" for s in SCRIPT.findall(text) if not (ROOT / s).exists()]
    for path in PATH.findall(text):
        if "<" in path or "*" in path:
            continue
        if not (ROOT / path).exists() and not list(ROOT.glob(path + "*")):
            missing.append(path)
    stacks = set(re.findall(r"\bPulumi\.(dev|lab|prod|metal)\.yaml", text))
    missing += [f"Pulumi.{s}.yaml" for s in stacks if not (ROOT / f"Pulumi.{s}.yaml").exists()]
    assert missing == [], f"{page.name} names what does not exist: {sorted(set(missing))}"
