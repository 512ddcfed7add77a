"""An etcd restore drill on the etcd the cluster runs (etcd, etcdctl and etcdutl at the version kubeadm of the pinned
Kubernetes runs, built from their Go modules by tests/realnodes/tools.py): a three-member cluster on 127.0.0.1 with
TLS for clients, keys written, a snapshot taken with the backup job's own command, more keys written, then
etcd-restore.sh in its three phases on every member (a small kubelet stand-in runs each member's etcd while its
manifest is in its folder), and the keys read back: those of the snapshot, not the later ones, on a healthy
three-member cluster whose revisions went forward and whose older revisions are compacted (what makes every watcher
list the restored state again).

Everything stays in the test's directory and on 127.0.0.1; every etcd it starts is stopped when it ends."""

from __future__ import annotations

import os
import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from components import versions
from components.addons.etcd_backup import values as etcd_backup
from components.remote import host_scripts
from tests.addons.test_etcd_backup import stub
from tests.realnodes import tools

SCRIPT = host_scripts.SCRIPTS_DIR / "etcd-restore.sh"
NAMES = ("cp-1", "cp-2", "cp-3")
CLIENT_PORTS = {name: 23791 + i for i, name in enumerate(NAMES)}
PEER_PORTS = {name: 23801 + i for i, name in enumerate(NAMES)}
MEMBERS = ",".join(f"{n}=http://127.0.0.1:{PEER_PORTS[n]}" for n in NAMES)
START_TIMEOUT_S = 60
ETCD_VERSION = versions.kubeadm_images(versions.DEFAULT_KUBERNETES_VERSION)["etcd"].split("-")[0]
CONTROLLERS = ("kube-controller-manager", "kube-scheduler")
ETCD_BIN = tools.etcd(ETCD_VERSION).folder
ETCDCTL = ETCD_BIN / "etcdctl"
BUMP_REVISION = 1_000_000_000  # etcd-restore.sh's


@pytest.fixture(scope="module")
def etcd_bin(realnode_tools) -> Path:
    assert all((ETCD_BIN / name).is_file() for name in ("etcd", "etcdctl", "etcdutl")), ETCD_BIN
    return ETCD_BIN


