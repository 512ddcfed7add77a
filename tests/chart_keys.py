"""Checks Helm values against the key paths derived from each chart at its pinned version (tests/data/chart-keys,
made by tools/derive_chart_keys.py). A key is valid when its full path is a key of the chart, or when a path above
it is open (a map that defaults to {}, a list, a CRD field that keeps unknown fields)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "chart-keys"
# Values under these top-level keys go to a subchart, checked against that chart's own keys.
SUBCHARTS = {"kube-prometheus-stack": {"grafana": "grafana", "kube-state-metrics": "kube-state-metrics",
                                       "prometheus-node-exporter": "prometheus-node-exporter"}}


@lru_cache(maxsize=None)
def chart(name: str) -> tuple[str, frozenset[str], frozenset[str]]:
    document = json.loads((DATA / f"{name}.json").read_text())
    return document["version"], frozenset(document["keys"]), frozenset(document["open"])


def unknown_keys(name: str, values: dict, prefix: str = "") -> list[str]:
    _, keys, open_paths = chart(name)
    unknown = []

    def visit(value, path: str) -> None:
        if prefix == "" and "." not in path and path in SUBCHARTS.get(name, {}):
            # The parent chart reads some keys under a subchart's name itself (kube-prometheus-stack's
            # grafana.additionalDataSources): a key is valid when either chart knows it.
            for key, child in value.items():
                own = unknown_keys(name, {path: {key: child}}, prefix="subchart")
                if own:
                    sub = unknown_keys(SUBCHARTS[name][path], {key: child})
                    unknown.extend(f"{path}.{k}" for k in sub)
            return
        parts = path.split(".")
        if any(".".join(parts[:i]) in open_paths for i in range(1, len(parts))):
            return
        if path not in keys:
            unknown.append(path)
            return
        if isinstance(value, dict) and path not in open_paths:
            for key, child in value.items():
                visit(child, f"{path}.{key}")

    for key, value in values.items():
        visit(value, key)
    return sorted(unknown)
