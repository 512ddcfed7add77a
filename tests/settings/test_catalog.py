"""The settings catalogue is what the readers read: every setting described once, every key a reader accepts
listed with one type, defaults as the code hands them to the readers, and the recording inert unless asked for."""

from __future__ import annotations

import pytest

from components import sizing
from components.host import CONTROL_PLANE, WORKER
from components.settings import catalog, load_settings
from components.settings.addons import ADDONS
from components.settings.certificates import RENEW_WITHIN_DAYS, RENEW_WITHIN_LIMITS
from components.settings.descriptions import DESCRIPTIONS
from components.settings.model import KNOWN_KEYS
from components.settings.upgrade import MAX_UNAVAILABLE_WORKERS
from tests.helpers import PRIVATE_KEY, raw_config
from tools import settings_catalog


@pytest.fixture(scope="module")
def entries():
    return {e.path: e for e in settings_catalog.entries()}


def test_every_setting_has_a_description_and_every_description_a_setting(entries):
    undescribed = sorted(set(entries) - set(DESCRIPTIONS))
    stale = sorted(set(DESCRIPTIONS) - set(entries))
    assert not undescribed and not stale, (
        f"settings without a description in components/settings/descriptions.py: {undescribed}; "
        f"descriptions of no setting the readers read: {stale}")


def test_every_top_level_key_and_every_key_a_reader_accepts_is_listed_and_read(entries):
    assert set(KNOWN_KEYS) <= set(entries), sorted(set(KNOWN_KEYS) - set(entries))
    assert {f"addons.{key}" for key in ADDONS} <= set(entries)
    mappings = [e for e in entries.values() if e.known]
    assert len(mappings) > 20, "the readers' mappings were noted"
    for mapping in mappings:
        for key in mapping.known:
            child = entries.get(f"{mapping.path}.{key}")
            assert child is not None and child.kind is not None, (
                f"{mapping.path}.{key} is accepted but no sample stack reached its reader "
                f"(tools/settings_catalog.py SAMPLES)")


def test_each_setting_has_one_type_and_no_default_copied_from_a_sample(entries):
    for path, entry in entries.items():
        assert len(entry.kinds) == 1, f"{path} is read as {entry.type}"
        assert catalog.DEPENDS not in entry.default, (
            f"{path}: {entry.default}; say where the default comes from (default_text= at its read)")


def test_descriptions_are_one_short_sentence_each():
    for path, text in DESCRIPTIONS.items():
        assert text.endswith(".") and ". " not in text and len(text) <= 130, path
        assert text[0].isupper() or text[0].isdigit() or text.startswith(("vCPU", "control-plane")), path


def test_defaults_and_bounds_are_the_ones_the_readers_use(entries):
    assert entries["upgrade.maxUnavailableWorkers"].default == "per tier: " + ", ".join(
        f"{tier} {MAX_UNAVAILABLE_WORKERS[tier]}" for tier in sizing.TIERS)
    for path, role in (("controlPlane.vcpu", CONTROL_PLANE), ("workerPools[].memoryGiB", WORKER)):
        field = "vcpu" if path.endswith("vcpu") else "memory_gib"
        assert entries[path].default == "per tier: " + ", ".join(
            f"{tier} {getattr(sizing.tier_minimum(tier, role), field)}" for tier in sizing.TIERS)
    within = entries["certificates.renewWithinDays"]
    assert (within.kind.minimum, within.kind.maximum) == RENEW_WITHIN_LIMITS
    assert within.value == RENEW_WITHIN_DAYS and within.default == str(RENEW_WITHIN_DAYS)
    assert entries["addons.etcdBackup.s3"].default == "aws: true; bareMetal: false"
    assert entries["tier"].kind == catalog.one_of(sizing.TIERS) and entries["tier"].default == "required"
    assert entries["workerPools[].maxCount"].default == "the pool's count"


def test_a_section_is_required_where_a_stack_without_it_is_refused(entries):
    required = {path for path, e in entries.items() if e.known and e.default == "required"}
    assert required == {"network", "access", "controlPlane", "inventory", "loadBalancer"}
    assert entries["inventory.bastion"].default == "optional"
    assert entries["inventory.bastion.address"].default == "required", "required once there is a bastion"
    assert entries["workerPools"].default == "required" and entries["workloads"].default == "[]"


def test_what_applies_where_follows_the_model_and_the_readers(entries):
    assert entries["sshPublicKey"].applies_to == ("aws",) and entries["sshPublicKey"].default == "required"
    assert entries["aws:region"].applies_to == ("aws",)
    assert entries["inventory.hosts[].address"].applies_to == ("bareMetal",)
    assert entries["network.zones"].applies_to == ("aws",), "read only in the AWS branch"
    assert entries["network.mtu"].applies_to == ("bareMetal",)
    assert entries["network.podCidr"].applies_to == ("aws", "bareMetal")


def test_list_indices_are_normalised():
    assert catalog.normalised("inventory.hosts[12].taints[0].key") == "inventory.hosts[].taints[].key"


def test_recording_is_off_unless_asked_and_changes_no_result():
    config = raw_config("metal")
    catalog.note("tier", catalog.TEXT, catalog.REQUIRED)  # no recorder: nothing to report to, nothing raised
    plain = load_settings(config, frozenset({PRIVATE_KEY}), "metal")
    with catalog.recording() as outer:
        with catalog.recording() as inner:
            recorded = load_settings(config, frozenset({PRIVATE_KEY}), "metal")
        catalog.note("tier", catalog.TEXT, catalog.REQUIRED)
    assert recorded == plain
    assert len(inner) > 50 and [n.path for n in outer] == ["tier"], "a recording ends with its block"
    catalog.note("tier", catalog.TEXT, catalog.REQUIRED)
    assert [n.path for n in outer] == ["tier"]


def _run(tier: str, notes, infrastructure: str = "aws") -> catalog.Run:
    return catalog.Run(infrastructure, tier, tuple(notes))


def test_merging_says_per_tier_per_infrastructure_and_when_a_sample_leaked_into_a_default():
    count = catalog.whole(1, 9)

    def merged(*runs):
        return {e.path: e for e in catalog.build(list(runs), ("lab", "prod"), ("a",), lambda p: None,
                                                 ("aws", "bareMetal"))}

    per_tier = merged(_run("lab", [catalog.Note("a", count, 3)]), _run("prod", [catalog.Note("a", count, 1)]))
    assert per_tier["a"].default == "per tier: lab 3, prod 1" and per_tier["a"].value is catalog.NO_VALUE
    per_infra = merged(_run("lab", [catalog.Note("a", count, 3)]),
                       _run("lab", [catalog.Note("a", count, 1)], "bareMetal"))
    assert per_infra["a"].default == "aws: 3; bareMetal: 1"
    leaked = merged(_run("lab", [catalog.Note("a", count, 3)]), _run("lab", [catalog.Note("a", count, 4)]))
    assert leaked["a"].default == f"{catalog.DEPENDS} (3 | 4)"
    unread = merged(_run("lab", [catalog.Note("a", catalog.MAPPING, known=("b",))]))
    assert unread["a.b"].kind is None and unread["a.b"].type == catalog.UNREAD
