"""Reads a stack file's YAML the way the Pulumi CLI does, and refuses what the CLI could not hand a program.

The CLI parses stack files with Go's yaml.v3 (YAML 1.2): only true and false are booleans (`on`, `yes`, `off` are
strings), and a timestamp read into an untyped value stays a string. PyYAML's safe loader follows YAML 1.1, so this
loader narrows it to the same rules. What the CLI cannot pass on as JSON, or Python cannot read, is refused with its
key path: a mapping key that is not a string (a number, null, true), and an integer too long to be a setting.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# No setting needs more digits; Python refuses to convert past 4,300, and an int of thousands of digits is a typo.
MAX_INTEGER_DIGITS = 30


class StackYamlError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class OversizedInteger:
    """Stands where YAML holds an integer with more than MAX_INTEGER_DIGITS digits, until the tree is checked."""

    def __init__(self, digits: int):
        self.digits = digits


# libyaml's parser where PyYAML was built with it (about 15 times faster; the resolvers below are the same Python).
_BASE = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    pass


# YAML 1.2 booleans only: drop YAML 1.1's yes/no/on/off, and timestamps (yaml.v3 gives untyped targets a string).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:bool",
                                                                      "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _construct_int(loader: Any, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_INTEGER_DIGITS:
        return OversizedInteger(digits)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _path(parent: str, key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _problems(value: Any, path: str) -> list[str]:
    if isinstance(value, OversizedInteger):
        return [f"{path}: an integer of {value.digits} digits; no setting takes more than {MAX_INTEGER_DIGITS}"]
    found = []
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
    """The document, or StackYamlError listing every key path the CLI could not pass to the program."""
    document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    problems = _problems(document, "")
    if problems:
        raise StackYamlError(problems)
    return document
