"""Real `pulumi up` and the control planes' certificates: every preview and update reads them on each control
plane (over SSH, changing nothing); a certificate within 90 days of expiry shows in the preview as that control
plane's certificates step, renews there and nowhere else, restarts its static pods, and for the first control
plane reads the admin kubeconfig again; the stack output carries the new dates."""

from __future__ import annotations

import datetime

import pytest

from components.bootstrap import certificates
from tests.engine.test_up import cluster, engine_for, steps_per_host, up, updated  # noqa: F401

pytestmark = pytest.mark.usefixtures("engine_tools")
CONTROL_PLANES = ("cp-1", "cp-2", "cp-3")


def expiring(box, name: str, days: int) -> str:
    """Makes `name` on a host's stub kubeadm expire in `days`; returns the new expiry."""
    when = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=days)
    lines = []
    for line in (box.state / "certs").read_text().splitlines():
        kind, cert, *_ = line.split()
        if kind == "certificate" and cert == name:
            line = f"certificate {cert} {certificates.iso(when)} {days * 86400:.6e} false false"  # as kubeadm prints
        lines.append(line)
    (box.state / "certs").write_text("\n".join(lines) + "\n")
    return certificates.iso(when)


def test_a_certificate_near_expiry_renews_on_its_control_plane_only_and_the_kubeconfig_is_read_again(cluster):
    hosts = cluster[0]
    engine = engine_for(cluster)
    up(engine)
    for name in CONTROL_PLANES:
        unit = hosts.hosts[name].sandbox.root / f"etc/systemd/system/{certificates.UNIT}.timer"
        assert f"OnCalendar={certificates.timer_calendar(CONTROL_PLANES.index(name))}" in unit.read_text()
    before = steps_per_host(hosts)
    reads = {name: hosts.hosts[name].reads() for name in CONTROL_PLANES}
    pods = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
    first = hosts.hosts["cp-1"].sandbox
    # (the API server started once more already: its writers' pass on a new control plane, api-server-encryption)
    started = {pod: first.container_starts(pod) for pod in pods}
    soon = expiring(hosts.hosts["cp-1"].sandbox, "admin.conf", 20)

    preview = engine.preview()
    assert preview["ok"], preview.get("error", "")[-3000:]
    assert updated(preview) == {"cp-1-certificates", "k8s-engine-kubeconfig"}, updated(preview)
    assert all(hosts.hosts[name].reads() > reads[name] for name in CONTROL_PLANES), "the preview read each one"
    assert steps_per_host(hosts) == before, "a preview runs no step"

    result = up(engine)
    assert updated(result) == {"cp-1-certificates", "k8s-engine-kubeconfig"}
    ran = steps_per_host(hosts)
    assert ran["cp-1"][len(before["cp-1"]):] == ["certificates", "read-admin-kubeconfig"], ran["cp-1"]
    assert [c for c in first.calls() if c.startswith("kubeadm certs renew")] == ["kubeadm certs renew all"]
    for name in ("cp-2", "cp-3"):
        assert ran[name] == before[name], name
        assert not [c for c in hosts.hosts[name].sandbox.calls() if c.startswith("kubeadm certs renew")]
    restarted = {pod: first.container_starts(pod) - started[pod] for pod in pods}
    assert restarted == dict.fromkeys(pods, 1), "the renewal restarted each static pod once"
    dates = result["outputs"]["certificates"]
    assert dates["cp-1"]["certificates"]["admin.conf"] > soon, "the output has the renewed date"
    assert set(dates) == set(CONTROL_PLANES) and all(d["earliest"] for d in dates.values())

    # The next update records that nothing is due any more (the step runs once more, renewing nothing); then
    # updates change nothing.
    again = up(engine)
    assert updated(again) == {"cp-1-certificates"}, updated(again)
    assert len([c for c in first.calls() if c.startswith("kubeadm certs renew")]) == 1
    quiet = up(engine)
    assert set(quiet["changeSummary"]) == {"same"}, quiet["changeSummary"]
