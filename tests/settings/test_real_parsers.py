"""The settings layer judged by the parsers that read the same values after it (engine/settings-check, built with
the engine tools): gopkg.in/yaml.v3 as the Pulumi CLI reads a stack file, robfig/cron/v3's standard parser as the
API server validates a CronJob's schedule and its controller runs it, apimachinery's RFC 1123 checks as the API
server checks a Node's name. Generated values per class; on every one the settings layer must agree with the real
parser: accepted exactly when it accepts (and read as the same value), refused with the key path otherwise."""

from __future__ import annotations

import json
import math
import struct
import subprocess

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.settings.cron import schedule_problem
from components.settings.inventory import MAX_HOST_NAME
from components.settings.rules import is_dns_label
from tests.engine.harness import TOOLS, ensure_engine_tools
from tools.stack_yaml import StackYamlError, load_stack_yaml

pytestmark = pytest.mark.engine
CHECKS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class SettingsCheck:
    """One settings-check process for the module, asked one JSON line at a time."""

    def __init__(self):
        self.process = subprocess.Popen([str(TOOLS / "bin" / "settings-check")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def ask(self, kind: str, value: str) -> dict:
        self.process.stdin.write(json.dumps({"kind": kind, "value": value}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def real():
    ensure_engine_tools()
    check = SettingsCheck()
    yield check
    check.close()


# --- the stack file, as yaml.v3 reads it ---------------------------------------------------------------------------

def tagged(value) -> dict:
    """Our loader's value in settings-check's notation (each scalar with its type; floats as their bits)."""
    if value is None:
        return {"null": True}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": str(struct.unpack("<Q", struct.pack("<d", value))[0])}
    if isinstance(value, str):
        return {"str": str(value)}
    if isinstance(value, list):
        return {"seq": [tagged(item) for item in value]}
    return {"map": [[key, tagged(value[key])] for key in sorted(value)]}


def go_float_is_finite(answer_value) -> bool:
    """Whether every float in settings-check's tree is finite (JSON, and so the CLI, carries no NaN or infinity)."""
    if "float" in answer_value:
        return math.isfinite(struct.unpack("<d", struct.pack("<Q", int(answer_value["float"])))[0])
    children = answer_value.get("seq") or [item for _, item in answer_value.get("map") or []]
    return all(go_float_is_finite(child) for child in children)


SPELLINGS = ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "true", "True", "TRUE", "tRue", "false", "~",
             "null", "Null", "NULL", "nULL", ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", "inf", "nan",
             "1:30", "190:20:30", "017", "0o17", "0O17", "0x1F", "0X1f", "-0x1F", "0b101", "0B101", "-0b101", "08",
             "09", "1_000", "_1", "1_", "1__0", "1e3", "1E3", "1.0e3", "1.5e+3", ".5", "5.", "+5", "-0", "0", "00",
             "0x", "0o", "0b", "1e999", "-1e999", "1e-400", "9223372036854775807", "9223372036854775808",
             "18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
             "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "2001-02-29", "2000-02-29",
             "2001-13-01", "2001-1-1", "2001-12-14T21:59:43Z", "2001-12-14T25:00:00Z", "12:30:45", "0.", "-.5",
             "+.5", "._5", "1.2.3", "0x_1F", "0_x1F", "+0o17", "-0o17", "0o8", "1e", "e1", "+", "."]
_NUMBERISH = st.text(alphabet="0123456789+-._eExXoObBaAfF", min_size=1, max_size=14).filter(lambda t: t != "-")
_DATES = st.builds(lambda y, mo, d, rest: f"{y:04d}-{mo}-{d}{rest}", st.integers(0, 9999), st.integers(0, 13),
                   st.integers(0, 32), st.sampled_from(["", "T10:20:30Z", "t1:2:3.5+01:00", " 23:59:59",
                                                        " 23:59:59.123456789", "T24:00:00Z", " 1:2:3Z"]))
SCALARS = st.one_of(st.sampled_from(SPELLINGS), _NUMBERISH, _DATES)


def stack_text(scalar: str) -> str:
    return f"config:\n  k8s-platform:setting: {scalar}\n  k8s-platform:nested:\n    - {{value: {scalar}}}\n"


@CHECKS
@given(scalar=SCALARS)
@example(scalar="1:30")
@example(scalar="0o17")
@example(scalar="2001-12-14")
def test_a_plain_scalar_reads_as_yaml_v3_reads_it_or_is_refused_with_its_path_when_the_cli_cannot_pass_it(real,
                                                                                                          scalar):
    text = stack_text(scalar)
    go = real.ask("yaml", text)
    if not go["ok"]:  # not YAML to yaml.v3 (a lone sign, say): not to us either
        with pytest.raises((yaml.YAMLError, StackYamlError)):
            load_stack_yaml(text)
        return
    refusable = '"other"' in json.dumps(go["value"]) or not go_float_is_finite(go["value"])
    try:
        ours = load_stack_yaml(text)
    except StackYamlError as error:
        assert refusable, f"{scalar!r} refused ({error}) though yaml.v3 reads it as {go['value']}"
        assert all(problem.startswith("config.k8s-platform:") for problem in error.problems), error.problems
        return
    assert not refusable, f"{scalar!r}: yaml.v3 reads a time or a NaN/infinity, which the CLI cannot pass; accepted"
    assert tagged(ours) == go["value"], scalar


KEYS = st.sampled_from(["a", "'a'", '"a"', "b", "1", "'1'", "01", "count", "k8s-platform:x", "true", "null", "~"])


@st.composite
def mappings(draw, depth: int = 0) -> list[str]:
    """The lines of a block mapping (at indentation 2 * depth) with keys drawn from a small set, so that keys
    repeat, nested mappings included."""
    lines = []
    for key in draw(st.lists(KEYS, min_size=1, max_size=4)):
        if depth < 2 and draw(st.booleans()):
            lines.append(f"{'  ' * depth}{key}:")
            lines += draw(mappings(depth + 1))
        else:
            lines.append(f"{'  ' * depth}{key}: {draw(st.sampled_from(['1', 'x', 'yes', '2.5']))}")
    return lines


@CHECKS
@given(lines=mappings())
@example(lines=["controlPlane:", "  count: 1", "  count: 7"])
@example(lines=["a:", "  1: x", "  '1': y"])
@example(lines=["x: {a: 1, a: 2}"])  # both copies on one line
def test_a_key_written_twice_is_refused_where_yaml_v3_refuses_it_with_its_path_and_both_lines(real, lines):
    text = "config:\n" + "".join(f"  {line}\n" for line in lines)
    go = real.ask("yaml", text)
    try:
        load_stack_yaml(text)
    except StackYamlError as error:
        ours = error.problems
    else:
        ours = []
    twice = [problem for problem in ours if "written twice" in problem]
    go_twice = [line.strip() for e in go.get("errors", []) for line in e.splitlines() if "already defined" in line]
    assert bool(twice) == bool(go_twice), (text, go, ours)
    # yaml.v3 says "line 4: mapping key "count" already defined at line 3" and stops at the outermost mapping with
    # one; we say "config.controlPlane.count: written twice (lines 3 and 4)" for every mapping (one run, every problem).
    # yaml.v3 names every pair of copies; we name each later copy with the first one.
    lines_of_ours = dict(tuple(int(n) for n in p.split("(lines ")[1].split(")")[0].split(" and "))[::-1]
                         for p in twice)
    for said in go_twice:
        second, first = int(said.split(":")[0].removeprefix("line ")), int(said.rsplit(" ", 1)[1])
        assert second in lines_of_ours and lines_of_ours[second] <= first, (said, twice)
    assert all(problem.startswith("config.") for problem in twice), twice
    if go["ok"]:
        non_string_keys = "nonStringKeys" in json.dumps(go["value"])
        assert bool(ours) == non_string_keys, (text, ours)


# --- schedules, as a CronJob takes them ----------------------------------------------------------------------------

_NAMES = ["jan", "FEB", "Mar", "dec", "sun", "MON", "sat", "thu", "xyz", "ja"]
_ATOMS = st.one_of(st.sampled_from(["*", "?", ""]), st.integers(-1, 62).map(str), st.sampled_from(_NAMES),
                   st.sampled_from(["+5", "05", "1x"]))


@st.composite
def cron_items(draw) -> str:
    start = draw(_ATOMS)
    item = start if not draw(st.booleans()) else f"{start}-{draw(_ATOMS)}"
    if draw(st.integers(0, 3)) == 0:
        item += f"/{draw(st.sampled_from(['0', '1', '2', '7', '-1', '', 'x']))}"
    return item


_FIELDS = st.lists(cron_items(), min_size=1, max_size=3).map(",".join)
_SCHEDULES = st.one_of(
    st.lists(_FIELDS, min_size=4, max_size=6).map(" ".join),
    st.sampled_from(["@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@Daily",
                     "@every 5m", "@every 1h30m", "@every 0", "@every -1s", "@every 1.5h", "@every 5", "@every ",
                     "@every 9999999h", "@reboot", "@ daily", "", "TZ=UTC", "TZ=UTC 0 * * * *",
                     "CRON_TZ=Europe/Paris 0 0 * * *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 29 2 *",
                     "0 0 30 2 mon", "0 0 30 2 ?", "0 0 30 2 */1", "0 0 30 2 */2", "0 0 , * *", "0 , * * *",
                     "0\t0 * * *", "0 0 * * *\n", " 0 0 * * *", "0 0 1-31 2 1", "0 0 ? ? ?"]))


@CHECKS
@given(schedule=_SCHEDULES)
def test_a_schedule_is_accepted_exactly_when_a_cronjob_takes_it_and_would_run_it(real, schedule):
    go = real.ask("cron", schedule)
    ours = schedule_problem(schedule)
    if not go["ok"]:
        assert ours, f"{schedule!r} accepted, but the API server refuses it: {go['errors']}"
    elif not go["fires"]:
        assert "never fires" in ours, f"{schedule!r}: the controller would never run it; ours: {ours!r}"
    else:
        assert ours == "", f"{schedule!r} refused ({ours}), but a CronJob takes and runs it"


# --- names, as Kubernetes checks a Node's ---------------------------------------------------------------------------

_NAME_TEXT = st.text(alphabet="abz09-.A_", min_size=0, max_size=70)


@CHECKS
@given(name=st.one_of(_NAME_TEXT, st.sampled_from(["1node", "0", "node-1", "-node", "node-", "n" * 40, "n" * 41,
                                                   "a.b", "Node", "9" * 40])))
def test_a_host_name_is_accepted_exactly_when_it_is_a_kubernetes_node_name_of_one_label_and_40_characters(real,
                                                                                                        name):
    go = real.ask("nodeName", name)
    ours = is_dns_label(name, MAX_HOST_NAME)
    assert ours == (go["label"] and len(name) <= MAX_HOST_NAME), (name, go)
    if ours:
        assert go["ok"], f"{name!r} accepted, but the API server refuses it as a Node's name: {go['errors']}"
