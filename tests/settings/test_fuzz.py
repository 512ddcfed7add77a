"""Property-based fuzzing of the stack-file reader and the settings loader.

Stack files are generated from the shipped ones: valid variations (names, counts, sizes, CIDRs drawn from what the
settings accept), and mutations (a value anywhere in the tree replaced by a hostile one, a key removed or added, a
list item repeated, a key YAML reads as a boolean, number, null or date). Each goes through YAML on disk, the
offline reader (tools/stack_file.py) and `load_settings`, the path the program's config takes. Properties:
- a valid file loads, and what would become resource names is unique (no two resources can share a URN);
- an invalid file is refused with StackFileError or SettingsError, every problem carrying its key path;
- nothing else is ever raised.
Examples it found are kept in REGRESSIONS and run every time.
"""

from __future__ import annotations

import copy
import datetime
import re
import ipaddress
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from components.settings import PROJECT, SettingsError
from tests.helpers import settings_from_stack_text, stack_document
from tools.stack_file import StackFileError

STACKS = ("dev", "prod", "metal")
NS = f"{PROJECT}:"
CASES = 2000  # mutated files per run (and a fifth as many valid ones); each takes 10 to 20 ms
# CI replays the same generated cases on every run (a red build is then a change's fault, never the dice's); a
# developer's run draws new ones each time.
IN_CI = os.environ.get("CI") == "true"
HUGE_INT = "9" * 5000
DUMPER = yaml.CSafeDumper if getattr(yaml, "__with_libyaml__", False) else yaml.SafeDumper

HOSTILE = [
    None, True, False, 0, -1, 1, 3, 65536, 2 ** 63, "__HUGE_INT__", 1.5, float("inf"), "", " ", "x\n", "a" * 300, "A",
    "\u0661.\u0663\u0665.\u0661", "1.035.4", "1.35.04", "0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8",
    "127.0.0.1", "0.0.0.0", "224.0.0.1", "169.254.1.1", "255.255.255.255", "203.0.113.0", "203.0.113.255",
    "ssh-ed25519 AAAA", "$(reboot)", "ubuntu;reboot", "aws:cost", "node-role.kubernetes.io/worker",
    "kubernetes.io/hostname", "a/" + "b" * 70, "x" * 64, "* * * * *", "61 * * * *", "not a cron",
    datetime.date(2026, 1, 1), [], {}, ["a", "a"], [None], {"x": None}, {"on": True},
]


def base_document(stack: str) -> dict:
    """The shipped stack with the optional settings it leaves out filled in, so that mutations reach them too."""
    document = stack_document(stack)
    config = document["config"]
    addons = config.setdefault(NS + "addons", {})
    addons.update({"etcdBackup": {"schedule": "15 */6 * * *", "keep": 12},
                   "monitoring": {"retention": "15d", "storageGiB": 50}})
    if stack == "metal":
        worker = next(h for h in config[NS + "inventory"]["hosts"] if "worker" in h["roles"])
        worker.update(labels={"example.com/disk": "ssd"}, pool="fast", sshPort=2222, sshUser="ops",
                      taints=[{"key": "example.com/dedicated", "value": "db", "effect": "NoSchedule"}])
    else:
        config[NS + "tags"] = {"team": "platform", "cost-center": "42"}
        config[NS + "workerPools"][0].update(labels={"example.com/disk": "ssd"}, taints=[
            {"key": "example.com/dedicated", "value": "db", "effect": "NoSchedule"}])
    return document


def _nodes(tree, path=()):
    """Every (path, value) in a document tree, the root included."""
    yield path, tree
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _nodes(value, path + (key,))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _nodes(value, path + (index,))


def _set(tree, path, value):
    for step in path[:-1]:
        tree = tree[step]
    tree[path[-1]] = value


def _parent(tree, path):
    for step in path[:-1]:
        tree = tree[step]
    return tree


def mutate(document: dict, pick: int, operation: str, value) -> dict:
    doc = copy.deepcopy(document)
    nodes = [p for p, _ in _nodes(doc["config"]) if p]
    path = ("config",) + nodes[pick % len(nodes)]
    parent = _parent(doc, path)
    if operation == "replace":
        _set(doc, path, copy.deepcopy(value))
    elif operation == "remove":
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    elif operation == "repeat" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[path[-1]]))
    elif operation == "add-key":
        target = _parent(doc, path + ("x",))
        if isinstance(target, dict):
            hashable = isinstance(value, (str, int, bool, datetime.date)) or value is None
            target[value if hashable and value != "__HUGE_INT__" else "extra"] = 1
    return doc


