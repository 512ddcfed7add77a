"""The bare-metal API load balancer with the real haproxy and keepalived binaries and the generated configs.

Config checks run `haproxy -c` and `keepalived -t` (inside a network namespace that has the interface). The
failover test builds two load-balancer hosts, three stand-in apiservers and a client in network namespaces on one
bridge (203.0.113.0/24 only), and measures how long the VIP takes to move and a backend to leave rotation.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from components.baremetal import haproxy_config, keepalived_config
from tests import netns

pytestmark = pytest.mark.skipif(netns.available() is not None, reason=str(netns.available()))

VIP = "203.0.113.10"
LBS = {"lb-1": "203.0.113.11", "lb-2": "203.0.113.12"}
CPS = {"cp-1": "203.0.113.21", "cp-2": "203.0.113.22", "cp-3": "203.0.113.23"}
CLIENT = "203.0.113.50"
AUTH = "Vr7pQ2xz"
STANDIN = Path(__file__).resolve().parents[1] / "standin_apiserver.py"
MEASURED: dict[str, float] = {}


def haproxy_cfg(port: int = 6443) -> str:
    return haproxy_config.render(port, [haproxy_config.Backend(n, a) for n, a in CPS.items()], node_count=6)


def keepalived_conf(me: str, interface: str = "eth0") -> str:
    peers = [keepalived_config.Peer(n, a, interface) for n, a in LBS.items()]
    return keepalived_config.render(next(p for p in peers if p.name == me), peers, VIP, 24, 51, AUTH)


def keepalived_test(lab: netns.Lab, host: str, path: Path) -> tuple[bool, str]:
    """The rule the install script applies: no complaint, and exit 0 (or SIGTERM: keepalived 2.2.7, Debian 12's,
    ends every config test that has a vrrp_script by killing itself; fixed in 2.2.8)."""
    result = lab.run(host, "keepalived", "--config-test", "--use-file", str(path), check=False)
    output = (result.stdout + result.stderr).replace("Terminated", "").strip()
    return result.returncode in (0, 143, -15) and not output, output


@pytest.mark.parametrize("port", [6443, 8443])
def test_haproxy_accepts_the_rendered_config_without_warnings(tmp_path, port):
    netns.require_tools()
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy_cfg(port))
    result = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr and "ALERT" not in result.stdout + result.stderr
    # The same check refuses a broken file, so a pass above means something.
    path.write_text(haproxy_cfg(port).replace("balance roundrobin", "balance roundrobbin"))
    broken = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=20)
    assert broken.returncode != 0 and "balance only supports" in broken.stdout + broken.stderr


def test_keepalived_accepts_the_rendered_config_on_a_host_with_the_interface(tmp_path):
    lab = netns.Lab("kt")
    try:
        lab.add_host("lb-1", LBS["lb-1"])
        good = tmp_path / "keepalived.conf"
        good.write_text(keepalived_conf("lb-1"))
        ok, output = keepalived_test(lab, "lb-1", good)
        assert ok, output
        missing = tmp_path / "missing-interface.conf"
        missing.write_text(keepalived_conf("lb-1", interface="bond0"))
        ok, output = keepalived_test(lab, "lb-1", missing)
        assert not ok and "bond0" in output
        typo = tmp_path / "typo.conf"
        typo.write_text(keepalived_conf("lb-1").replace("advert_int 1", "advert_interval 1"))
        ok, output = keepalived_test(lab, "lb-1", typo)
        assert not ok and "advert_interval" in output
    finally:
        lab.close()


class Cluster:
    """Two load balancers, three stand-in apiservers and a client, wired as the generated configs expect."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.lab = netns.Lab("fo")
        self.haproxy: dict[str, subprocess.Popen] = {}
        self.apiservers: dict[str, subprocess.Popen] = {}
        for name, address in {**LBS, **CPS, "client": CLIENT}.items():
            self.lab.add_host(name, address)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=kube-apiserver", "-keyout", str(tmp / "tls.key"), "-out", str(tmp / "tls.crt")],
                       check=True, capture_output=True, timeout=60)
        for name in CPS:
            self.start_apiserver(name)
        for name in LBS:
            (tmp / f"{name}.haproxy.cfg").write_text(haproxy_cfg())
            (tmp / f"{name}.keepalived.conf").write_text(keepalived_conf(name))
            self.start_haproxy(name)
            self.lab.start(name, "keepalived", "--dont-fork", "--log-console", "--vrrp",
                           "--use-file", str(tmp / f"{name}.keepalived.conf"),
                           "--pid", str(tmp / f"{name}.pid"), "--vrrp_pid", str(tmp / f"{name}.vrrp.pid"),
                           log=tmp / f"{name}.keepalived.log")

    def start_apiserver(self, name: str) -> None:
        self.apiservers[name] = self.lab.start(
            name, sys.executable, str(STANDIN), "--name", name, "--cert", str(self.tmp / "tls.crt"),
            "--key", str(self.tmp / "tls.key"), "--unready-flag", str(self.tmp / f"{name}.unready"),
            log=self.tmp / f"{name}.log")

    def start_haproxy(self, name: str) -> None:
        self.haproxy[name] = self.lab.start(name, "haproxy", "-db", "-f", str(self.tmp / f"{name}.haproxy.cfg"),
                                            log=self.tmp / f"{name}.haproxy.log")

    def request(self) -> str | None:
        """One request through the VIP from the client: the name of the apiserver that answered, or None."""
        # 5 s: on a loaded 2-core machine a TLS handshake through haproxy to a Python stand-in can take over a
        # second, which a 1 s limit reported as a failed request; a real client waits longer than that.
        result = self.lab.run("client", "curl", "--silent", "--insecure", "--max-time", "5",
                              f"https://{VIP}:6443/name", check=False)
        return result.stdout if result.returncode == 0 else None

    def vip_holders(self) -> list[str]:
        return [name for name in LBS if self.lab.holds(name, VIP)]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp.glob("*.log")))

    def close(self) -> None:
        self.lab.close()


