"""Checks a generated config document against the derived field lists: every key must be a real field."""

from __future__ import annotations

import json
from pathlib import Path

FIELDS = json.loads((Path(__file__).parent / "data" / "kube-config-fields.json").read_text())
SCALARS = {"string", "int", "bool", "float", "duration", "any"}


def unknown_fields(document: dict, api_version: str | None = None, kind: str | None = None) -> list[str]:
    """Key paths in `document` that its kind does not have (empty when every key is known)."""
    api_version = api_version or document["apiVersion"]
    kind = kind or document["kind"]
    group = FIELDS[api_version]
    problems: list[str] = []
    _check(document, group["kinds"][kind], group, kind, problems)
    return problems


def _check_value(value, type_name: str, group: dict, path: str, problems: list[str]) -> None:
    if type_name in SCALARS or type_name.startswith("map["):
        return
    if type_name.startswith("[]"):
        if not isinstance(value, list):
            problems.append(f"{path} (expected a list)")
            return
        for index, item in enumerate(value):
            _check_value(item, type_name[2:], group, f"{path}[{index}]", problems)
        return
    fields = group["types"].get(type_name)
    if fields is None:
        return  # a type the field lists do not describe (e.g. from another API group): nothing to check against
    if not isinstance(value, dict):
        problems.append(f"{path} (expected an object of type {type_name})")
        return
    _check(value, fields, group, path, problems)


def _check(value: dict, fields: dict[str, str], group: dict, path: str, problems: list[str]) -> None:
    for key, item in value.items():
        child = f"{path}.{key}"
        if key not in fields:
            problems.append(child)
        else:
            _check_value(item, fields[key], group, child, problems)