def load(document: dict, tmp: Path, stack: str):
    # sort_keys off: a mapping with keys of several types cannot be sorted, and YAML keeps them as written.
    text = yaml.dump(document, Dumper=DUMPER, sort_keys=False, allow_unicode=True)
    # An integer of thousands of digits: Python refuses to print one, so it is written into the text.
    return settings_from_stack_text(tmp, text.replace("__HUGE_INT__", HUGE_INT), stack)


def assert_refused_properly(document: dict, tmp: Path, stack: str) -> None:
    try:
        load(document, tmp, stack)
    except SettingsError as error:
        assert error.problems and all(p.path and p.message for p in error.problems), error
    except StackFileError as error:
        # A key path; or, for text that is not YAML at all, the line and column where the parser stopped.
        message = str(error)
        assert "config." in message or "config'" in message or re.search(r"line \d+, column \d+", message), error


def assert_unique_names(s) -> None:
    pools = [p.name for p in s.pools]
    assert len(pools) == len(set(pools)), pools
    hosts = [h.name for h in s.inventory]
    assert len(hosts) == len(set(hosts)), hosts
    assert len({h.address for h in s.inventory}) == len(s.inventory)
    if s.access is not None:
        for cidrs in (s.access.ssh_allowed_cidrs, s.access.api_allowed_cidrs):
            assert len(set(cidrs)) == len(cidrs), cidrs
    assert len(set(s.network.zones)) == len(s.network.zones)
    assert len({t.key + t.effect for p in s.pools for t in p.taints}) <= sum(len(p.taints) for p in s.pools)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("stack", STACKS)
def test_the_fuzzers_base_documents_are_valid(workdir, stack):
    s = load(base_document(stack), workdir, stack)
    assert s.addons.etcd_backup_schedule == "15 */6 * * *"


@settings(max_examples=CASES, deadline=None, derandomize=IN_CI, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stack=st.sampled_from(STACKS), pick=st.integers(0, 10_000),
       operation=st.sampled_from(["replace", "replace", "replace", "remove", "repeat", "add-key"]),
       value=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12), st.integers(-10, 10 ** 6)))
def test_mutated_stack_files_are_refused_with_key_paths_or_load(workdir, stack, pick, operation, value):
    document = mutate(base_document(stack), pick, operation, value)
    try:
        s = load(document, workdir, stack)
    except (SettingsError, StackFileError):
        assert_refused_properly(document, workdir, stack)
        return
    assert_unique_names(s)


DNS_LABELS = st.from_regex(r"\A[a-z][a-z0-9]{0,10}\Z")


@settings(max_examples=CASES // 5, deadline=None, derandomize=IN_CI, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stack=st.sampled_from(STACKS), cluster=DNS_LABELS, pool=DNS_LABELS, workers=st.integers(2, 40),
       extra_cidr=st.integers(0, 255))
def test_valid_variations_load_with_unique_names(workdir, stack, cluster, pool, workers, extra_cidr):
    document = stack_document(stack)
    config = document["config"]
    config[NS + "clusterName"] = cluster
    if stack == "metal":
        hosts = [h for h in config[NS + "inventory"]["hosts"] if "worker" not in h["roles"]]
        template = next(h for h in config[NS + "inventory"]["hosts"] if "worker" in h["roles"])
        hosts += [{**template, "name": f"{pool}-{i}", "address": f"203.0.113.{100 + i}"} for i in range(workers)]
        config[NS + "inventory"]["hosts"] = hosts
    else:
        config[NS + "workerPools"][0].update(name=pool if pool not in ("cp", "api") else "w" + pool, count=workers,
                                             maxCount=max(workers, config[NS + "workerPools"][0].get("maxCount", 0)))
        extra = str(ipaddress.IPv4Network(f"203.0.113.{extra_cidr}/32"))
        access = config[NS + "access"]
        access["apiAllowedCidrs"] = sorted(set(access["apiAllowedCidrs"]) | {extra})
    s = load(document, workdir, stack)
    assert s.cluster_name == cluster
    assert_unique_names(s)
    assert s.max_node_count >= workers


# Examples the fuzzer found (stack, operation, path in the config, value): each crashed or was accepted before.
REGRESSIONS = [
    ("dev", "replace", (NS + "network", "zones", 0), datetime.date(2026, 1, 1)),
    ("prod", "replace", (NS + "workerPools", 0, "count"), "__HUGE_INT__"),
]


@pytest.mark.parametrize("stack,operation,path,value", REGRESSIONS)
def test_regressions_found_by_the_fuzzer(workdir, stack, operation, path, value):
    document = stack_document(stack)
    target = document["config"]
    for step in path[:-1]:
        target = target[step]
    if operation == "replace":
        target[path[-1]] = value
    with pytest.raises((SettingsError, StackFileError)):
        load(document, workdir, stack)
    assert_refused_properly(document, workdir, stack)
