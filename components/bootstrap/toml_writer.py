"""Writes nested Python data as TOML: tables, strings, booleans and integers (all containerd's config needs)."""

from __future__ import annotations

import re

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"unsupported TOML value: {value!r}")


def dumps(data: dict) -> str:
    lines: list[str] = []

    def table(path: list[str], content: dict) -> None:
        scalars = {k: v for k, v in content.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in content.items() if isinstance(v, dict)}
        if path and scalars:
            lines.append(f"[{'.'.join(_key(p) for p in path)}]")
        for key, value in scalars.items():
            lines.append(f"{'  ' if path else ''}{_key(key)} = {_value(value)}")
        if scalars:
            lines.append("")
        for key, value in tables.items():
            table(path + [key], value)

    table([], data)
    return "\n".join(lines).rstrip() + "\n"
