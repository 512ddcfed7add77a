"""Preflight: the host check run in a sandbox with stubbed system facts, and the identity comparison across hosts."""

import json

import pytest

from components.bootstrap import preflight
from components.host import CONTROL_PLANE, LOAD_BALANCER, WORKER, Host, SshHop
from components.sizing import NodeSize
from tests.sandbox import Sandbox, render_for

CP = Host("cp-1", CONTROL_PLANE, "cp", "rack-a", "203.0.113.21", SshHop("203.0.113.21", "ubuntu"), NodeSize(8, 32, 200))
WORKER_HOST = Host("worker-1", WORKER, "workers", "", "203.0.113.31", SshHop("203.0.113.31", "ubuntu"),
                   NodeSize(16, 64, 500))
LB_HOST = Host("lb-1", LOAD_BALANCER, "lb", "", "203.0.113.11", SshHop("203.0.113.11", "ubuntu"), NodeSize(2, 4, 40))
GIB_KIB = 1024 * 1024


def run(box: Sandbox, host: Host = CP, tier: str = "prod", port: int | None = None):
    return box.run(render_for(box, preflight.script, host, tier, port))


def failures(result) -> list[str]:
    return [line.strip()[2:] for line in result.stderr.splitlines() if line.strip().startswith("- ")]


def set_memory_gib(box: Sandbox, gib: float) -> None:
    (box.root / "proc/meminfo").write_text(f"MemTotal: {int(gib * GIB_KIB)} kB\n")


