"""Bring-up benchmark (not a test): the program's `pulumi up` of a lab and an HA cluster against the same cluster
brought up by hand with kubeadm on the same kind of machines, in one run, as a ratio.

    python -m tests.realnodes.benchmark [--topologies lab,ha]

By hand means what an experienced person types, as fast as it can go: on every node at once, the package sources and
their keys, containerd.io and the Kubernetes packages from the lab's mirrors, the same containerd configuration and
registry mirrors, on the control planes the same audit policy and encryption configuration (encryption on from the
start); on the load balancers haproxy and keepalived with the same configuration; then `kubeadm init --upload-certs`
with a preset token and certificate key, the control planes joining one after another, the workers at once, until
every node is Ready. The files are the program's own renderings (components/bootstrap/node_config.py and friends),
so both clusters are the same. Each cluster gets fresh machines; the machines' boot is timed apart.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import secrets
import shlex
import tempfile
import time
from pathlib import Path

from components import versions
from components.baremetal import haproxy_config, keepalived_config
from components.bootstrap import api_security, host_steps, node_config
from components.bootstrap.node_config import ClusterFacts, NodeFacts
from components.settings.host_system import HostSystemSettings
from components.settings.mirrors import read_mirrors
from components.settings.reader import Problems
from components.sizing import NodeSize
from tests.realnodes.cluster import VIP, Node, RealCluster
from tests.realnodes.test_ha_cluster import NODES as HA_NODES
from tests.realnodes.test_lab_cluster import NODES as LAB_NODES

VERSION = versions.DEFAULT_KUBERNETES_VERSION
TOPOLOGIES = {"lab": LAB_NODES, "ha": HA_NODES}


def _facts(cluster: RealCluster, port: int) -> ClusterFacts:
    planes = [n for n in cluster.nodes.values() if n.role == "control-plane"]
    settings = cluster.mirrors.settings()
    return ClusterFacts("k8s-real", "lab", VERSION, f"{VIP}:{port}", (VIP, *[n.address for n in planes]),
                        "10.244.0.0/16", "10.96.0.0/12", 24, 110, versions.DEFAULT_IMAGE_REPOSITORY,
                        host_system=HostSystemSettings(True, True), mirrors=read_mirrors(settings, Problems()),
                        monitoring=False)


def _node(node: Node) -> NodeFacts:
    return NodeFacts(node.name, node.address, node.role, NodeSize(2, 2, 20))


def _write(path: str, content: str, mode: str = "644") -> str:
    return f"install -D -m {mode} /dev/null {path} && printf '%s\\n' {shlex.quote(content)} >{path}"


def install_script(c: ClusterFacts, node: Node) -> str:
    """Packages, containerd's configuration, and on a control plane the audit policy and encryption key."""
    k8s, docker = c.mirrors.kubernetes_packages, c.mirrors.containerd_packages
    minor = versions.kubernetes_minor(VERSION)
    lines = ["set -euo pipefail",
             f"printf '%s' {shlex.quote(k8s.signing_key)} | gpg --dearmor -o /etc/apt/keyrings/k8s.gpg --yes",
             f"printf '%s' {shlex.quote(docker.signing_key)} >/etc/apt/keyrings/docker.asc",
             _write("/etc/apt/sources.list.d/kubernetes.list",
                    f"deb [signed-by=/etc/apt/keyrings/k8s.gpg] {k8s.url}v1.{minor}/deb/ /"),
             _write("/etc/apt/sources.list.d/docker.list",
                    f"deb [signed-by=/etc/apt/keyrings/docker.asc] {docker.url}debian bookworm stable"),
             "apt-get update -q >/dev/null",
             f"DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd.io kubelet={VERSION}-1.1 "
             f"kubeadm={VERSION}-1.1 kubectl={VERSION}-1.1 cri-tools={host_steps.cri_tools_package_version(VERSION)}"
             " >/dev/null"]
    for name, mirror in c.mirrors.registries:
        lines.append(_write(f"/etc/containerd/certs.d/{name}/hosts.toml",
                            f'server = "https://{name}"\n\n[host."{mirror.url}"]\n  capabilities = ["pull", "resolve"]'))
    lines += [_write("/etc/containerd/config.toml", node_config.containerd_config(c)), "systemctl restart containerd",
              # the node's kubelet reservations, the kubeadm patch the init and join configurations point at
              _write(f"/etc/kubernetes/patches/{node_config.KUBELET_PATCH_FILE}",
                     node_config.to_yaml(node_config.kubelet_patch(c.tier, _node(node))), "600")]
    if node.role == "control-plane":
        lines += [_write(api_security.AUDIT_POLICY_FILE, node_config.to_yaml(api_security.audit_policy()), "600"),
                  f"mkdir -p -m 700 {api_security.AUDIT_LOG_DIR}"]
    return "\n".join(lines)


