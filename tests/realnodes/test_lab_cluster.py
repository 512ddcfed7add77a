"""A lab-tier cluster on real machines, through the real engine: one control plane (holding the API's virtual IP,
colocated) and one worker, Debian 12 with systemd, containerd 2.3, kubeadm, kubelet and the control plane at 1.37.2
from the lab's mirrors. `pulumi up` makes a cluster that works, end to end, from the stack's kubeconfig output; the
audit log and the encryption at rest are live; the certificates output holds the real dates; a second `up` changes
and runs nothing; `destroy` resets the hosts. And what the stubs never showed stays fixed on real machines."""

from __future__ import annotations

import base64
import datetime
import json
import re

import pytest

from tests.realnodes.cluster import VIP, Node, RealCluster

pytestmark = pytest.mark.usefixtures("realnode_tools")
NODES = [Node("cp-1", "198.51.100.11", "control-plane"), Node("worker-1", "198.51.100.21", "worker")]
PROBE = "docker.io/k8splatform/probe:1"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with RealCluster(tmp_path_factory.mktemp("lab"), "lab", NODES) as made:
        made.first = made.up()
        made.kubeconfig()
        yield made


def test_up_makes_a_cluster_whose_kubeconfig_output_reaches_it_with_every_node_ready(cluster):
    assert cluster.first["changeSummary"]["create"] > 40
    assert cluster.kubectl("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}").stdout == \
        f"https://{VIP}:8443", "through the virtual IP, which keepalived holds and haproxy serves"
    cluster.wait_ready(["cp-1", "worker-1"], timeout=120)
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes} == {
        "cp-1": "v1.37.2", "worker-1": "v1.37.2"}
    assert all(n["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://2.3.7") for n in nodes)