def certificates(pki: Path) -> None:
    """A CA and one certificate for server and client use on 127.0.0.1, named as kubeadm names the peer's."""
    pki.mkdir(parents=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=pki, check=True, capture_output=True, timeout=60)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=etcd-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "peer.key", "-out", "peer.csr", "-subj", "/CN=cp")
    (pki / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    openssl("x509", "-req", "-in", "peer.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "peer.crt", "-days", "2", "-extfile", "ext.cnf")
    # The backup job's client certificate (kubeadm's etcd-healthcheck-client): a client of the same CA.
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "healthcheck-client.key", "-out", "client.csr",
            "-subj", "/O=system:masters/CN=kube-etcd-healthcheck-client")
    (pki / "client.cnf").write_text("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "healthcheck-client.crt", "-days", "2", "-extfile", "client.cnf")


class Member:
    def __init__(self, base: Path, name: str, pki: Path, etcd_bin: Path):
        self.name, self.pki, self.etcd_bin = name, pki, etcd_bin
        self.root = base / name / "root"
        self.bin = base / name / "bin"
        self.manifests = self.root / "etc/kubernetes/manifests"
        self.manifests.mkdir(parents=True)
        self.pid_file = base / name / "etcd.pid"
        self.log = base / name / "etcd.log"
        self.process: subprocess.Popen | None = None
        # The manifest etcd-restore.sh reads its member's name and peer URL from.
        (self.manifests / "etcd.yaml").write_text(
            f"spec:\n  containers:\n  - command:\n    - etcd\n    - --name={name}\n"
            f"    - --initial-advertise-peer-urls=http://127.0.0.1:{PEER_PORTS[name]}\n"
            f"    image: registry.k8s.io/etcd:3.6.5-0\n")
        for pod in ("kube-apiserver", *CONTROLLERS):
            (self.manifests / f"{pod}.yaml").write_text(f"{pod}\n")
        # crictl: etcd runs while its process lives; the other static pods while their manifest is in the folder.
        stub(self.bin, "crictl", f'for pod in etcd kube-apiserver {" ".join(CONTROLLERS)}; do\n'
                                 f'  [[ "${{*: -1}}" == *"$pod|"* || "${{*: -1}}" == *"$pod)"* ]] || continue\n'
                                 f'  if [[ $pod == etcd ]]; then [[ -f "{self.pid_file}" ]] && echo id-etcd\n'
                                 f'  else [[ -f "{self.manifests}/$pod.yaml" ]] && echo "id-$pod"; fi\n'
                                 f'done; true')
        stub(self.bin, "systemctl", "true")  # the start phase restarts the kubelet

    def endpoint(self) -> str:
        return f"https://127.0.0.1:{CLIENT_PORTS[self.name]}"

    def start(self) -> None:
        peer = f"http://127.0.0.1:{PEER_PORTS[self.name]}"
        command = [str(self.etcd_bin / "etcd"), "--name", self.name, "--data-dir", str(self.root / "var/lib/etcd"),
                   "--listen-client-urls", self.endpoint(), "--advertise-client-urls", self.endpoint(),
                   "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                   "--initial-cluster", MEMBERS, "--initial-cluster-state", "new",
                   "--cert-file", str(self.pki / "peer.crt"), "--key-file", str(self.pki / "peer.key"),
                   "--trusted-ca-file", str(self.pki / "ca.crt"), "--client-cert-auth"]
        self.process = subprocess.Popen(command, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        self.pid_file.write_text(f"{self.process.pid}\n")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        self.pid_file.unlink(missing_ok=True)

    def kubelet_step(self) -> None:
        """What the kubelet does with the static pod: etcd runs exactly while its manifest is in the folder."""
        wanted = (self.manifests / "etcd.yaml").exists()
        if wanted and self.process is None:
            self.start()
        elif not wanted and self.process is not None:
            self.stop()

    def phase(self, *args: str) -> subprocess.CompletedProcess:
        env = {"PATH": f"{self.bin}:{self.etcd_bin}:/usr/bin:/bin", "ROOT": str(self.root),
               "ETCD_RESTORE_ATTEMPTS": "30"}
        return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def etcdctl(pki: Path, endpoint: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(ETCDCTL), f"--endpoints={endpoint}", f"--cacert={pki}/ca.crt", f"--cert={pki}/peer.crt",
                           f"--key={pki}/peer.key", "--dial-timeout=3s", "--command-timeout=10s", *args],
                          capture_output=True, text=True, timeout=60, check=check)


def put(pki: Path, endpoint: str, key: str, value: str) -> int:
    """Writes a key; returns the revision etcd gave the write."""
    return json.loads(etcdctl(pki, endpoint, "put", key, value, "-w", "json").stdout)["header"]["revision"]


def wait_healthy(pki: Path, members: list[Member]) -> None:
    endpoints = ",".join(m.endpoint() for m in members)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if etcdctl(pki, endpoints, "endpoint", "health", check=False).returncode == 0:
            return
        time.sleep(0.5)
    logs = "\n".join(m.log.read_text()[-1500:] for m in members if m.log.exists())
    pytest.fail(f"etcd not healthy within {START_TIMEOUT_S} s:\n{logs}")


def backup_command(pki: Path, member: Member, out: Path) -> list[str]:
    """The backup job's snapshot command (etcd_backup.cronjob), pointed at this member, its certificates and `out`."""
    job = etcd_backup.cronjob("cp-1", "registry.k8s.io/etcd:3.6.5-0", etcd_backup.TIERS["prod"], None)
    containers = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"] + \
        job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    (snapshot,) = [c for c in containers if c["name"] == "snapshot"]
    assert snapshot["command"][:3] == ["etcdctl", "snapshot", "save"]
    replaced = {"/backup/incoming.db": str(out), "--endpoints=https://127.0.0.1:2379": f"--endpoints={member.endpoint()}"}
    return [replaced.get(arg, arg.replace(etcd_backup.PKI_DIR, str(pki))) for arg in snapshot["command"]]


def test_a_three_member_cluster_is_restored_from_the_backup_jobs_snapshot_with_its_revisions_moved_forward(
        tmp_path, etcd_bin):
    pki = tmp_path / "pki"
    certificates(pki)
    members = [Member(tmp_path, name, pki, etcd_bin) for name in NAMES]
    stop_kubelet = threading.Event()

    def kubelet() -> None:
        while not stop_kubelet.is_set():
            for member in members:
                member.kubelet_step()
            time.sleep(0.2)
    thread = threading.Thread(target=kubelet, daemon=True)
    thread.start()
    try:
        wait_healthy(pki, members)
        for i in range(50):
            snapshot_revision = put(pki, members[0].endpoint(), f"/registry/drill/key-{i:02d}", f"value-{i}")
        snapshot = tmp_path / "snapshot.db"
        saved = subprocess.run(backup_command(pki, members[1], snapshot),
                               env={**os.environ, "PATH": f"{etcd_bin}:{os.environ['PATH']}"},
                               capture_output=True, text=True, timeout=60)
        assert saved.returncode == 0 and snapshot.stat().st_size > 0, saved.stderr
        later = put(pki, members[0].endpoint(), "/registry/drill/after-the-snapshot", "lost by the restore")

        said = {}
        for phase in (("stop",), ("restore", str(snapshot), MEMBERS), ("start",)):
            for member in members:  # each phase on every member before the next
                done = member.phase(*phase)
                assert done.returncode == 0, f"{member.name} {phase[0]}: {done.stderr}"
                said[member.name, phase[0]] = done.stderr
            if phase[0] == "stop":
                assert all(m.process is None for m in members), "every etcd stopped before any restore"
        assert all("restored with host-etcdutl, revisions bumped" in said[name, "restore"] for name in NAMES), said

        wait_healthy(pki, members)
        keys = etcdctl(pki, members[2].endpoint(), "get", "/registry/drill/", "--prefix", "--keys-only").stdout.split()
        assert keys == [f"/registry/drill/key-{i:02d}" for i in range(50)], "the snapshot's keys, not the later one"
        listed = etcdctl(pki, members[0].endpoint(), "member", "list").stdout
        assert sorted(line.split(", ")[2] for line in listed.splitlines()) == list(NAMES)
        # Revisions went forward past every write before the restore (a watcher at `later` sees no going back), and
        # the revisions in between are compacted: a watch from before the restore must list again.
        assert put(pki, members[1].endpoint(), "/registry/drill/after-the-restore", "kept") > \
            snapshot_revision + BUMP_REVISION > later
        old = etcdctl(pki, members[0].endpoint(), "get", "/registry/drill/key-00", f"--rev={later}", check=False)
        assert old.returncode != 0 and "compacted" in old.stderr, old
        for member in members:
            aside = list((member.root / "var/lib").glob("etcd.before-restore-*"))
            assert len(aside) == 1 and (aside[0] / "member").is_dir(), "each member's old data is kept"
            assert all((member.manifests / f"{pod}.yaml").exists() for pod in ("kube-apiserver", *CONTROLLERS))
    finally:
        stop_kubelet.set()
        thread.join(timeout=10)
        for member in members:
            member.stop()
