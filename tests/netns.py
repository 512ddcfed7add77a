"""A throwaway network of Linux network namespaces for tests: hosts on one bridge, processes run inside them.

Every namespace name carries this process's id, addresses come from the documentation ranges 198.51.100.0/24 and
203.0.113.0/24 only (192.0.2.0/24 is the uplink of the machines this project's CI runs on: refused), and `close()`
kills every process started here and deletes every namespace, whatever happened before.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

SUBNET_PREFIX = 24
# The only networks a test may put an address in; never 192.0.2.0/24 (the CI machines' own uplink).
TEST_NETWORKS = (ipaddress.IPv4Network("198.51.100.0/24"), ipaddress.IPv4Network("203.0.113.0/24"))


def check_test_address(address: str) -> None:
    """Refuses an address outside the test networks (a mistake there could reach a real network)."""
    ip = ipaddress.IPv4Address(address)
    assert any(ip in network for network in TEST_NETWORKS), \
        f"{address} is outside the test networks {', '.join(map(str, TEST_NETWORKS))}"


def available() -> str | None:
    """Why these tests cannot run here (not root), or None. A missing tool is a failure, not a reason to skip:
    scripts/test installs them, so their absence means the setup is broken."""
    return "network namespaces need root" if os.geteuid() != 0 else None


def require() -> None:
    """Fails under CI (where namespaces must work), skips elsewhere, when network namespaces are not available."""
    import pytest
    reason = available()
    if reason:
        pytest.fail(reason) if os.environ.get("CI") == "true" else pytest.skip(reason)


def require_tools() -> None:
    missing = [tool for tool in ("ip", "haproxy", "keepalived", "curl", "openssl") if shutil.which(tool) is None]
    assert not missing, f"not installed: {', '.join(missing)} (scripts/test installs them)"


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=20)


def stop_group(process: subprocess.Popen, timeout: float) -> None:
    """Ends a process started in a session of its own and everything it started: TERM, then KILL after `timeout`."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


class Lab:
    def __init__(self, tag: str):
        require_tools()
        self.prefix = f"k8p{os.getpid()}{tag}"
        self.switch = f"{self.prefix}-sw"
        self.namespaces: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self.addresses: dict[str, str] = {}
        _run("ip", "netns", "add", self.switch)
        self.namespaces.append(self.switch)
        self.exec(self.switch, "ip", "link", "add", "br0", "type", "bridge")
        self.exec(self.switch, "ip", "link", "set", "br0", "up")

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def add_host(self, host: str, address: str) -> None:
        """A namespace with loopback and eth0 (address/24) plugged into the bridge."""
        check_test_address(address)
        ns, port = self.ns(host), f"p{len(self.namespaces)}"
        _run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        _run("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", self.switch)
        self.exec(self.switch, "ip", "link", "set", port, "master", "br0")
        self.exec(self.switch, "ip", "link", "set", port, "up")
        self.exec(ns, "ip", "link", "set", "lo", "up")
        self.exec(ns, "ip", "addr", "add", f"{address}/{SUBNET_PREFIX}", "dev", "eth0")
        self.exec(ns, "ip", "link", "set", "eth0", "up")
        self.addresses[host] = address

    def add_isolated(self, host: str) -> None:
        """A namespace with loopback only: what runs there reaches no address but its own 127.0.0.0/8 (a connection
        elsewhere fails at once, "Network is unreachable"; nothing leaves the namespace)."""
        ns = self.ns(host)
        _run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        self.exec(ns, "ip", "link", "set", "lo", "up")

    def exec(self, ns: str, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run("ip", "netns", "exec", ns, *command, check=check)

    def run(self, host: str, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.exec(self.ns(host), *command, check=check)

    def start(self, host: str, *command: str, log: Path) -> subprocess.Popen:
        handle = log.open("ab")
        process = subprocess.Popen(["ip", "netns", "exec", self.ns(host), *command], stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        stop_group(process, 5)

    def holds(self, host: str, address: str) -> bool:
        out = self.run(host, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout
        return f" {address}/" in out

    def close(self) -> None:
        for process in reversed(self.processes):
            try:
                self.stop(process)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        for ns in reversed(self.namespaces):
            _run("ip", "netns", "del", ns, check=False)
        self.namespaces.clear()


def wait_until(condition, timeout: float, interval: float = 0.1) -> float | None:
    """Seconds until `condition()` held, or None after `timeout` seconds (a bounded poll)."""
    start = time.monotonic()
    for _ in range(int(timeout / interval) + 1):
        if condition():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            break
        time.sleep(interval)
    return None
