"""etcd-restore.sh in a sandbox (stub crictl that runs a static pod while its manifest is in the kubelet's folder,
stub ctr with or without etcdutl): the three phases in the upstream order, each refused out of order, the old data
kept, a missing restore tool stopping before anything moves, every phase harmless twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

from components.remote import host_scripts
from tests.addons.test_etcd_backup import stub

SCRIPT = host_scripts.SCRIPTS_DIR / "etcd-restore.sh"
MEMBERS = "cp-1=https://203.0.113.21:2380,cp-2=https://203.0.113.22:2380,cp-3=https://203.0.113.23:2380"
ETCD_MANIFEST = """apiVersion: v1
kind: Pod
spec:
  containers:
  - command:
    - etcd
    - --name=cp-1
    - --initial-advertise-peer-urls=https://203.0.113.21:2380
    image: registry.k8s.io/etcd:3.6.5-0
"""


class RestoreBox:
    def __init__(self, base: Path, image_has_etcdutl: bool = True):
        self.root, self.bin = base / "root", base / "bin"
        self.manifests = self.root / "etc/kubernetes/manifests"
        self.parked = self.root / "etc/kubernetes/manifests-parked-by-etcd-restore"
        self.manifests.mkdir(parents=True)
        (self.manifests / "etcd.yaml").write_text(ETCD_MANIFEST)
        for pod in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            (self.manifests / f"{pod}.yaml").write_text(pod)
        (self.root / "var/lib/etcd/member").mkdir(parents=True)
        (self.root / "var/lib/etcd/member/wal").write_text("current data")
        self.snapshot = base / "snap.db"
        self.snapshot.write_text("snapshot")
        # The kubelet: a static pod runs while its manifest is in the folder. `--name '^(a|b)$'` is the last arg.
        stub(self.bin, "crictl", f'pattern=${{*: -1}}; pattern=${{pattern#^(}}; pattern=${{pattern%)$}}\n'
                                 f'IFS="|" read -ra pods <<<"$pattern"\n'
                                 f'for pod in "${{pods[@]}}"; do [[ -f "{self.manifests}/$pod.yaml" ]] && '
                                 f'echo "id-$pod"; done; true')
        version = "exit 0" if image_has_etcdutl else 'echo "exec: etcdutl: not found" >&2; exit 1'
        stub(self.bin, "ctr", f'[[ "$*" == *"etcdutl version"* ]] && {{ {version}; }}\n'
                              f'[[ -e "{self.bin}/ctr.fail" ]] && exit 1\n'
                              f'mkdir -p "{self.root}/var/lib/etcd/member"\n'
                              f'echo restored >"{self.root}/var/lib/etcd/member/snap"')
        # An etcdctl of etcd 3.6, which restores no more: never the tool here.
        stub(self.bin, "etcdctl", 'echo "etcdctl version: 3.6.5"; echo "API version: 3.6"')
        stub(self.bin, "sleep", "true")
        stub(self.bin, "systemctl", "true")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "ROOT": str(self.root), "ETCD_RESTORE_ATTEMPTS": "3"}
        return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30)

    def calls(self, name: str) -> list[str]:
        log = self.bin / "calls.log"
        return [c for c in log.read_text().splitlines() if c.startswith(name)] if log.exists() else []


PODS = ["etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"]


def test_the_phases_stop_the_controllers_and_api_server_first_restore_every_member_then_start_etcd_first(tmp_path):
    box = RestoreBox(tmp_path)
    stopped = box.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert [c.split()[-1] for c in box.calls("crictl")] == [
        "^(kube-controller-manager|kube-scheduler)$", "^(kube-apiserver)$", "^(etcd)$"], \
        "no controller acts on a half-restored cluster; the API server stops before etcd"
    assert sorted(p.name for p in box.parked.iterdir()) == PODS
    restored = box.run("restore", str(box.snapshot), MEMBERS)
    assert restored.returncode == 0, restored.stderr
    (restore,) = [c for c in box.calls("ctr") if "snapshot restore" in c]
    assert "registry.k8s.io/etcd:3.6.5-0" in restore
    assert "etcdutl snapshot restore /snapshot/snap.db --data-dir /var/lib/etcd --name cp-1" in restore
    assert f"--initial-cluster {MEMBERS} --initial-advertise-peer-urls https://203.0.113.21:2380" in restore
    # Revisions go forward, so that watchers (controllers, kubelets) list the restored state (etcd#16028).
    assert restore.endswith("--bump-revision 1000000000 --mark-compacted")
    assert not (box.manifests / "etcd.yaml").exists(), "restore starts nothing: every member is restored first"
    (aside,) = (box.root / "var/lib").glob("etcd.before-restore-*")
    assert (aside / "member/wal").read_text() == "current data", "the old data is kept"
    (box.bin / "calls.log").unlink()
    started = box.run("start")
    assert started.returncode == 0, started.stderr
    assert sorted(p.name for p in box.manifests.iterdir()) == PODS and not box.parked.exists()
    assert [c.split()[-1] for c in box.calls("crictl")] == ["^(etcd)$"], "etcd waited for before the API server"
    assert box.calls("systemctl") == ["systemctl restart kubelet"], "the kubelet drops what it cached"
    assert "restart the kubelet on every worker" in started.stderr
    assert (box.root / "var/lib/etcd/member/snap").read_text() == "restored\n"


def test_a_restore_before_the_stop_and_a_start_before_the_restore_are_refused(tmp_path):
    box = RestoreBox(tmp_path)
    early = box.run("restore", str(box.snapshot), MEMBERS)
    assert early.returncode != 0 and "run 'stop' on every control plane first" in early.stderr
    assert (box.root / "var/lib/etcd/member/wal").exists() and not list((box.root / "var/lib").glob("etcd.before*"))
    assert box.run("stop").returncode == 0
    unrestored = box.run("start")
    assert unrestored.returncode != 0 and "is not restored" in unrestored.stderr
    assert not (box.manifests / "etcd.yaml").exists()


def test_without_etcdutl_nothing_moves_even_with_an_etcdctl_that_restores_without_bumping_revisions(tmp_path):
    box = RestoreBox(tmp_path, image_has_etcdutl=False)
    stub(box.bin, "etcdctl", 'echo "etcdctl version: 3.4.23"; echo "API version: 3.4"')
    assert box.run("stop").returncode == 0
    result = box.run("restore", str(box.snapshot), MEMBERS)
    assert result.returncode != 0 and "no etcdutl on this host or in the etcd image" in result.stderr
    assert (box.root / "var/lib/etcd/member/wal").read_text() == "current data"
    assert not [c for c in box.calls("ctr") if "snapshot restore" in c]


def test_every_phase_is_harmless_twice_and_a_restore_cut_short_is_run_again(tmp_path):
    box = RestoreBox(tmp_path)
    assert box.run("stop").returncode == 0 and box.run("stop").returncode == 0
    (box.bin / "ctr.fail").touch()
    assert box.run("restore", str(box.snapshot), MEMBERS).returncode != 0
    (box.bin / "ctr.fail").unlink()
    assert box.run("restore", str(box.snapshot), MEMBERS).returncode == 0
    again = box.run("restore", str(box.snapshot), MEMBERS)
    assert again.returncode == 0 and "already restored from this snapshot" in again.stderr
    assert len([c for c in box.calls("ctr") if "snapshot restore" in c]) == 2
    assert len(list((box.root / "var/lib").glob("etcd.before-restore-*"))) == 1, "the original data, kept once"
    assert box.run("start").returncode == 0 and box.run("start").returncode == 0
    assert (box.manifests / "etcd.yaml").exists()


def test_a_missing_snapshot_is_refused(tmp_path):
    box = RestoreBox(tmp_path)
    assert box.run("stop").returncode == 0
    result = box.run("restore", str(tmp_path / "nope.db"))
    assert result.returncode != 0 and "missing or empty" in result.stderr


def test_every_control_plane_gets_the_restore_program_and_a_second_run_changes_nothing(tmp_path):
    from components.bootstrap import host_steps
    from tests.plan_fixtures import shipped_plan
    from tests.sandbox import Sandbox, render_for
    steps = {r["name"]: r for r in shipped_plan("prod").document["resources"] if r["name"].endswith("-etcd-restore-tool")}
    assert sorted(steps) == [f"k8s-prod-cp-{i}-etcd-restore-tool" for i in range(3)]
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, host_steps.etcd_restore_tool)).returncode == 0
    installed = box.root / host_steps.ETCD_RESTORE_PATH.lstrip("/")
    assert installed.read_text() == SCRIPT.read_text() + ("" if SCRIPT.read_text().endswith("\n") else "\n")
    assert oct(installed.stat().st_mode & 0o777) == "0o755"
    box.reset_calls()
    again = box.run(render_for(box, host_steps.etcd_restore_tool))
    assert again.returncode == 0 and "is current" in again.stderr
