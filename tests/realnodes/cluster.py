"""A real cluster for a test: lab machines (machines.py) with the lab's mirrors (mirrors.py), a bare-metal stack that
names them, and the real engine (tests/engine/harness.py) running it from the lab's namespace.

    with RealCluster(tmp_path, "lab", [Node("cp-1", "198.51.100.11", "control-plane"), ...]) as cluster:
        cluster.up()
        cluster.kubectl("get", "nodes")

The machines are Debian 12 containers on a cgroup v1 host, so the stack says so (hostSystem: containers, cgroupV1),
and it brings no pod network (addons.calico off: no Calico image can be had here): the lab gives each node a bridge
CNI of its own, with routes between the nodes' pod ranges, as a user who brings their own CNI would. The other
add-ons need images the lab does not have and stay off.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from components.host import CONTROL_PLANE, LOAD_BALANCER, WORKER
from tests.engine.harness import EngineStack
from tests.engine.hosts import ssh_key
from tests.realnodes import tools
from tests.realnodes.machines import LabNetwork, Machine, wait_for
from tests.realnodes.mirrors import LabMirrors

VIP = "198.51.100.10"
POD_CIDR = "10.244.0.0/16"
ADDONS_OFF = ("calico", "storage", "monitoring", "logging", "etcdBackup", "ingress", "harbor", "metricsServer")
STACK = "real"


@dataclass(frozen=True)
class Node:
    name: str
    address: str
    role: str  # control-plane, worker or load-balancer

    @property
    def pod_subnet(self) -> str:
        """The lab CNI's range for this node's pods: 10.244.<last byte of its address>.0/24."""
        return f"10.244.{self.address.rsplit('.', 1)[1]}.0/24"


def lab_cni(node: Node) -> str:
    """The bridge CNI the lab gives a node (the user's own CNI, the platform installing none)."""
    return json.dumps({"cniVersion": "1.0.0", "name": "lab", "plugins": [
        {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": node.pod_subnet}]], "routes": [{"dst": "0.0.0.0/0"}]}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]})


class RealCluster:
    def __init__(self, directory: Path, tag: str, nodes: list[Node], version: str = "1.37.2", tier: str = "lab",
                 releases: tuple[str, ...] | None = None):
        self.directory, self.version, self.tier = directory, version, tier
        directory.mkdir(parents=True, exist_ok=True)
        self.nodes = {node.name: node for node in nodes}
        self.key = ssh_key(directory / "id_ed25519", "realnodes")
        self.lab = LabNetwork(directory / "lab", tag, tools.base().folder)
        self.mirrors = LabMirrors(self.lab, releases or (version,))
        self.machines: dict[str, Machine] = {}
        self.engine: EngineStack | None = None
        self.timings: dict[str, float] = {}
        self.settings: dict = {}  # settings on top of the lab's own, for every later `up` (a drill's change)
        self._turn = None  # the lock one_lab_at_a_time holds while this cluster's machines exist

    def start(self) -> "RealCluster":
        started = time.monotonic()
        self.mirrors.start(self.directory / "mirrors")
        for node in self.nodes.values():
            self.boot(node)
        self.timings["lab"] = time.monotonic() - started
        return self

    def boot(self, node: Node) -> Machine:
        """The node's machine, booted, with the lab's apt sources and, on a Kubernetes node, the lab's CNI and routes
        to and from every other node's pods."""
        self.nodes[node.name] = node
        machine = self.lab.machine(node.name, node.address, self.key.with_suffix(".pub").read_text())
        files = dict(self.mirrors.machine_files())
        if node.role != LOAD_BALANCER:
            files["etc/cni/net.d/10-lab.conflist"] = lab_cni(node)
        machine.boot(tools.base().folder, files)
        self.machines[node.name] = machine
        for other in self.nodes.values():
            if other.name == node.name or other.role == LOAD_BALANCER or node.role == LOAD_BALANCER:
                continue
            if other.name in self.machines:
                for a, b in ((node, other), (other, node)):
                    subprocess.run(["ip", "-n", self.machines[a.name].namespace, "route", "replace", b.pod_subnet,
                                    "via", b.address], check=True, capture_output=True)
        return machine

    def document(self, names: list[str] | None = None, **settings) -> dict:
        """The stack file's document for the nodes `names` (default: every node), with `settings` on top."""
        names = names or list(self.nodes)
        hosts = [{"name": n, "address": self.nodes[n].address, "roles": [self.nodes[n].role], "vcpu": 2,
                  "memoryGiB": 2, "diskGiB": 20, "zone": "lab", "hostKey": self.machines[n].host_key} for n in names]
        dedicated = any(self.nodes[n].role == LOAD_BALANCER for n in names)
        config = {
            "infrastructure": "bareMetal", "tier": self.tier, "clusterName": "k8s-real",
            "kubernetesVersion": self.version, "sshUser": "root",
            "network": {"hostCidr": "198.51.100.0/24", "podCidr": POD_CIDR, "serviceCidr": "10.96.0.0/12"},
            "loadBalancer": {"vip": VIP, "mode": "dedicated" if dedicated else "colocated", "interface": "eth0",
                             "virtualRouterId": 51},
            "inventory": {"hosts": hosts},
            "addons": {"domain": "k8s-real.example.com", **{name: {"enabled": False} for name in ADDONS_OFF}},
            "mirrors": self.mirrors.settings(),
            "hostSystem": {"cgroupV1": True, "containers": True},
            **self.settings, **settings,
        }
        return {"config": {f"k8s-platform:{key}": value for key, value in config.items()}}

    def stack(self, names: list[str] | None = None, **settings) -> EngineStack:
        """The engine's stack (made on first use, its settings rewritten after)."""
        if self.engine is None:
            self.engine = EngineStack(self.directory / "engine", STACK, self.document(names, **settings),
                                      {"sshPrivateKey": self.key.read_text()}, namespace=self.lab.namespace)
        else:
            self.engine.write_settings(self.document(names, **settings))
        return self.engine

    def run(self, operation: str, names: list[str] | None = None, **options) -> dict:
        started = time.monotonic()
        result = self.stack(names).run(operation, **options)
        self.timings[f"{operation}-{self.engine.runs}"] = time.monotonic() - started
        return result

    def up(self, names: list[str] | None = None, **options) -> dict:
        """`options`: the engine's (replace=[urn], timeout_s=seconds for a long update such as an upgrade)."""
        result = self.run("up", names, **options)
        assert result["ok"], result.get("error", "")[-6000:]
        return result

    def kubeconfig(self) -> Path:
        """The stack's kubeconfig output, as `pulumi stack output kubeconfig --show-secrets` prints it."""
        path = self.directory / "kubeconfig"
        path.write_text(self.engine.cli("stack", "output", "kubeconfig", "--show-secrets"))
        path.chmod(0o600)
        return path

    def kubectl(self, *arguments: str, check: bool = True, timeout: float = 120,
                stdin: str | None = None) -> subprocess.CompletedProcess:
        """kubectl of the cluster's release, from the lab's namespace, with the stack's kubeconfig output."""
        kubectl = tools.kubernetes(self.version).folder / "kubectl"
        done = subprocess.run(["ip", "netns", "exec", self.lab.namespace, str(kubectl), "--kubeconfig",
                               str(self.directory / "kubeconfig"), *arguments], capture_output=True, text=True,
                              timeout=timeout, input=stdin)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(arguments)}:\n{done.stdout}{done.stderr}")
        return done

    def on(self, name: str, command: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.machines[name].ssh(command, self.key, check=check, timeout=timeout)

    def wait_ready(self, names: list[str], timeout: float = 180) -> None:
        def ready() -> bool:
            listed = self.kubectl("get", "nodes", "-o", "json", check=False)
            if listed.returncode != 0:
                return False
            states = {item["metadata"]["name"]: {c["type"]: c["status"] for c in item["status"]["conditions"]}
                      for item in json.loads(listed.stdout)["items"]}
            return all(states.get(name, {}).get("Ready") == "True" for name in names)
        wait_for(ready, timeout, 2, f"nodes {', '.join(names)} Ready")

    def memory_mib(self) -> dict[str, tuple[int, int]]:
        """Each machine's memory from its memory cgroup, in MiB: (resident memory of its processes, everything it
        is charged for, page cache included)."""
        used = {}
        for name, machine in self.machines.items():
            folder = next((f for f in machine.cgroups if "memory" in f.parts[:5]), None)
            if folder is None or not (folder / "memory.stat").exists():
                continue
            stat = dict(line.split() for line in (folder / "memory.stat").read_text().splitlines())
            used[name] = (int(stat["total_rss"]) // 2**20,
                          int((folder / "memory.usage_in_bytes").read_text()) // 2**20)
        return used

    def close(self) -> None:
        try:
            self.lab.close()
        finally:
            if self._turn is not None:
                self._turn.close()  # releases the lock
                self._turn = None

    def __enter__(self) -> "RealCluster":
        self._turn = one_lab_at_a_time()
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.close()


LAB_WAIT_S = 3600


def one_lab_at_a_time():
    """Waits (an hour at most) until no other real-node cluster exists on this machine, and holds that until the
    returned file is closed. The machines share the host's inotify instances and its 2 cores, and pytest-xdist's
    loadgroup (which was to keep these tests on one worker) groups nothing under pytest 9: a lock in the tools'
    cache folder does it for every test worker and the benchmark alike."""
    return tools.exclusive(tools.cache_root() / "lab.lock", LAB_WAIT_S, "", every_s=5)


def control_planes(*names_and_addresses: tuple[str, str]) -> list[Node]:
    return [Node(name, address, CONTROL_PLANE) for name, address in names_and_addresses]


def workers(*names_and_addresses: tuple[str, str]) -> list[Node]:
    return [Node(name, address, WORKER) for name, address in names_and_addresses]
