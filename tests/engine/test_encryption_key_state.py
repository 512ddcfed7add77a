"""Real `pulumi up` and the key that encrypts Secrets at rest: it is never in clear in the state, in any snapshot the
backend keeps or in the resource IDs, neither after the first update nor after a rotation; and a stack made when
the key was a random.RandomBytes (whose ID the real provider makes from its value) moves off it without any key on
the hosts changing."""

from __future__ import annotations

import base64

import pytest

from components.bootstrap import api_security
from tests.engine.test_up import cluster, engine_for, up  # noqa: F401

pytestmark = pytest.mark.usefixtures("engine_tools")
CONTROL_PLANES = ("cp-1", "cp-2", "cp-3")
KEY_STEP = "::k8s-engine-encryption-key"


def keys_on(hosts, name: str) -> list[str]:
    """The keys the control plane holds, the one that writes first."""
    path = hosts.hosts[name].sandbox.root / api_security.ENCRYPTION_KEYS_FILE.lstrip("/")
    return [line.split()[1] for line in path.read_text().splitlines() if line.strip()]


def spellings(key: str) -> set[str]:
    raw = base64.b64decode(key)
    return {key, raw.hex(), raw.hex().upper(), base64.urlsafe_b64encode(raw).decode().rstrip("=")}


def where_in_clear(engine, key: str) -> list[str]:
    """Every place the key appears in clear: the state as `pulumi stack export` and `pulumi stack --show-ids` show
    it, and each file the backend keeps (current state, its backup, every update's history and checkpoint)."""
    places = {"pulumi stack export": engine.cli("stack", "export"),
              "pulumi stack --show-ids": engine.cli("stack", "--show-ids"), **engine.backend_files()}
    return sorted(place for place, text in places.items() if any(s in text for s in spellings(key)))


def key_step_urn(engine) -> str:
    return next(r["urn"] for r in engine.export()["resources"] if r["urn"].endswith(KEY_STEP))


def test_the_key_is_nowhere_in_clear_in_the_state_after_the_first_update_and_after_a_rotation(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    up(engine)
    [first] = {keys_on(hosts, name)[0] for name in CONTROL_PLANES}
    assert where_in_clear(engine, first) == []
    rotated = engine.run("up", replace=[key_step_urn(engine)])
    assert rotated["ok"], rotated.get("error", "")[-4000:]
    [second] = {keys_on(hosts, name)[0] for name in CONTROL_PLANES}
    assert second != first and all(keys_on(hosts, name) == [second, first] for name in CONTROL_PLANES)
    assert where_in_clear(engine, second) == [] and where_in_clear(engine, first) == []


def test_a_stack_whose_key_was_random_bytes_moves_off_it_keeping_the_key_on_every_host(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    earlier = engine.run("up", earlier=["randombytes-encryption-key"])
    assert earlier["ok"], earlier.get("error", "")[-4000:]
    [key] = {tuple(keys_on(hosts, name)) for name in CONTROL_PLANES}
    assert len(key) == 1
    # What the move is for: the real provider's RandomBytes ID is the key itself.
    assert "pulumi stack --show-ids" in where_in_clear(engine, key[0])
    restarts = {name: hosts.hosts[name].sandbox.container_starts("kube-apiserver") for name in CONTROL_PLANES}

    moved = up(engine)
    assert moved["changeSummary"].get("delete") == 1, moved["changeSummary"]
    assert {tuple(keys_on(hosts, name)) for name in CONTROL_PLANES} == {key}, "no key on any host changed"
    assert {name: hosts.hosts[name].sandbox.container_starts("kube-apiserver") for name in CONTROL_PLANES} == restarts
    types = {r["type"] for r in engine.export()["resources"]}
    assert "random:index/randomBytes:RandomBytes" not in types
    current = ("pulumi stack export", "pulumi stack --show-ids", ".pulumi/stacks/k8s-platform/metal.json")
    assert not set(where_in_clear(engine, key[0])) & set(current), "the state the backend serves now is clean"
    assert set(up(engine)["changeSummary"]) == {"same"}, "the move is done in one update"

    rotated = engine.run("up", replace=[key_step_urn(engine)])
    assert rotated["ok"], rotated.get("error", "")[-4000:]
    [new] = {keys_on(hosts, name)[0] for name in CONTROL_PLANES}
    assert new != key[0] and where_in_clear(engine, new) == []
