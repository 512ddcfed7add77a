"""What the settings readers read, recorded for the settings catalogue (`python -m tools.settings_print`). Pure.

Off unless `recording()` is active. While it is, every reader reports each key at the moment it reads it: the key
path, its kind (with bounds or choices), the default it was handed, and for a mapping every key it accepts. The
catalogue is so built from the very calls that validate a stack, and a setting a reader gains or loses shows up in
it without a second list to keep in step. `build` merges the notes of several loads (each infrastructure and tier)
into one entry per setting.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REQUIRED: Any = _Marker("REQUIRED")  # the default of a key that must be set (reader.py re-exports it)
NO_VALUE: Any = _Marker("NO_VALUE")  # an entry whose default is no one plain value
UNREAD = "unread"  # the kind of a key a mapping accepts but no load of the catalogue read
DEPENDS = "depends on other settings"  # a default that changed with settings that are neither tier nor infrastructure


@dataclass(frozen=True)
class Kind:
    name: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.choices:
            return f"{self.name} {', '.join(self.choices)}"
        if self.minimum is not None and self.maximum is not None:
            return f"{self.name}, {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"{self.name}, at least {self.minimum}"
        if self.maximum is not None:
            return f"{self.name}, at most {self.maximum}"
        return self.name


TEXT = Kind("string")
SECRET_TEXT = Kind("string, a secret")  # refused unless set with pulumi config set --secret
BOOLEAN = Kind("boolean")
STRINGS = Kind("list of strings")
STRING_MAP = Kind("mapping of strings to strings")
LIST = Kind("list")
MAPPING = Kind("mapping")


def whole(minimum: int | None = None, maximum: int | None = None) -> Kind:
    return Kind("whole number", minimum, maximum)


def one_of(choices: Iterable[str]) -> Kind:
    return Kind("one of", choices=tuple(choices))


@dataclass(frozen=True)
class Note:
    path: str  # list indices normalised: workerPools[0].count is workerPools[].count
    kind: Kind
    default: Any = None  # REQUIRED, None (nothing stands in), or what is used when the key is absent
    default_text: str | None = None  # the default in words, where another setting supplies it
    known: tuple[str, ...] = ()  # a mapping's keys
    absent: bool = False  # a mapping read while the stack does not hold it


_NOTES: ContextVar[list[Note] | None] = ContextVar("settings_catalog_notes", default=None)
_INDEX = re.compile(r"\[[0-9]+\]")


def normalised(path: str) -> str:
    return _INDEX.sub("[]", path)


@contextmanager
def recording() -> Iterator[list[Note]]:
    """Collects the notes of every read made inside the block (a context variable: other threads and tasks are
    not recorded)."""
    notes: list[Note] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def note(path: str, kind: Kind, default: Any, default_text: str | None = None) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.append(Note(normalised(path), kind, default, default_text))


def mapping(path: str, known: Iterable[str], absent: bool) -> None:
    notes = _NOTES.get()
    if notes is not None and path:  # path "": a holder for a top-level key, which is noted by its own read
        notes.append(Note(normalised(path), MAPPING, known=tuple(known), absent=absent))


@dataclass(frozen=True)
class Run:
    """The notes of one load. `probe`: a stack that holds no section, which tells which mappings are required."""

    infrastructure: str
    tier: str
    notes: tuple[Note, ...]
    probe: bool = False


@dataclass(frozen=True)
class Entry:
    path: str
    kind: Kind | None  # None: accepted but never read (see UNREAD)
    default: str  # in words: a value, "required", "not set", "per tier: ...", or what another setting supplies
    applies_to: tuple[str, ...]
    known: tuple[str, ...] = ()  # a mapping's keys
    kinds: tuple[Kind, ...] = field(default=(), compare=False)  # every kind noted, for the test that there is one
    value: Any = NO_VALUE  # the default itself, where it is one plain value on every tier and infrastructure

    @property
    def type(self) -> str:
        return UNREAD if self.kind is None else " or ".join(str(k) for k in self.kinds)


def shown_default(value: Any) -> str:
    if value is REQUIRED:
        return "required"
    if value is None:
        return "not set"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value)


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("[]") if path.endswith("[]") else -1)
    return path[:cut] if cut > 0 else ""


def _segments(path: str) -> list[str]:
    return [part for part in re.split(r"\.|(\[\])", path) if part]


def _merged(by_infra: dict[str, dict[str, str]], tiers: tuple[str, ...]) -> str:
    """One text for the defaults seen per infrastructure and tier: a value, "per tier: ...", or per infrastructure."""
    def per_tier(values: dict[str, str]) -> str:
        if len(set(values.values())) == 1:
            return next(iter(values.values()))
        return "per tier: " + ", ".join(f"{t} {values[t]}" for t in tiers if t in values)
    texts = {infra: per_tier(values) for infra, values in by_infra.items()}
    if len(set(texts.values())) == 1:
        return next(iter(texts.values()))
    return "; ".join(f"{infra}: {text}" for infra, text in texts.items())


def build(runs: list[Run], tiers: tuple[str, ...], top_level: tuple[str, ...], owner: Any,
          scope: tuple[str, ...]) -> list[Entry]:
    """One entry per setting any run noted, or any noted mapping accepts, that applies to an infrastructure of
    `scope`, its default as the runs of those show it. `top_level`: the order of the top-level keys; `owner(path)`:
    the one infrastructure a setting belongs to, or None (then: wherever it was read)."""
    notes: dict[str, list[tuple[Run, Note]]] = {}
    for run in runs:
        for n in run.notes:
            notes.setdefault(n.path, []).append((run, n))
    known: dict[str, list[str]] = {}  # every mapping's keys, in the order its readers list them
    for path, seen in notes.items():
        for _, n in seen:
            if n.kind == MAPPING:
                keys = known.setdefault(path, [])
                keys += [k for k in n.known if k not in keys]
    paths = list(notes)
    for path, keys in known.items():
        paths += [f"{path}.{key}" for key in keys if f"{path}.{key}" not in notes]

    def order(path: str) -> tuple:
        key, prefix = [], ""
        for part in _segments(path):
            keys = known.get(prefix) if prefix else list(top_level)
            index = -1 if part == "[]" else (keys.index(part) if keys and part in keys else len(keys or ()))
            key.append(index)
            prefix = f"{prefix}{part}" if part == "[]" else (f"{prefix}.{part}" if prefix else part)
        return tuple(key), paths.index(path)

    entries = []
    for path in sorted(set(paths), key=order):
        seen = notes.get(path) or notes.get(_parent(path), [])
        applies = (owner(path),) if owner(path) else tuple(dict.fromkeys(run.infrastructure for run, _ in seen))
        if not set(applies) & set(scope):
            continue
        if path not in notes:
            entries.append(Entry(path, None, "", applies))
            continue
        kinds = tuple(dict.fromkeys(n.kind for _, n in seen))
        # Defaults as the infrastructures it applies to see them (sshPublicKey is required on AWS; that bare metal
        # would take it empty does not matter, bare metal refuses it).
        own = [run for run in runs if run.infrastructure in applies and run.infrastructure in scope]
        entries.append(Entry(path, kinds[0], _default(path, own, tiers, known), applies,
                             tuple(known.get(path, ())), kinds, _value(path, own)))
    return entries


def _value(path: str, runs: list[Run]) -> Any:
    read = [n for run in runs if not run.probe for n in run.notes if n.path == path and n.kind != MAPPING]
    if not read or any(n.default_text for n in read) or len({repr(n.default) for n in read}) != 1:
        return NO_VALUE
    return NO_VALUE if read[0].default is REQUIRED or read[0].default is None else read[0].default


def _refused_without(path: str, notes: tuple[Note, ...]) -> bool:
    """Whether a stack without the mapping is refused: it was read as absent, or read as empty and a key of it is
    required."""
    read = [n for n in notes if n.path == path]
    return any(n.absent for n in read) or (bool(read) and any(
        _parent(n.path) == path and n.default is REQUIRED for n in notes))


def _default(path: str, runs: list[Run], tiers: tuple[str, ...], known: dict[str, list[str]]) -> str:
    if path in known:  # a mapping: required where a stack without it is refused for it (the probe runs show it)
        if path.endswith("[]"):
            return "-"  # an item of a list: the list says whether there must be one
        texts: dict[str, dict[str, str]] = {}
        for run in runs:
            if any(n.path == path for n in run.notes):
                texts.setdefault(run.infrastructure, {"": "optional"})
            if run.probe and _refused_without(path, run.notes):
                texts[run.infrastructure] = {"": "required"}
        return _merged(texts, ("",))
    by_infra: dict[str, dict[str, set[str]]] = {}
    for run in runs:
        if not run.probe:
            texts = {n.default_text or shown_default(n.default) for n in run.notes if n.path == path}
            if texts:
                by_infra.setdefault(run.infrastructure, {}).setdefault(run.tier, set()).update(texts)
    flat: dict[str, dict[str, str]] = {}
    for infra, per_tier in by_infra.items():
        for tier, texts in per_tier.items():
            flat.setdefault(infra, {})[tier] = (next(iter(texts)) if len(texts) == 1
                                                else f"{DEPENDS} ({' | '.join(sorted(texts))})")
    return _merged(flat, tiers)
