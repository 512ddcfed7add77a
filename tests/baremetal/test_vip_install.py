"""The load-balancer install script in a sandbox: pinned packages, configs checked before they replace the running
ones (the real haproxy checks haproxy.cfg), reloads only on change, and a second run that changes nothing."""

import stat

from components.baremetal import haproxy_config, keepalived_config, vip_configs
from tests.sandbox import Sandbox, installed, render_for

BACKENDS = [haproxy_config.Backend("cp-1", "203.0.113.21"), haproxy_config.Backend("cp-2", "203.0.113.22"),
            haproxy_config.Backend("cp-3", "203.0.113.23")]
PEERS = [keepalived_config.Peer("lb-1", "203.0.113.11", "eth0"), keepalived_config.Peer("lb-2", "203.0.113.12", "eth0")]
HAPROXY = haproxy_config.render(6443, BACKENDS, node_count=6)
KEEPALIVED = keepalived_config.render(PEERS[0], PEERS, "203.0.113.10", 24, 51, "Vr7pQ2xz")


def script(box: Sandbox, haproxy: str = HAPROXY, keepalived: str = KEEPALIVED) -> str:
    return render_for(box, vip_configs.install_script, haproxy, keepalived)


def test_first_run_installs_and_starts_then_a_second_run_changes_nothing(tmp_path):
    box = Sandbox(tmp_path)
    result = box.run(script(box))
    assert result.returncode == 0, result.stderr
    calls = box.calls()
    assert installed(box, "haproxy").startswith("2.") and installed(box, "keepalived").startswith("1:2.2.")
    assert (box.state / "held/haproxy").exists() and (box.state / "held/keepalived").exists()
    assert {"systemctl enable haproxy", "systemctl start haproxy", "systemctl enable keepalived",
            "systemctl start keepalived"} <= set(calls)
    assert any(c.startswith("haproxy -c -f ") and "/etc/haproxy/haproxy.cfg." in c for c in calls)
    cfg = box.root / "etc/haproxy/haproxy.cfg"
    conf = box.root / "etc/keepalived/keepalived.conf"
    assert cfg.read_text() == HAPROXY and conf.read_text() == KEEPALIVED
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600, "keepalived.conf holds the VRRP secret"
    leftovers = [p for pattern in ("*.cfg.*", "*.conf.*") for p in box.root.rglob(pattern) if p.is_file()]
    assert leftovers == [], "no temporary file of write_file left behind"

    box.reset_calls()
    assert box.run(script(box)).returncode == 0
    assert box.mutating_calls() == []


def test_a_changed_config_is_checked_then_reloaded_without_a_restart(tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(script(box)).returncode == 0
    box.reset_calls()
    wider = haproxy_config.render(6443, BACKENDS + [haproxy_config.Backend("cp-4", "203.0.113.24")], node_count=8)
    assert box.run(script(box, haproxy=wider)).returncode == 0
    assert box.mutating_calls() == ["systemctl reload haproxy"]
    assert "cp-4" in (box.root / "etc/haproxy/haproxy.cfg").read_text()


def test_a_config_haproxy_rejects_never_replaces_the_running_one(tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(script(box)).returncode == 0
    box.reset_calls()
    broken = HAPROXY.replace("balance roundrobin", "balance roundrobbin")
    result = box.run(script(box, haproxy=broken))
    assert result.returncode != 0
    assert "the new /etc/haproxy/haproxy.cfg was rejected by haproxy; the running configuration is untouched" \
        in result.stderr
    assert "balance only supports" in result.stderr  # haproxy's own reason is shown
    assert (box.root / "etc/haproxy/haproxy.cfg").read_text() == HAPROXY
    assert box.mutating_calls() == [] and not list(box.root.rglob("*.cfg.*"))


def test_a_config_keepalived_rejects_never_replaces_the_running_one(tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(script(box)).returncode == 0
    box.reset_calls()
    result = box.run(script(box, keepalived=KEEPALIVED.replace("vrrp_instance", "vrrp_instanse")))
    assert result.returncode != 0 and "rejected by keepalived_config_ok" in result.stderr
    assert (box.root / "etc/keepalived/keepalived.conf").read_text() == KEEPALIVED
    assert box.mutating_calls() == []


def test_a_wrong_haproxy_version_is_refused(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "available/haproxy").write_text("3.0.1-1\n")
    result = box.run(script(box))
    assert result.returncode != 0 and "haproxy 3.0.1-1 is installed; this platform needs 2.*" in result.stderr
    assert not (box.root / "etc/haproxy/haproxy.cfg").exists()