@pytest.fixture
def cluster(tmp_path):
    built = Cluster(tmp_path)
    try:
        yield built
    finally:
        built.close()


def served_by(cluster: Cluster, count: int) -> list[str | None]:
    return [cluster.request() for _ in range(count)]


def test_vip_fails_over_and_backends_leave_rotation(cluster):
    # Start: the highest priority (lb-1) takes the VIP, requests reach every apiserver in turn.
    started = netns.wait_until(lambda: cluster.vip_holders() == ["lb-1"] and cluster.request() is not None, 30)
    assert started is not None, cluster.logs()
    MEASURED["VIP up and serving after start (s)"] = round(started, 2)
    # Checks of apiservers that were still starting may have failed: they rejoin after `rise` passing checks.
    assert netns.wait_until(lambda: set(served_by(cluster, 6)) == set(CPS), 20) is not None, cluster.logs()
    answers = served_by(cluster, 12)
    assert None not in answers and set(answers) == set(CPS), answers

    # An apiserver turns unready: requests keep succeeding and it leaves rotation.
    (cluster.tmp / "cp-2.unready").touch()
    unready_at = time.monotonic()
    seen: list[str | None] = []

    def cp2_gone() -> bool:
        seen.extend(served_by(cluster, 3))
        return "cp-2" not in seen[-6:] and len(seen) >= 6
    left = netns.wait_until(cp2_gone, 20, interval=0.05)
    assert left is not None, cluster.logs()
    MEASURED["unready backend leaves rotation (s)"] = round(time.monotonic() - unready_at, 2)
    after = served_by(cluster, 12)
    # haproxy cuts the sessions of a backend it marks down (on-marked-down shutdown-sessions: long watches move to a
    # healthy apiserver at once): a request in flight to cp-2 at that instant fails, and the client retries. The
    # client sends one request at a time, so at most one fails, and none once cp-2 is out.
    assert seen.count(None) <= 1 and None not in after, (seen, after, cluster.logs())
    assert "cp-2" not in after and set(after) == {"cp-1", "cp-3"}

    # An apiserver stops: no request fails (haproxy redispatches a refused connection), it leaves rotation.
    cluster.lab.stop(cluster.apiservers["cp-3"])
    stopped = served_by(cluster, 15)
    assert None not in stopped and set(stopped) == {"cp-1"}, (stopped, cluster.logs())
    (cluster.tmp / "cp-2.unready").unlink()
    cluster.start_apiserver("cp-3")
    back = netns.wait_until(lambda: set(served_by(cluster, 6)) == set(CPS), 20)
    assert back is not None, cluster.logs()

    # haproxy stops on the VIP holder: keepalived lowers its priority and the VIP moves to lb-2.
    cluster.lab.stop(cluster.haproxy["lb-1"])
    killed_at = time.monotonic()
    moved = netns.wait_until(lambda: cluster.vip_holders() == ["lb-2"] and cluster.request() is not None, 20)
    assert moved is not None, cluster.logs()
    MEASURED["VIP failover after haproxy stops (s)"] = round(time.monotonic() - killed_at, 2)
    assert None not in served_by(cluster, 12)

    # haproxy comes back on lb-1: the VIP returns to it and requests keep succeeding throughout.
    cluster.start_haproxy("lb-1")
    restarted_at = time.monotonic()
    during: list[str | None] = []

    def returned() -> bool:
        during.append(cluster.request())
        return cluster.vip_holders() == ["lb-1"]
    assert netns.wait_until(returned, 20) is not None, cluster.logs()
    MEASURED["VIP back on the recovered host (s)"] = round(time.monotonic() - restarted_at, 2)
    final = served_by(cluster, 12)
    assert None not in final and set(final) == set(CPS), (final, cluster.logs())
    MEASURED["failed requests while the VIP returned"] = during.count(None)
    assert during.count(None) <= 1, during
    print("load balancer measurements:", MEASURED)


def test_maxconn_follows_the_node_count_in_steps_so_one_more_node_changes_nothing():
    from components.baremetal.haproxy_config import max_connections
    assert max_connections(6) == max_connections(7) == max_connections(100) == 2400
    assert max_connections(101) == 2800 and max_connections(5000) == 22000