def test_a_deployment_a_service_and_a_dns_lookup_from_a_pod_work(cluster):
    k = cluster.kubectl
    k("create", "deployment", "probe", f"--image={PROBE}", "--replicas=2", "--", "/usr/local/bin/probe", "serve")
    k("expose", "deployment", "probe", "--port=80", "--target-port=8080")
    k("rollout", "status", "deployment/probe", "--timeout=180s", timeout=200)
    # CoreDNS answers only once its pods are ready; right after `up` (about 2 minutes for this stack) they may not be.
    k("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s", timeout=200)
    for name, command in (("lookup", "lookup probe.default.svc.cluster.local"),
                          ("get", "get http://probe.default.svc.cluster.local/")):
        # Restarted until it succeeds: right after `up` the Service's rules may not be on every node yet.
        k("run", name, f"--image={PROBE}", "--restart=OnFailure", "--command", "--", "/usr/local/bin/probe",
          *command.split())
        k("wait", f"pod/{name}", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=120s", timeout=150)
    service_ip = k("get", "service", "probe", "-o", "jsonpath={.spec.clusterIP}").stdout
    assert k("logs", "lookup").stdout.split() == [service_ip], "CoreDNS resolved the Service's name"
    answer = k("logs", "get").stdout
    assert answer.startswith("200 OK\nhello from probe-"), answer


def test_secrets_are_sealed_in_etcd_and_the_audit_log_holds_what_the_policy_promises(cluster):
    cluster.kubectl("create", "secret", "generic", "sealed", "--from-literal=password=hunter2")
    cluster.kubectl("create", "configmap", "audited", "--from-literal=k=v")
    etcdctl = ("crictl exec \"$(crictl ps --quiet --name '^etcd$')\" etcdctl --endpoints https://127.0.0.1:2379 "
               "--cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/peer.crt "
               "--key /etc/kubernetes/pki/etcd/peer.key")
    stored = cluster.on("cp-1", f"{etcdctl} get /registry/secrets/default/sealed --print-value-only | base64 -w0")
    value = base64.b64decode(stored.stdout)
    assert value.startswith(b"k8s:enc:secretbox:v1:key-") and b"hunter2" not in value
    log = cluster.on("cp-1", "cat /var/log/kubernetes/audit/audit.log").stdout
    events = [json.loads(line) for line in log.splitlines() if line.strip()]

    def about(resource: str, name: str) -> list[dict]:
        return [e for e in events if e.get("objectRef", {}).get("resource") == resource
                and e.get("objectRef", {}).get("name") == name and e["verb"] == "create"]

    assert {e["level"] for e in about("secrets", "sealed")} == {"Metadata"}, "a Secret's content never logged"
    assert all("requestObject" not in e for e in about("secrets", "sealed"))
    assert {e["level"] for e in about("configmaps", "audited")} == {"Metadata"}
    created = [e for e in events if e.get("objectRef", {}).get("resource") == "deployments" and e["verb"] == "create"]
    assert created and all(e["level"] == "Request" and "requestObject" in e for e in created), \
        "other writes with their body (the probe Deployment)"
    leases = [e for e in events if e.get("objectRef", {}).get("resource") == "leases"
              and e["user"]["username"].startswith("system:node:")]
    assert [e["verb"] for e in leases if e["verb"] != "create"] == [], "the kubelets' lease renewals are left out"
    assert {e["objectRef"]["name"] for e in leases} <= {"cp-1", "worker-1"}, "(only their leases' creation)"
    assert not any(e.get("stage") == "RequestReceived" for e in events)


def test_the_certificates_output_shows_the_real_expiry_dates(cluster):
    output = json.loads(cluster.engine.cli("stack", "output", "certificates", "--json"))
    dates = output["cp-1"]["certificates"]
    on_host = cluster.on("cp-1", "kubeadm certs check-expiration").stdout
    expiry = re.search(r"^apiserver\s+(\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC)", on_host, re.MULTILINE)[1]
    assert dates["apiserver"].startswith(datetime.datetime.strptime(expiry, "%b %d, %Y %H:%M %Z").strftime("%Y-%m-%dT%H:%M"))
    made = datetime.datetime.fromisoformat(dates["apiserver"].replace("Z", "+00:00"))
    assert 360 <= (made - datetime.datetime.now(datetime.timezone.utc)).days <= 366, "kubeadm's one year"


def test_what_the_real_machines_showed_stays_fixed(cluster):
    for name in ("cp-1", "worker-1"):
        # The kubelet package's .kubelet-keep is no leftover of a failed run: a fresh node is not reset.
        assert cluster.on(name, "test -e /etc/kubernetes/k8s-platform/reset.log", check=False).returncode != 0, name
        # The kubelet writes its whole status every 5 minutes, not at each 10 s update.
        config = cluster.on(name, "cat /var/lib/kubelet/config.yaml").stdout
        assert "nodeStatusReportFrequency: 5m0s" in config and "nodeStatusUpdateFrequency: 10s" in config
    # kubeadm never looked its version up on the internet (it names every lookup it makes in its output).
    logs = cluster.on("cp-1", "cat /etc/kubernetes/k8s-platform/*.log").stdout
    assert "stable-1.txt" not in logs and "could not fetch a Kubernetes version" not in logs
    # Without monitoring, the controller-manager, the scheduler and etcd's metrics stay on the host's loopback.
    listening = cluster.on("cp-1", "ss -H -ltn").stdout
    for port in ("10257", "10259", "2381"):
        addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.splitlines()
                     if line.split()[3].endswith(f":{port}")}
        assert addresses == {"127.0.0.1"}, (port, addresses)
    # crictl, which our scripts use to find and restart the static pods, finds them.
    assert cluster.on("cp-1", "crictl ps --quiet --state running --name '^kube-apiserver$'").stdout.strip()


def test_a_second_up_changes_and_runs_nothing(cluster):
    steps_before = {name: cluster.on(name, "ls -l --time-style=+%s /etc/kubernetes/k8s-platform").stdout
                    for name in ("cp-1", "worker-1")}
    again = cluster.up()
    assert set(again["changeSummary"]) == {"same"}, again["changeSummary"]
    assert {name: cluster.on(name, "ls -l --time-style=+%s /etc/kubernetes/k8s-platform").stdout
            for name in ("cp-1", "worker-1")} == steps_before


def test_destroy_completes_and_resets_the_hosts(cluster):
    destroyed = cluster.run("destroy")
    assert destroyed["ok"], destroyed.get("error", "")[-4000:]
    for name in ("cp-1", "worker-1"):
        left = cluster.on(name, "ls /etc/kubernetes/manifests /etc/kubernetes/pki 2>/dev/null; "
                                "systemctl is-enabled kubelet || true").stdout
        assert "kube-apiserver.yaml" not in left and "ca.crt" not in left and "disabled" in left, (name, left)
