"""The layout holds: every module imports only its own layer, the layers below it and the seams (components/
__init__.py draws the map), the pure modules import no Pulumi, and no Python file grows past 350 lines."""

from __future__ import annotations

import ast

import pytest

from tests.helpers import ROOT

MAX_LINES = 350
SEAMS = {"components.host", "components.versions", "components.sizing"}
# What each layer may import of the program besides itself and the seams.
BELOW = {
    "components.settings": set(),
    "components.remote": set(),
    "components.aws": {"components.settings"},
    "components.baremetal": {"components.settings", "components.remote"},
    "components.bootstrap": {"components.settings", "components.remote"},
    "components.addons": {"components.settings", "components.remote", "components.bootstrap"},
}
# Seams with an allowance of their own: the one that composes the infrastructure, and the policy pack's records.
SEAM_ALLOWED = {
    "components.sizing": set(),
    "components.versions": set(),
    "components.host": {"components.sizing"},
    "components.stack_config": set(),
    "components.node_records": {"components.settings", "components.host"},
    "components.infrastructure": {"components.settings", "components.host", "components.aws", "components.baremetal",
                                  "components.bootstrap", "components.node_records"},
}
PURE_LAYERS = ("components.settings", "components.sizing", "components.host", "components.versions")


def imported_modules(module: str, source: str) -> set[str]:
    """Every module an import statement names, `from components import x` counted as components.x."""
    found = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            # A name imported from a package may be a module of it: count both, ownership is by prefix.
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def _owner(name: str, roots) -> str | None:
    return next((r for r in sorted(roots, key=len, reverse=True) if name == r or name.startswith(r + ".")), None)


def layer_violations(module: str, source: str) -> list[str]:
    """What `module` imports that its layer may not: program modules outside its allowance, or Pulumi where the
    module is pure (the settings, sizing and host seams, and every add-on's values.py)."""
    imports = imported_modules(module, source)
    layer = _owner(module, BELOW)
    if layer is not None:
        allowed = BELOW[layer] | {layer} | SEAMS
    else:
        allowed = SEAM_ALLOWED.get(module, set()) | {module}
    problems = []
    for name in sorted(imports):
        if not name.startswith("components.") or name == "components":
            continue
        if _owner(name, allowed) is None:
            problems.append(f"{module} imports {name}")
    pure = _owner(module, PURE_LAYERS) is not None or module.endswith(".values")
    for name in sorted(imports):
        if pure and (name == "pulumi" or name.startswith(("pulumi.", "pulumi_"))):
            problems.append(f"{module} is pure but imports {name}")
    return problems


def program_modules() -> list[tuple[str, str]]:
    modules = []
    for path in sorted((ROOT / "components").rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        modules.append((".".join(parts), path.read_text()))
    return modules


def test_every_module_imports_only_what_its_layer_may():
    modules = program_modules()
    assert len(modules) > 50, "the walk found the program"
    homeless = [m for m, _ in modules if m != "components" and _owner(m, BELOW) is None and m not in SEAM_ALLOWED]
    assert not homeless, f"modules outside every layer: give each a layer, or list it as a seam: {homeless}"
    problems = [p for module, source in modules for p in layer_violations(module, source)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module,source,expected", [
    ("components.aws.network", "from components.bootstrap import node_config\n",
     "components.aws.network imports components.bootstrap.node_config"),
    ("components.aws.network", "from components import bootstrap\n", "components.aws.network imports components.bootstrap"),
    ("components.bootstrap.x", "from components.baremetal.hosts import inventory_hosts\n",
     "components.bootstrap.x imports components.baremetal.hosts"),
    ("components.baremetal.x", "from components.aws import tags\n", "components.baremetal.x imports components.aws.tags"),
    ("components.addons.calico.component", "from components.aws.backup_bucket import BackupBucket\n",
     "components.addons.calico.component imports components.aws.backup_bucket"),
    ("components.settings.load", "from components.settings import model\nfrom ..aws import tags\n",
     "components.settings.load imports components.aws.tags"),
    ("components.settings.load", "import pulumi\n", "components.settings.load is pure but imports pulumi"),
    ("components.addons.harbor.values", "import pulumi_kubernetes as k8s\n",
     "components.addons.harbor.values is pure but imports pulumi_kubernetes"),
    ("components.host", "from components.settings import Settings\n", "components.host imports components.settings"),
])
def test_the_check_catches_an_import_against_the_flow(module, source, expected):
    assert expected in layer_violations(module, source)


def test_the_check_accepts_imports_with_the_flow():
    assert not layer_violations("components.addons.monitoring.values", "from components.bootstrap import node_config\n")
    assert not layer_violations("components.baremetal.vip_configs", "from components.remote import host_scripts\n")
    assert not layer_violations("components.infrastructure", "from components.aws.infrastructure import X\n")


def test_no_python_file_is_over_350_lines():
    skipped = {".venv", "venv", "node_modules", ".git", ".engine-tools", "plan-out", "plan-diff"}
    files = [p for p in ROOT.rglob("*.py") if not skipped & set(p.relative_to(ROOT).parts)]
    assert len(files) > 80, "the walk found the project's files"
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines (split by job): {long}"
