"""`upgrade.maxUnavailableWorkers`: a per-tier default, a bounded whole number, refused with its key path."""

import json

import pytest

from components.settings import SettingsError, load_settings
from tests.helpers import raw_config

SECRET = {"k8s-platform:sshPrivateKey"}


@pytest.mark.parametrize("stack,expected", [("dev", 2), ("prod", 1)])
def test_the_default_depends_on_the_tier(stack, expected):
    assert load_settings(raw_config(stack), SECRET, stack).upgrade.max_unavailable_workers == expected


def test_a_set_value_is_used():
    config = {**raw_config("prod"), "k8s-platform:upgrade": json.dumps({"maxUnavailableWorkers": 5})}
    assert load_settings(config, SECRET, "prod").upgrade.max_unavailable_workers == 5


@pytest.mark.parametrize("value,message", [
    ({"maxUnavailableWorkers": 0}, "upgrade.maxUnavailableWorkers: must be at least 1 and at most 100, got 0"),
    ({"maxUnavailableWorkers": "2"}, "upgrade.maxUnavailableWorkers: must be a whole number"),
    ({"maxUnavailable": 2}, "upgrade.maxUnavailable"),
])
def test_bad_values_name_the_key_path(value, message):
    config = {**raw_config("prod"), "k8s-platform:upgrade": json.dumps(value)}
    with pytest.raises(SettingsError) as caught:
        load_settings(config, SECRET, "prod")
    assert message in str(caught.value)