def test_a_fit_host_passes_prints_its_identity_and_changes_nothing(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "sys/class/dmi/id").mkdir(parents=True)
    (box.root / "sys/class/dmi/id/product_uuid").write_text("4c4c4544-0042-3510-8052-b4c04f4e3332\n")
    before = box.snapshot()
    for _ in range(2):
        result = run(box)
        assert result.returncode == 0, result.stderr
    assert box.mutating_calls() == [] and box.snapshot() == before
    assert preflight.identity(result.stdout) == {
        "host": "cp-1", "hostname": "ubuntu", "machineId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "productUuid": "4c4c4544-0042-3510-8052-b4c04f4e3332", "member": "no"}
    (box.root / "etc/kubernetes/k8s-platform").mkdir(parents=True)
    (box.root / "etc/kubernetes/k8s-platform/join.done").touch()
    assert preflight.identity(run(box).stdout)["member"] == "yes", "an install that joined says so"


def test_memory_a_little_below_nominal_passes(tmp_path):
    box = Sandbox(tmp_path)
    set_memory_gib(box, 31.2)  # a 32 GiB machine after firmware and kernel
    assert run(box).returncode == 0


@pytest.mark.parametrize("fact, value, expected", [
    ("nproc", "2", "cpu: found 2 vCPU, required 4 vCPU (tier prod minimum for control-plane hosts)"),
    ("nproc", "6", "cpu: found 6 vCPU, required 8 vCPU (declared in the inventory)"),
    ("memory", 4, "memory: found 4.0 GiB, required 8 GiB (tier prod minimum for control-plane hosts)"),
    ("memory", 16, "memory: found 16.0 GiB, required 32 GiB (declared in the inventory)"),
    ("disk_kib", str(50 * GIB_KIB), "disk /var/lib: found 50.0 GiB, required 100 GiB (tier prod minimum for "
                                    "control-plane hosts)"),
    ("ntp", "no", "clock: found NTPSynchronized=no after 60s, required a synchronised clock"),
    ("os", 'ID=debian\nVERSION_ID="11"\n', "operating system: found 'debian 11', required one of ubuntu:22.04, "
                                            "ubuntu:24.04, debian:12, debian:13"),
    ("listeners", 'LISTEN 0 511 0.0.0.0:6443 0.0.0.0:* users:(("nginx",pid=812,fd=6))\n',
     "port 6443: found in use by nginx, required free for kube-apiserver"),
])
def test_each_failed_check_names_host_check_found_and_required(tmp_path, fact, value, expected):
    box = Sandbox(tmp_path)
    if fact == "memory":
        set_memory_gib(box, value)
    elif fact == "os":
        (box.root / "etc/os-release").write_text(value)
    else:
        (box.state / fact).write_text(value + ("" if value.endswith("\n") else "\n"))
    result = run(box)
    assert result.returncode != 0
    assert "preflight failed on cp-1 (control-plane, tier prod):" in result.stderr
    assert any(line.startswith(expected) for line in failures(result)), result.stderr
    assert box.mutating_calls() == []


def test_every_failure_is_reported_at_once(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "nproc").write_text("1\n")
    set_memory_gib(box, 1)
    (box.state / "ntp").write_text("no\n")
    (box.root / "etc/machine-id").write_text("")
    checks = [f.split(":")[0] for f in failures(run(box, WORKER_HOST))]
    assert checks == ["cpu", "memory", "clock", "machine-id"]


def test_ports_held_by_the_expected_component_pass(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "listeners").write_text(
        'LISTEN 0 4096 *:6443 *:* users:(("kube-apiserver",pid=1201,fd=3))\n'
        'LISTEN 0 4096 127.0.0.1:2379 0.0.0.0:* users:(("etcd",pid=1100,fd=7))\n'
        'LISTEN 0 4096 *:8443 *:* users:(("haproxy",pid=900,fd=5))\n'
        'LISTEN 0 4096 *:22 *:* users:(("sshd",pid=700,fd=3))\n')
    assert run(box, CP, "prod", 8443).returncode == 0
    taken = run(box, WORKER_HOST, "prod", 22)
    assert failures(taken) == ["port 22: found in use by sshd, required free for haproxy"]


def test_roles_check_their_own_ports_and_minimums(tmp_path):
    assert "REQUIRED_PORTS='10250:kubelet 10256:kube-proxy'" in preflight.script(WORKER_HOST, "prod")
    assert "REQUIRED_PORTS=6443:haproxy" in preflight.script(LB_HOST, "prod", 6443)
    box = Sandbox(tmp_path)
    (box.state / "nproc").write_text("2\n")
    set_memory_gib(box, 4)
    (box.state / "disk_kib").write_text(f"{40 * GIB_KIB}\n")
    assert run(box, LB_HOST, "prod", 6443).returncode == 0  # a load balancer needs only the lab floor
    assert "minimum of" not in run(box, LB_HOST).stderr


def _report(host: str, hostname: str | None = None, machine: str = "", uuid: str = "") -> dict:
    return {"host": host, "hostname": hostname or host, "machineId": machine or f"m-{host}",
            "productUuid": uuid or f"u-{host}"}


def test_identities_clash_on_machine_id_product_uuid_or_a_borrowed_name():
    assert preflight.identity_problems([_report("a"), _report("b")]) == []
    cloned = preflight.identity_problems([_report("a", machine="m1"), _report("b"), _report("c", machine="m1")])
    assert cloned == ["c: /etc/machine-id m1 is also the one of a; regenerate it (cloned machine)"]
    same_board = preflight.identity_problems([_report("a", uuid="u1"), _report("b", uuid="u1")])
    assert same_board == ["b: product UUID u1 is also the one of a; regenerate it (cloned machine)"]
    borrowed = preflight.identity_problems([_report("a"), _report("b", hostname="a")])
    assert borrowed == ["b: its hostname is 'a', the inventory name of another host"]
    earlier_borrowed = preflight.identity_problems([_report("a", hostname="b"), _report("b")])
    assert earlier_borrowed == ["a: its hostname is 'b', the inventory name of another host"]
    # Hosts cloned from one image all named "ubuntu" are renamed by the prepare phase: no clash.
    assert preflight.identity_problems([_report("a", hostname="ubuntu"), _report("b", hostname="ubuntu")]) == []
    # An empty product UUID (unreadable on some hypervisors) is never a clash.
    unreadable = [{**_report("a"), "productUuid": ""}, {**_report("b"), "productUuid": ""}]
    assert preflight.identity_problems(unreadable) == []


def test_identity_is_the_last_json_line():
    stdout = 'preflight: host fit\n' + json.dumps(_report("a")) + "\n"
    assert preflight.identity(stdout)["machineId"] == "m-a"