def encryption_script(key: str) -> str:
    config = node_config.to_yaml(api_security.encryption_config([("key-1", key)]))
    return _write(api_security.ENCRYPTION_CONFIG_FILE, config, "600")


def load_balancer_script(c: ClusterFacts, nodes: list[Node], me: Node, auth: str, port: int) -> str:
    planes = [haproxy_config.Backend(n.name, n.address) for n in nodes if n.role == "control-plane"]
    holders = [keepalived_config.Peer(n.name, n.address, "eth0") for n in nodes if n.role == "load-balancer"]
    mine = next(p for p in holders if p.name == me.name)
    return "\n".join(["set -euo pipefail",
                      "apt-get update -q >/dev/null",
                      "DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy keepalived >/dev/null",
                      _write("/etc/haproxy/haproxy.cfg", haproxy_config.render(port, planes, len(nodes))),
                      _write("/etc/keepalived/keepalived.conf",
                             keepalived_config.render(mine, holders, VIP, 24, 51, auth), "600"),
                      "systemctl restart haproxy keepalived"])


def hand(cluster: RealCluster) -> dict[str, float]:
    """The cluster by hand; returns the seconds of each phase."""
    nodes = list(cluster.nodes.values())
    dedicated = any(n.role == "load-balancer" for n in nodes)
    port = 6443 if dedicated else 8443
    c = _facts(cluster, port)
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    token = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
    certificate_key = secrets.token_hex(32)
    planes = [n for n in nodes if n.role == "control-plane"]
    workers = [n for n in nodes if n.role == "worker"]
    timings: dict[str, float] = {}
    started = time.monotonic()
    auth = secrets.token_hex(4)

    def on(node: Node, script: str) -> None:
        cluster.on(node.name, f"bash -c {shlex.quote(script)}", timeout=900)

    with concurrent.futures.ThreadPoolExecutor(len(nodes)) as pool:
        jobs = []
        for node in nodes:
            if node.role == "load-balancer":
                jobs.append(pool.submit(on, node, load_balancer_script(c, nodes, node, auth, port)))
            else:
                script = install_script(c, node)
                if node.role == "control-plane":
                    script += "\n" + encryption_script(key)
                jobs.append(pool.submit(on, node, script))
        for job in jobs:
            job.result()
    if not dedicated:  # colocated: haproxy and keepalived on the control plane
        on(planes[0], load_balancer_script(c, [*nodes, Node(planes[0].name, planes[0].address, "load-balancer")],
                                           Node(planes[0].name, planes[0].address, "load-balancer"), auth, port))
    timings["hosts"] = time.monotonic() - started
    init = node_config.init_documents(c, _node(planes[0]), token)
    init[0]["certificateKey"] = certificate_key
    on(planes[0], _write("/root/init.yaml", node_config.to_yaml(init), "600")
       + " && { kubeadm init --config /root/init.yaml --upload-certs >/root/init.log 2>&1 || "
         "{ tail -n 30 /root/init.log; exit 1; }; }")
    timings["init"] = time.monotonic() - started - timings["hosts"]
    ca_hash = cluster.on(planes[0].name, "openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey "
                                         "-pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1").stdout.strip()

    def join(node: Node) -> None:
        document = node_config.join_configuration(c, _node(node), token, f"sha256:{ca_hash}",
                                                  certificate_key if node.role == "control-plane" else None)
        on(node, _write("/root/join.yaml", node_config.to_yaml(document), "600")
           + " && { kubeadm join --config /root/join.yaml >/root/join.log 2>&1 || "
             "{ tail -n 30 /root/join.log; exit 1; }; }")

    for node in planes[1:]:
        join(node)
    with concurrent.futures.ThreadPoolExecutor(max(len(workers), 1)) as pool:
        list(pool.map(join, workers))
    timings["joins"] = time.monotonic() - started - timings["hosts"] - timings["init"]
    admin = cluster.on(planes[0].name, "cat /etc/kubernetes/admin.conf").stdout
    (cluster.directory / "kubeconfig").write_text(admin)
    cluster.wait_ready([n.name for n in planes + workers], timeout=300)
    timings["total"] = time.monotonic() - started
    return timings


