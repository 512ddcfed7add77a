"""Under mocks: what the reads over SSH find changes exactly the steps that have something to do. A certificate
due on one control plane changes its certificates step (and, on the first, the kubeconfig read); a worker whose join
failed long ago gets fresh credentials and nothing else changes; nothing read changes nothing."""

import datetime
import json

import pulumi
import pytest

from components.bootstrap import certificates, join_credentials
from tests.plan_fixtures import shipped_plan
from tools.plan import build_plan

NOW = datetime.datetime.now(datetime.timezone.utc)
CP = {"cp-1": "203.0.113.21", "cp-2": "203.0.113.22", "cp-3": "203.0.113.23"}


def step_inputs(result) -> dict[str, str]:
    return {r["name"]: json.dumps([r["inputs"], r["secrets"]], sort_keys=True) for r in result.document["resources"]}


def changed(reads) -> set[str]:
    base = step_inputs(shipped_plan("metal"))
    head = step_inputs(build_plan("metal", check_policies=False, host_reads=reads))
    assert set(base) == set(head), "a read never adds or removes a resource"
    return {name for name in base if base[name] != head[name]}


def report(days: dict[str, int]) -> str:
    return json.dumps({"certificates": {name: certificates.iso(NOW + datetime.timedelta(days=d))
                                        for name, d in days.items()}, "authorities": {}, "web": {}, "renewed": ""})


def test_certificates_read_with_nothing_due_change_nothing():
    reads = {(address, "certificates-check"): report({"apiserver": 300, "admin.conf": 300})
             for address in CP.values()}
    assert changed(reads) == {"k8s-metal-kubeconfig"}, \
        "only the kubeconfig read learns admin.conf's date (a deployed stack's state has it from the step already)"


@pytest.mark.parametrize("node,expected", [
    ("cp-2", {"cp-2-certificates"}),
    ("cp-1", {"cp-1-certificates", "k8s-metal-kubeconfig"}),
])
def test_a_certificate_due_on_one_control_plane_changes_its_step_only(node, expected):
    reads = {(address, "certificates-check"): report({"apiserver": 300, "admin.conf": 300}) for address in CP.values()}
    reads[CP[node], "certificates-check"] = report({"apiserver": 300, "admin.conf": 45})
    found = changed(reads)
    assert found - {"k8s-metal-kubeconfig"} == expected - {"k8s-metal-kubeconfig"}
    assert "k8s-metal-kubeconfig" in found, "admin.conf's date is learnt (see the test above)"


def test_a_worker_whose_join_failed_long_ago_gets_fresh_credentials_and_nothing_else_changes():
    expired = int((NOW - datetime.timedelta(hours=5)).timestamp())
    records = {"nodes": {
        "worker-2": {"expires": expired, "request": "", "joined": False},
        "worker-1": {"expires": expired, "request": "", "joined": True},
        "cp-2": {"expires": expired, "request": "", "joined": True}}}
    reads = {(CP["cp-1"], "credentials-read"): json.dumps(records)}
    assert changed(reads) == {"worker-2-credentials"}


def test_a_joined_node_keeps_the_request_it_was_made_under():
    earlier = join_credentials.request(
        {"w": {"expires": 0, "request": "", "joined": False}}, "w", NOW)
    assert earlier.startswith("fresh credentials for w")
    assert join_credentials.request({"w": {"expires": 0, "request": earlier, "joined": True}}, "w", NOW) == earlier


def test_a_control_plane_that_cannot_be_read_is_a_warning_and_changes_nothing(monkeypatch):
    said = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: said.append(message))
    reads = {(CP["cp-2"], "certificates-check"): json.dumps(
        {"unavailable": "ssh: connect to host 203.0.113.22 port 22: Connection timed out"})}
    assert changed(reads) == set()
    assert len(said) == 1 and said[0].startswith("cp-2 (203.0.113.22) did not answer this preview's read over SSH: "
                                                 "ssh: connect"), said
    assert "python -m tools.check_hosts" in said[0]
    said.clear()
    build_plan("metal", check_policies=False)
    assert said == [], "the offline plan's reads are expected to find nothing"


def test_a_renewal_due_on_the_first_control_plane_leaves_the_web_ca_step_known_in_a_preview():
    """In a preview the renewal step's report is unknown (the step is to run); the web CA step's input comes from
    the read alone, so the preview shows what it asks of the web CA and no possible change of what follows it."""
    from tests.helpers import ROOT
    from tools.plan import run_program
    from tools.plan_mocks import PlanMocks, RecordingMonitor
    from tools.stack_file import read_stack_file
    read = json.dumps({"certificates": {"apiserver": certificates.iso(NOW + datetime.timedelta(days=20))},
                       "authorities": {}, "web": {"harbor": certificates.iso(NOW + datetime.timedelta(days=10))},
                       "renewed": ""})
    config = read_stack_file(ROOT / "Pulumi.metal.yaml")
    monitor = RecordingMonitor(PlanMocks("", preview=True, host_reads={(CP["cp-1"], "certificates-check"): read}))
    run_program("metal", config.values, config.secret_keys, monitor, preview=True)
    by_name = {r.name: r for r in monitor.registrations}
    assert "due within 90 days: apiserver" in by_name["cp-1-certificates"].inputs["stdin"]
    web_ca = by_name["k8s-metal-web-certificates-ca"].inputs["stdin"]
    assert isinstance(web_ca, dict) and isinstance(web_ca.get("value"), str), web_ca  # a known secret
    assert "readonly REQUEST='due within 30 days: harbor'" in web_ca["value"]
