"""Cron schedules as a Kubernetes CronJob takes them. Pure.

The API server validates `spec.schedule` with github.com/robfig/cron/v3's standard parser (`cron.ParseStandard`,
v3.0.1) and refuses any "TZ" in it (pkg/apis/batch/validation, validateScheduleFormat: the `timeZone` field says
that); the CronJob controller runs it with the same parser. This module follows that parser rule for rule (written
from reading its parser.go and spec.go, not copied), so that a schedule is accepted here exactly when the cluster
accepts it (tests/settings/test_real_parsers.py holds the two together on generated schedules), and adds one rule
the cluster lacks: a schedule that never fires (30 February, a field listing nothing) is refused, since the
controller would only report an InvalidSchedule event and no backup would ever run.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class _Field:
    what: str
    low: int
    high: int
    names: dict[str, int]


# minute, hour, day of month, month, day of week: robfig's bounds (day of week 0-6: 7 is refused).
FIELDS = (_Field("minute", 0, 59, {}), _Field("hour", 0, 23, {}), _Field("day of month", 1, 31, {}),
          _Field("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTHS)}),
          _Field("day of week", 0, 6, {name: i for i, name in enumerate(_DAYS)}))
_STAR = 1 << 63  # robfig's starBit: the field was * or ? (matters for how days of month and week combine)
# Go's strings.Fields splits on unicode.IsSpace; Python's str.split also splits on \x1c-\x1f, which Go does not.
_GO_SPACE = re.compile("[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_ATOI = re.compile(r"[-+]?[0-9]+")
# Go's time.ParseDuration, for @every: numbers (a fraction allowed) each with a unit, or a bare 0.
_DURATION = re.compile(r"[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_NANOSECONDS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
                "h": 3600 * 10**9}
# Where the fires-ever check starts; the controller (robfig's Next) looks at most 5 years ahead.
_ORIGIN = datetime.date(2026, 1, 1)


class CronError(ValueError):
    pass


def _atoi(text: str) -> int:
    """strconv.Atoi, then robfig's mustParseInt: no negative numbers."""
    if not _ATOI.fullmatch(text) or len(text.lstrip("+-").lstrip("0")) > 19:
        raise CronError(f"failed to parse int from {text!r}")
    number = int(text)
    if number < 0:
        raise CronError(f"negative number ({number}) not allowed: {text}")
    return number


def _int_or_name(text: str, field: _Field) -> int:
    return field.names[text.lower()] if text.lower() in field.names else _atoi(text)


def _range_bits(expr: str, field: _Field) -> int:
    """robfig's getRange: `*` or `?`, N, N-M, each optionally /STEP (N/STEP runs to the field's maximum)."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    extra = 0
    if low_and_high[0] in ("*", "?"):
        start, end, extra = field.low, field.high, _STAR
    else:
        start = _int_or_name(low_and_high[0], field)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], field)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if len(low_and_high) == 1:
            end = field.high
        if step > 1:
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < field.low:
        raise CronError(f"beginning of range ({start}) below minimum ({field.low}): {expr}")
    if end > field.high:
        raise CronError(f"end of range ({end}) above maximum ({field.high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return sum(1 << value for value in range(start, end + 1, step)) | extra


def _field_bits(text: str, field: _Field) -> int:
    bits = 0
    for part in (p for p in text.split(",") if p):  # strings.FieldsFunc drops empty parts: "," lists nothing
        try:
            bits |= _range_bits(part, field)
        except CronError as error:
            raise CronError(f"the {field.what} field: {error}") from None
    return bits


def _duration_problem(text: str) -> str:
    if not _DURATION.fullmatch(text):
        return f"failed to parse duration {text}: invalid duration {text!r}"
    total = sum(float(number) * _NANOSECONDS[unit] for number, unit in _DURATION_PART.findall(text))
    return f"failed to parse duration {text}: invalid duration {text!r}" if total > 2**63 - 1 else ""


def _fires(bits: list[int]) -> bool:
    """Whether robfig's Next finds a time within its 5 years: every field lists something, and some day of a listed
    month matches (day of month AND day of week when either was * or ?, else either one)."""
    minute, hour, dom, month, dow = bits
    if not (minute & ~_STAR and hour & ~_STAR):
        return False
    both = bool(dom & _STAR or dow & _STAR)
    day = _ORIGIN
    while day.year <= _ORIGIN.year + 5:
        if month >> day.month & 1:
            dom_match, dow_match = bool(dom >> day.day & 1), bool(dow >> (day.isoweekday() % 7) & 1)
            if (dom_match and dow_match) if both else (dom_match or dow_match):
                return True
        day += datetime.timedelta(days=1)
    return False


def schedule_problem(schedule: str) -> str:
    """Why a CronJob cannot take `schedule` or would never run it, or ""."""
    if "TZ" in schedule:
        return "cannot hold TZ or CRON_TZ (Kubernetes takes a time zone in the CronJob's timeZone field only)"
    if not schedule:
        return "is empty"
    if schedule.startswith("@"):
        if schedule in DESCRIPTORS:
            return ""
        if schedule.startswith("@every "):
            return _duration_problem(schedule[len("@every "):])
        return f"unrecognized descriptor: {schedule}"
    fields = [f for f in _GO_SPACE.split(schedule) if f]
    if len(fields) != 5:
        return f"expected exactly 5 fields (minute, hour, day of month, month, day of week), found {len(fields)}"
    try:
        bits = [_field_bits(text, field) for text, field in zip(fields, FIELDS)]
    except CronError as error:
        return str(error)
    if not _fires(bits):
        return "never fires: no time matches it (a day that no listed month has, or a field that lists nothing)"
    return ""
