"""Strict readers for structured settings that collect every problem with its key path.

Each reader returns the value it could read, or None after recording why not, so one pass reports everything.
Types are exact: a number written as a string, or a boolean written as "true", is refused with a hint.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable

from components.settings import catalog
from components.settings.catalog import REQUIRED

MAX_STRING = 2048  # no setting read here is longer (PEM texts are read by web_tls.py)


def shown(value: Any, limit: int = 60) -> str:
    """A value as messages quote it: repr, cut short (a setting can be pasted garbage of any length)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'" + f" ({len(str(value))} characters)"


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f"a string ({shown(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    if len(word) > 100:  # difflib is quadratic; no setting name is that long
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class Reader:
    """Reads one mapping at `path`, checking that every key it holds is known.

    Each read reports itself to the settings catalogue (catalog.py; a no-op unless it is recording). `default_text`
    says in words what a default is where another setting supplies it (the catalogue would otherwise show the one
    value it happened to see); it changes nothing that is read.
    """

    def __init__(self, value: Any, path: str, problems: Problems, known: Iterable[str]):
        self.path = path
        self.problems = problems
        self.known = tuple(known)
        self.ok = isinstance(value, dict)
        self.data: dict[str, Any] = value if self.ok else {}
        catalog.mapping(path, self.known, absent=value is None)
        if not self.ok:
            problems.add(path, "is required" if value is None else f"must be a mapping, got {_type_name(value)}")
            return
        for key in sorted(self.data, key=str):
            if not isinstance(key, str):
                problems.add(join(path, str(key)), "a key must be a string; quote it")
            elif key not in self.known:
                problems.add(
                    join(path, key),
                    f"unknown key{did_you_mean(key, self.known)} (known keys: {', '.join(self.known)})",
                )

    def _note(self, key: str, kind: catalog.Kind, default: Any, default_text: str | None) -> None:
        catalog.note(join(self.path, key), kind, default, default_text)

    def _get(self, key: str, default: Any) -> tuple[bool, Any]:
        assert key in self.known, key
        if key in self.data and self.data[key] is not None:
            return True, self.data[key]
        if default is REQUIRED:
            if self.ok:
                self.problems.add(join(self.path, key), "is required")
            return False, None
        return False, default

    def _refuse(self, key: str, expected: str, value: Any, hint: str = "") -> None:
        self.problems.add(join(self.path, key), f"must be {expected}, got {_type_name(value)}{hint}")

    def integer(self, key: str, default: Any = REQUIRED, minimum: int | None = None, maximum: int | None = None,
                default_text: str | None = None):
        self._note(key, catalog.whole(minimum, maximum), default, default_text)
        present, value = self._get(key, default)
        if not present:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            hint = "; write the number without quotes" if isinstance(value, str) and value.strip().isdigit() else ""
            self._refuse(key, "a whole number", value, hint)
            return None
        return self._bounded(key, value, minimum, maximum)

    def _bounded(self, key: str, value: int, minimum: int | None, maximum: int | None):
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = "" if minimum is None else f"at least {minimum}"
            high = "" if maximum is None else f"at most {maximum}"
            self.problems.add(join(self.path, key), f"must be {' and '.join(p for p in (low, high) if p)}, got {value}")
            return None
        return value

    def string(self, key: str, default: Any = REQUIRED, default_text: str | None = None):
        self._note(key, catalog.TEXT, default, default_text)
        return self._text(key, default)

    def _text(self, key: str, default: Any):
        present, value = self._get(key, default)
        if not present:
            return value
        if not isinstance(value, str):
            self._refuse(key, "a string", value, "; quote it" if isinstance(value, (int, float)) else "")
            return None
        if not value.strip():
            self.problems.add(join(self.path, key), "must not be empty")
            return None
        if len(value) > MAX_STRING:
            self.problems.add(join(self.path, key), f"must be at most {MAX_STRING} characters, got {len(value)}")
            return None
        return value

    def boolean(self, key: str, default: Any = REQUIRED):
        self._note(key, catalog.BOOLEAN, default, None)
        present, value = self._get(key, default)
        if not present:
            return value
        if not isinstance(value, bool):
            hint = ("; write true or false without quotes" if str(value).lower() in ("true", "false") else
                    "; the Pulumi CLI reads YAML 1.2, where yes, no, on and off are text: write true or false"
                    if str(value).lower() in ("yes", "no", "on", "off", "y", "n") else "")
            self._refuse(key, "true or false", value, hint)
            return None
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = REQUIRED):
        self._note(key, catalog.one_of(choices), default, None)
        value = self._text(key, default)
        if value is None or value in choices:
            return value
        self.problems.add(
            join(self.path, key), f"must be one of {', '.join(choices)}, got {shown(value)}{did_you_mean(value, choices)}"
        )
        return None

    def raw(self, key: str, default: Any = REQUIRED, kind: catalog.Kind | None = None):
        """The value as it is. `kind`: what the caller reads it as, for the catalogue; without one this is a look
        (is the key there?), or the value goes to a reader of its own (a nested mapping), which notes itself."""
        if kind is not None:
            self._note(key, kind, default, None)
        return self._get(key, default)[1]

    def string_list(self, key: str, default: Any = REQUIRED) -> list[str] | None:
        self._note(key, catalog.STRINGS, default, None)
        present, value = self._get(key, default)
        if not present:
            return value
        if not isinstance(value, list):
            self._refuse(key, "a list of strings", value)
            return None
        result = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.problems.add(join(join(self.path, key), index), f"must be a string, got {_type_name(item)}")
            else:
                result.append(item)
        return result if len(result) == len(value) else None

    def string_map(self, key: str, default: Any = REQUIRED) -> dict[str, str] | None:
        self._note(key, catalog.STRING_MAP, default, None)
        present, value = self._get(key, default)
        if not present:
            return value
        if not isinstance(value, dict):
            self._refuse(key, "a mapping of strings to strings", value)
            return None
        bad = False
        for name in sorted(value, key=str):
            if not isinstance(name, str):
                self.problems.add(join(join(self.path, key), str(name)), "a key must be a string; quote it")
                bad = True
            elif not isinstance(value[name], str):
                self.problems.add(join(join(self.path, key), name), f"must be a string, got {_type_name(value[name])}")
                bad = True
        return None if bad else dict(value)

    def list_of(self, key: str, default: Any = REQUIRED) -> list[tuple[str, Any]] | None:
        """The items of a list with their key paths, for the caller to read one by one."""
        self._note(key, catalog.LIST, default, None)
        present, value = self._get(key, default)
        if not present:
            return None if value is None else [(join(join(self.path, key), i), v) for i, v in enumerate(value)]
        if not isinstance(value, list):
            self._refuse(key, "a list", value)
            return None
        return [(join(join(self.path, key), i), item) for i, item in enumerate(value)]
