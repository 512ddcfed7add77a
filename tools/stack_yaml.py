"""Reads a stack file's YAML exactly as the Pulumi CLI does, and refuses what the CLI refuses or cannot hand a program.

The CLI parses stack files with Go's gopkg.in/yaml.v3 into untyped values. PyYAML's safe loader follows YAML 1.1,
so this loader replaces its rules for plain scalars with yaml.v3's (`resolve` in its resolve.go, v3.0.1):
- only true/True/TRUE and false/False/FALSE are booleans (`on`, `yes`, `off`, `y` are strings); `~`, `null`, `Null`,
  `NULL` and nothing are null; `.inf`, `-.inf`, `.nan` (and their capitalised spellings) are floats;
- a scalar that starts with a digit or a sign is an integer if Go's strconv.ParseInt (base 0) reads it with every
  `_` removed: `017` is octal 15, `0o17` and `0O17` too, `0x1F`, `0b101`, `1_000`; an integer past int64 but within
  uint64 is still one; otherwise a float if it is written as one (`1e3`, `08`, `1.`, an integer too big for 64 bits),
  unless it overflows; anything else is a string: `1:30` (YAML 1.1's base 60 is gone), `0x`, `1e999`;
- a timestamp (`2001-12-14`, `2001-12-14 21:59:43`, `2001-12-14T21:59:43Z`, as Go's time.Parse reads yaml.v3's
  four layouts) is a time, which the CLI hands the program in Go's notation ("2001-12-14 00:00:00 +0000 UTC"): no
  setting takes one, so it is refused with its key path (quoted, it is a string).
`tests/settings/test_real_parsers.py` holds these rules to yaml.v3 itself (engine/settings-check) on generated input.

Refused with its key path, as the CLI refuses them: a mapping key written twice (yaml.v3 compares the keys' text:
`1` and `"1"` are the same key), with both line numbers. Refused because the CLI cannot pass them to a program as
JSON, or because no setting can take them: a key that is not a string, a NaN or an infinity, a timestamp.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT64_MAX = (1 << 64) - 1
# Go's strconv.ParseInt with base 0 (underscores already removed): a sign, then a prefixed or plain number.
_GO_INT = re.compile(r"(?P<sign>[-+]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|0[bB](?P<bin>[01]+)|0[oO](?P<oct>[0-7]+)"
                     r"|0(?P<legacy_oct>[0-7]*)|(?P<dec>[1-9][0-9]*))")
# yaml.v3's yamlStyleFloat: what it hands to strconv.ParseFloat.
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NAMED = {**{s: True for s in ("true", "True", "TRUE")}, **{s: False for s in ("false", "False", "FALSE")},
          **{s: None for s in ("", "~", "null", "Null", "NULL")},
          **{s: math.nan for s in (".nan", ".NaN", ".NAN")},
          **{s: math.inf for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
          **{s: -math.inf for s in ("-.inf", "-.Inf", "-.INF")}}
_HINTS = {**dict.fromkeys("+-", "sign"), **dict.fromkeys("0123456789", "digit"),
          **dict.fromkeys("yYnNtTfFoO~", "named"), ".": "dot"}


# yaml.v3's timestamp layouts (2006-1-2T15:4:5.999999999Z07:00, with a lower-case t too; 2006-1-2 15:4:5.999999999;
# 2006-1-2), as Go's time.Parse reads them: one or two digits for month, day, hour, minute and second, at most nine
# for the fraction (which Parse also takes after the seconds of a layout without one).
_TIMESTAMP = re.compile(r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
                        r"(?:(?P<sep>[Tt ])(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):(?P<s>[0-9]{1,2})(?P<frac>\.[0-9]{1,9})?"
                        r"(?P<zone>Z|[-+][0-9]{2}:[0-9]{2})?)?")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Timestamp(str):
    """A plain scalar yaml.v3 reads as a time (kept as its text until the tree is checked)."""


def _is_timestamp(text: str) -> bool:
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        return False
    if match["sep"] and (match["sep"] == " ") == bool(match["zone"]):
        return False  # the space-separated layout has no zone, the T layouts require one
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    if not 1 <= month <= 12 or not 1 <= day <= _MONTH_DAYS[month - 1]:
        return False
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return False
    if match["sep"] and (int(match["h"]) > 23 or int(match["mi"]) > 59 or int(match["s"]) > 59):
        return False
    zone = match["zone"]
    return not zone or zone == "Z" or (int(zone[1:3]) <= 23 and int(zone[4:6]) <= 59)


class StackYamlError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def go_int(text: str) -> int | None:
    """What strconv.ParseInt(text, 0, 64), then ParseUint, reads from `text` (underscores removed), or None."""
    match = _GO_INT.fullmatch(text)
    if not match:
        return None
    for group, base in (("hex", 16), ("bin", 2), ("oct", 8), ("legacy_oct", 8), ("dec", 10)):
        digits = match[group]
        if digits is not None:
            break
    significant = digits.lstrip("0")
    if len(significant) > 64:  # past 64 bits in any base; int() of thousands of digits is refused by Python
        return None
    value = int(significant or "0", base) * (-1 if match["sign"] == "-" else 1)
    if _INT64[0] <= value <= _INT64[1]:
        return value
    return value if not match["sign"] and value <= _UINT64_MAX else None  # ParseUint takes no sign


def resolve_plain(text: str) -> Any:
    """The value yaml.v3 gives a plain (unquoted, untagged) scalar decoded into an untyped Go value."""
    if text in _NAMED:
        return _NAMED[text]
    hint = _HINTS.get(text[0])
    if hint == "dot":
        if _GO_FLOAT.fullmatch(text) and not math.isinf(value := float(text)):
            return value
    elif hint in ("sign", "digit"):
        if _is_timestamp(text):
            return Timestamp(text)
        plain = text.replace("_", "")
        as_int = go_int(plain)
        if as_int is not None:
            return as_int
        if _GO_FLOAT.fullmatch(plain) and not math.isinf(value := float(plain)):  # Go: ErrRange, left a string
            return value
    return text


_TAGS = {bool: "tag:yaml.org,2002:bool", type(None): "tag:yaml.org,2002:null", int: "tag:yaml.org,2002:int",
         float: "tag:yaml.org,2002:float", str: "tag:yaml.org,2002:str", Timestamp: "tag:yaml.org,2002:timestamp"}

# libyaml's parser where PyYAML was built with it (about 15 times faster; the resolver below is the same Python).
_BASE = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _TAGS[type(resolve_plain(value))]
        return super().resolve(kind, value, implicit)


def _construct_plain(loader: Any, node: yaml.ScalarNode) -> Any:
    return resolve_plain(loader.construct_scalar(node))


for _tag in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
             "tag:yaml.org,2002:timestamp"):
    _Loader.add_constructor(_tag, _construct_plain)


def _path(parent: str, key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _duplicate_keys(node: Any, path: str) -> list[str]:
    """Keys written twice in one mapping, as yaml.v3 finds them (same kind of node, same text)."""
    found = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[type, str], int] = {}  # (kind of node, text) -> the line of its first copy
        for key, item in node.value:
            text = key.value if isinstance(key, yaml.ScalarNode) else ""
            line = key.start_mark.line + 1
            if (type(key), text) in seen:
                found.append(f"{_path(path, text)}: written twice (lines {seen[(type(key), text)]} and {line}); the "
                             "Pulumi CLI refuses a stack file with a key written twice in one mapping")
            seen.setdefault((type(key), text), line)
            found += _duplicate_keys(item, _path(path, text))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, f"{path}[{index}]")
    return found


def _problems(value: Any, path: str) -> list[str]:
    found = []
    if isinstance(value, float) and not math.isfinite(value):
        found.append(f"{path}: {value} cannot be handed to the program (the CLI passes settings as JSON, which has no "
                     "NaN or infinity)")
    if isinstance(value, Timestamp):
        found.append(f"{path}: {str(value)!r} is read as a date and time by the Pulumi CLI, which hands the program "
                     "Go's notation of it; quote it if it is meant as text")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                shown = "null" if key is None else str(key).lower() if isinstance(key, bool) else repr(key)
                found.append(f"{path}: the key {shown} is not a string; quote it (\"{shown}\":) or rename it")
                continue
            found += _problems(item, _path(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _problems(item, f"{path}[{index}]")
    return found


def load_stack_yaml(text: str) -> Any:
    """The document, or StackYamlError listing every key path the CLI would refuse or could not pass on."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicates = _duplicate_keys(node, "")
        if duplicates:
            raise StackYamlError(duplicates)
        document = loader.construct_document(node)
    finally:
        loader.dispose()
    problems = _problems(document, "")
    if problems:
        raise StackYamlError(problems)
    return document