def measure(topology: str, directory: Path, spans: Path | None = None, with_hand: bool = True) -> dict:
    nodes = TOPOLOGIES[topology]
    by_hand = {"total": float("nan")}
    if with_hand:
        with RealCluster(directory / f"{topology}-hand", f"b{topology[0]}h", nodes) as cluster:
            by_hand = hand(cluster)
    with RealCluster(directory / f"{topology}-program", f"b{topology[0]}p", nodes) as cluster:
        started = time.monotonic()
        result = cluster.up()
        cluster.kubeconfig()
        cluster.wait_ready([n.name for n in nodes if n.role != "load-balancer"], timeout=300)
        program = time.monotonic() - started
        lab = cluster.timings["lab"]
        if spans is not None:
            spans.write_text(json.dumps(step_spans(result), indent=1))
    return {"topology": topology, "machines": len(nodes), "handSeconds": round(by_hand["total"], 1),
            "handPhases": {k: round(v, 1) for k, v in by_hand.items()}, "programSeconds": round(program, 1),
            "ratio": round(program / by_hand["total"], 2), "labBootSeconds": round(lab, 1),
            "programSlowestSteps": slowest_steps(result)}


def step_spans(result: dict) -> dict[str, tuple[int, int]]:
    """Each step's (start, end) in whole seconds from the first step's start (the engine's event times)."""
    times: dict[str, list[int]] = {}
    for event in result["events"]:
        urn = event.get("urn") or ""
        if "$command:" in urn and event["kind"] in ("resource_pre_event", "res_outputs_event"):
            times.setdefault(urn.split("::")[-1], []).append(event["time"])
    first = min((min(t) for t in times.values()), default=0)
    return {name: (min(t) - first, max(t) - first) for name, t in sorted(times.items(), key=lambda i: min(i[1]))
            if len(t) >= 2}


def slowest_steps(result: dict, count: int = 12) -> dict[str, int]:
    """The program's steps that took longest (the engine's event times, whole seconds)."""
    spans = {name: end - start for name, (start, end) in step_spans(result).items()}
    return dict(sorted(spans.items(), key=lambda item: -item[1])[:count])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topologies", default="lab,ha")
    parser.add_argument("--spans", type=Path, help="write each program step's (start, end) seconds here, per topology "
                                                    "(FILE.<topology>.json)")
    parser.add_argument("--program-only", action="store_true", help="skip the hand-run cluster (no ratio)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bring-up-") as work:
        for topology in arguments.topologies.split(","):
            spans = arguments.spans.with_suffix(f".{topology}.json") if arguments.spans else None
            print(json.dumps(measure(topology, Path(work), spans, not arguments.program_only)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
