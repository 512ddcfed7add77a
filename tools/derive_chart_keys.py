"""Derives the valid value key paths of every Helm chart we install, at its pinned version, into
tests/data/chart-keys/<chart>.json, so that tests can refuse a misspelled key without the charts at hand.

Sources (read only when this script runs, never by the tests):
- the shared chart-values folder: each chart's default values.yaml, the `.Values.*` references of its templates
  (keys that exist only as comments), and for tigera-operator the Installation CRD (the chart passes
  `installation.*` into its spec);
- for charts not in that folder, a local clone of the chart's repository at the release tag (`git show`).

Output per chart: "keys" (every path a value may set) and "open" (paths below which anything goes: maps that
default to {} and lists, CRD fields that preserve unknown fields). Paths are dotted; list items are not entered.

    python -m tools.derive_chart_keys --shared ../shared/chart-values --mirror traefik=DIR --mirror ebs=DIR \
        --mirror metrics-server=DIR

A mirror is the git directory of a chart repository's clone (a bare clone will do). `--only CHART` (repeatable)
derives just those charts; --shared is then needed only when one of them comes from the shared folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import yaml

from components import versions

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "chart-keys"

# chart -> (source, location): "shared:<folder>" or "mirror:<name>:<git ref>:<path of values.yaml>"
SOURCES = {
    "tigera-operator": "shared:tigera-operator",
    "kube-prometheus-stack": "shared:kube-prometheus-stack",
    "grafana": "shared:grafana",
    "kube-state-metrics": "shared:kube-state-metrics",
    "prometheus-node-exporter": "shared:prometheus-node-exporter",
    "harbor": "shared:harbor",
    "loki": "shared:loki",
    "fluent-bit": "shared:fluent-bit",
    "traefik": f"mirror:traefik:v{versions.CHARTS['traefik'].version}:traefik/values.yaml",
    "aws-ebs-csi-driver": (f"mirror:ebs:helm-chart-aws-ebs-csi-driver-{versions.CHARTS['aws-ebs-csi-driver'].version}"
                           f":charts/aws-ebs-csi-driver/values.yaml"),
    "metrics-server": (f"mirror:metrics-server:metrics-server-helm-chart-{versions.CHARTS['metrics-server'].version}"
                       f":charts/metrics-server/values.yaml"),
}


# Maps whose keys are the user's to choose, whatever their defaults show.
FREE_FORM = ("annotations", "labels", "nodeselector", "extraargs", "extraenv", "env")


def _free_form(prefix: str, value: dict) -> bool:
    last = prefix.rsplit(".", 1)[-1].lower()
    return (not value or last.endswith(FREE_FORM)
            or any("/" in str(k) or "." in str(k) for k in value))


def walk(value, prefix: str, keys: set[str], open_paths: set[str]) -> None:
    if isinstance(value, dict):
        if prefix and _free_form(prefix, value):
            open_paths.add(prefix)
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            keys.add(path)
            walk(child, path, keys, open_paths)
    elif isinstance(value, list) and prefix:
        open_paths.add(prefix)


def schema_walk(schema: dict, prefix: str, keys: set[str], open_paths: set[str]) -> None:
    if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("additionalProperties"):
        open_paths.add(prefix)
    if schema.get("type") == "array":
        open_paths.add(prefix)
    for key, child in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}"
        keys.add(path)
        schema_walk(child, path, keys, open_paths)


def template_refs(path: Path) -> set[str]:
    refs = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            refs.add(line)
    return refs


def derive_shared(folder: Path) -> tuple[set[str], set[str], str]:
    keys: set[str] = set()
    open_paths: set[str] = set()
    walk(yaml.safe_load((folder / "values.yaml").read_text()) or {}, "", keys, open_paths)
    refs = folder / "templates-values-refs.txt"
    if refs.exists():
        from_values = set(keys)
        found = template_refs(refs)
        for ref in found:
            parts = ref.split(".")
            keys.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        # A key the templates read but values.yaml only shows as a comment, with nothing read below it, is used
        # whole (`toYaml .Values.core.resources`): whatever it holds is the template's business.
        for ref in found - from_values:
            if not any(other.startswith(ref + ".") for other in keys):
                open_paths.add(ref)
    crd = folder / "operator.tigera.io_installations.yaml"
    if crd.exists():
        document = yaml.safe_load(crd.read_text())
        version = next(v for v in document["spec"]["versions"] if v.get("storage"))
        spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        schema_walk(spec, "installation", keys, open_paths)
    source = (folder / "SOURCE.txt").read_text()
    chart_version = next(line.split(":", 1)[1].strip() for line in source.splitlines()
                         if line.startswith("chart_yaml_version:"))
    ref = next(line.split(":", 1)[1].strip() for line in source.splitlines() if line.startswith("ref:"))
    return keys, open_paths, chart_version if chart_version not in ("v0.0", "") else ref


def derive_mirror(repo: Path, ref: str, path: str) -> tuple[set[str], set[str], str]:
    text = subprocess.run(["git", f"--git-dir={repo}", "show", f"{ref}:{path}"], check=True, capture_output=True,
                          text=True).stdout
    chart = subprocess.run(["git", f"--git-dir={repo}", "show", f"{ref}:{Path(path).parent / 'Chart.yaml'}"],
                           check=True, capture_output=True, text=True).stdout
    keys: set[str] = set()
    open_paths: set[str] = set()
    walk(yaml.safe_load(text) or {}, "", keys, open_paths)
    return keys, open_paths, str(yaml.safe_load(chart)["version"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, help="the shared chart-values folder")
    parser.add_argument("--mirror", action="append", default=[], help="NAME=GIT_DIR of a chart repository")
    parser.add_argument("--only", action="append", choices=sorted(SOURCES), help="derive only this chart")
    args = parser.parse_args()
    mirrors = dict(item.split("=", 1) for item in args.mirror)
    OUT.mkdir(parents=True, exist_ok=True)
    for chart, source in SOURCES.items():
        if args.only and chart not in args.only:
            continue
        kind, _, rest = source.partition(":")
        if kind == "shared" and args.shared is None:
            parser.error(f"{chart} comes from the shared chart-values folder: give --shared")
        if kind == "mirror" and rest.split(":", 1)[0] not in mirrors:
            parser.error(f"{chart} comes from a clone of its repository: give --mirror {rest.split(':', 1)[0]}=DIR")
        if kind == "shared":
            keys, open_paths, version = derive_shared(args.shared / rest)
        else:
            name, ref, path = rest.split(":", 2)
            keys, open_paths, version = derive_mirror(Path(mirrors[name]), ref, path)
        pinned = versions.CHARTS[chart].version if chart in versions.CHARTS else None
        if pinned is not None and pinned.lstrip("v") != version.lstrip("v"):
            raise SystemExit(f"{chart}: the source is version {version}, components/versions.py pins {pinned}")
        document = {"chart": chart, "version": version, "keys": sorted(keys), "open": sorted(open_paths)}
        (OUT / f"{chart}.json").write_text(json.dumps(document, indent=0, sort_keys=True) + "\n")
        print(f"{chart} {version}: {len(keys)} keys, {len(open_paths)} open")


if __name__ == "__main__":
    main()
