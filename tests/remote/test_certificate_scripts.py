"""The control planes' certificate scripts in the sandbox: the read changes nothing; the step installs the daily
timer and renews only what is due (or what certificates.renewal asks), restarting the static pods one after
another; a run cut short resumes; a pod that does not come back stops it with its manifest in place."""

import datetime
import json
import os
import shutil
import subprocess

import pytest

from components.bootstrap import certificates, upgrade_steps
from components.remote.ssh_read import ssh_read_command
from components.settings.certificates import CertificateSettings
from tests.sandbox import Sandbox, render_for

PODS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def stamp(days: float) -> str:
    return certificates.iso(NOW + datetime.timedelta(days=days))


def control_plane(tmp_path, days: dict[str, float], external=(), missing=()) -> Sandbox:
    """A control plane whose kubeadm certificates expire in `days` (by name); its CAs in nine years."""
    box = Sandbox(tmp_path)
    manifests = box.root / "etc/kubernetes/manifests"
    manifests.mkdir(parents=True)
    for pod in PODS:
        (manifests / f"{pod}.yaml").write_text(f"    image: registry.k8s.io/{pod}:v1.35.1\n")
    (box.root / "etc/kubernetes/admin.conf").write_text("admin")
    # The residual time as kubeadm's jsonpath prints it: a float in exponent form (JSON numbers are floats in Go).
    lines = [f"certificate {name} {stamp(d)} {d * 86400:.6e} {str(name in external).lower()} "
             f"{str(name in missing).lower()}" for name, d in days.items()]
    lines += [f"authority {name} {stamp(3285)} {3285 * 86400:.6e} false false" for name in ("ca", "etcd-ca")]
    (box.state / "certs").write_text("\n".join(lines) + "\n")
    (box.state / "renewed-until").write_text(stamp(365) + "\n")
    return box


def step(box, settings=CertificateSettings(), index=0, request="nothing due"):
    return box.run(render_for(box, lambda: certificates.step_script(settings, index, request)), timeout=120)


def report(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])



def generation(box, pod) -> int:
    path = box.state / "containers" / pod
    return int(path.read_text()) if path.exists() else 0


def test_nothing_due_installs_the_timer_renews_nothing_and_reports_the_dates(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 300, "admin.conf": 300, "etcd-peer": 200})
    data = report(step(box, index=2))
    assert not any(c.startswith("kubeadm certs renew") for c in box.calls())
    assert [generation(box, pod) for pod in PODS] == [0, 0, 0, 0], "no static pod restarted"
    assert data["certificates"] == {"apiserver": stamp(300), "admin.conf": stamp(300), "etcd-peer": stamp(200)}
    assert data["authorities"] == {"ca": stamp(3285), "etcd-ca": stamp(3285)}
    assert data["renewed"] == ""
    timer = (box.root / f"etc/systemd/system/{certificates.UNIT}.timer").read_text()
    assert "OnCalendar=*-*-* 04:00:00 UTC" in timer, "the third control plane's timer, an hour after the first's"
    service = (box.root / f"etc/systemd/system/{certificates.UNIT}.service").read_text()
    assert f"ExecStart=/bin/bash {certificates.PROGRAM_PATH}" in service
    program = box.root / certificates.PROGRAM_PATH.lstrip("/")
    assert oct(program.stat().st_mode & 0o777) == "0o700"
    assert (box.state / "enabled" / f"{certificates.UNIT}.timer").exists()
    metrics = (box.root / certificates.METRICS_FILE.lstrip("/")).read_text()
    expiry = int((NOW + datetime.timedelta(days=200)).timestamp())
    assert f'k8s_platform_certificate_expiry_timestamp_seconds{{kind="certificate",certificate="etcd-peer"}} {expiry}' \
        in metrics
    assert "k8s_platform_certificate_check_timestamp_seconds " in metrics
    # Again: nothing to install, nothing to renew.
    box.reset_calls()
    assert report(step(box, index=2))["renewed"] == ""
    assert box.mutating_calls() == []


def test_a_certificate_due_renews_all_and_restarts_each_static_pod_in_turn(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 60, "admin.conf": 300, "front-proxy-client": 300})
    data = report(step(box, request="due within 90 days: apiserver"))
    renewals = [c for c in box.calls() if c.startswith("kubeadm certs renew")]
    assert renewals == ["kubeadm certs renew all"]
    assert data["renewed"] == "expiring within 90 days: apiserver"
    assert data["certificates"]["apiserver"] == stamp(365) and data["certificates"]["admin.conf"] == stamp(365)
    assert [generation(box, pod) for pod in PODS] == [1, 1, 1, 1], "every static pod runs a new container"
    assert all((box.root / f"etc/kubernetes/manifests/{pod}.yaml").exists() for pod in PODS)
    moved = [c for c in box.calls() if c.startswith("crictl ps")]
    first_seen = {pod: next(i for i, c in enumerate(moved) if f"^{pod}$" in c) for pod in PODS}
    assert sorted(PODS, key=first_seen.get) == list(PODS), "etcd first, then the API server, then the others"
    assert any("127.0.0.1:6443/readyz" in c for c in box.calls())
    box.reset_calls()
    assert report(step(box))["renewed"] == "", "renewed once: a second run finds nothing due"
    assert [generation(box, pod) for pod in PODS] == [1, 1, 1, 1]


def test_the_renewal_setting_renews_once_and_external_or_missing_ones_never_count(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 300, "apiserver-etcd-client": 10, "etcd-server": 5},
                        external=("apiserver-etcd-client",), missing=("etcd-server",))
    first = report(step(box))
    assert first["renewed"] == "", "an external or missing certificate is not this host's to renew"
    assert sorted(first["certificates"]) == ["apiserver"], "nor reported as this host's"
    asked = CertificateSettings(renewal=1)
    assert report(step(box, asked))["renewed"] == "certificates.renewal is 1"
    assert report(step(box, asked))["renewed"] == ""
    assert [c for c in box.calls() if c.startswith("kubeadm certs renew")] == ["kubeadm certs renew all"]


def test_a_new_control_plane_records_the_renewal_setting_instead_of_renewing_what_its_join_made(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 365})
    asked = CertificateSettings(renewal=3)
    assert report(step(box, asked))["renewed"] == ""
    assert (box.root / "etc/kubernetes/k8s-platform/certificates-renewal").read_text() == "3\n"
    assert report(step(box, CertificateSettings(renewal=4)))["renewed"] == "certificates.renewal is 4"
    assert [c for c in box.calls() if c.startswith("kubeadm certs renew")] == ["kubeadm certs renew all"]


def test_a_run_cut_short_after_the_renewal_restarts_on_the_next_run(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 300})
    state = box.root / "etc/kubernetes/k8s-platform"
    (state / "held-manifests").mkdir(parents=True)
    (state / "certificates-restart-pending").touch()
    # Cut short while the API server's manifest was out of the kubelet's folder.
    shutil.move(box.root / "etc/kubernetes/manifests/kube-apiserver.yaml", state / "held-manifests")
    report(step(box))
    assert (box.root / "etc/kubernetes/manifests/kube-apiserver.yaml").exists()
    assert not (state / "certificates-restart-pending").exists()
    assert generation(box, "kube-scheduler") == 1


def test_a_static_pod_that_does_not_stop_fails_the_step_with_its_manifest_back(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 20})
    (box.state / "stuck").mkdir()
    (box.state / "stuck" / "kube-apiserver").touch()
    result = step(box)
    assert result.returncode != 0
    assert "kube-apiserver did not stop" in result.stderr
    assert (box.root / "etc/kubernetes/manifests/kube-apiserver.yaml").exists(), "never left without its manifest"
    assert (box.root / "etc/kubernetes/k8s-platform/certificates-restart-pending").exists(), "the next run resumes"


def test_the_read_changes_nothing_and_reports_web_certificates(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 300})
    web = box.root / certificates.CA_DIR.lstrip("/")
    web.mkdir(parents=True)
    (web / "ca.crt").write_text("Dec  2 18:00:00 2036 GMT")
    (web / "harbor.example.org.crt").write_text((NOW + datetime.timedelta(days=20)).strftime("%b %d %H:%M:%S %Y GMT"))
    before = box.snapshot()
    data = report(box.run(render_for(box, certificates.check_script)))
    assert data["web"] == {"harbor.example.org": stamp(20)}, "the web CA itself is not a host certificate"
    assert data["certificates"] == {"apiserver": stamp(300)}
    assert box.mutating_calls() == []
    assert {k: v for k, v in box.snapshot().items() if not k.startswith("state/")} == \
        {k: v for k, v in before.items() if not k.startswith("state/")}
    (box.root / "etc/kubernetes/admin.conf").unlink()
    assert "unavailable" in report(box.run(render_for(box, certificates.check_script)))


@pytest.mark.skipif(not shutil.which("ssh-agent"), reason="needs the OpenSSH client (scripts/test installs it)")
def test_the_local_read_of_a_host_that_does_not_answer_is_no_error(tmp_path):
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    # A port nothing listens on, on this machine's loopback: the connection is refused at once.
    command = ssh_read_command("127.0.0.1", 1, "nobody", None, None, "echo never")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # As `pulumi config set --secret sshPrivateKey < key` stores it: without the last newline, which ssh-add needs.
    stored = key.read_text().rstrip("\n")
    done = subprocess.run(["/bin/bash", "-c", command], input=stored, capture_output=True, text=True,
                          timeout=60, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert "refused" in answer["unavailable"].lower(), "the key was accepted: the read got as far as the host"
    assert stored.splitlines()[1] not in done.stdout + done.stderr
    assert not list(scratch.iterdir()), "nothing of the key left behind"


def test_a_failed_read_fails_rather_than_finding_nothing_due(tmp_path):
    box = control_plane(tmp_path, {"apiserver": 10})
    box.fail("kubeadm-certs")
    result = step(box)
    assert result.returncode != 0 and "kubeadm certs check-expiration failed" in result.stderr
    assert "abcdef.secret" not in result.stderr, "kubeadm's output is shown through the filter"
    read = box.run(render_for(box, certificates.check_script))
    assert read.returncode != 0, "ssh-read.sh turns this into an unavailable report"


def kubelet_node(tmp_path, days: int) -> Sandbox:
    box = Sandbox(tmp_path)
    pki = box.root / "var/lib/kubelet/pki"
    pki.mkdir(parents=True)
    (pki / "kubelet.crt").write_text((NOW + datetime.timedelta(days=days)).strftime("%b %d %H:%M:%S %Y GMT"))
    (pki / "kubelet.key").write_text("old key")
    return box


def serving(box):
    return box.run(render_for(box, upgrade_steps.kubelet_serving_program))


def test_the_kubelet_serving_certificate_is_made_again_within_thirty_days_and_only_then(tmp_path):
    box = kubelet_node(tmp_path / "fresh", 200)
    assert serving(box).returncode == 0
    assert "systemctl restart kubelet" not in box.calls()
    metrics = (box.root / upgrade_steps.SERVING_METRICS_FILE.lstrip("/")).read_text()
    assert 'kind="kubelet-serving",certificate="kubelet.crt"' in metrics

    box = kubelet_node(tmp_path / "old", 20)
    result = serving(box)
    assert result.returncode == 0, result.stderr
    assert box.calls().count("systemctl restart kubelet") == 1
    pki = box.root / "var/lib/kubelet/pki"
    assert (pki / "kubelet.key").read_text() == "key\n", "the kubelet made a new key and certificate"
    assert not list(pki.glob("*.expiring"))
    assert serving(box).returncode == 0 and box.calls().count("systemctl restart kubelet") == 1


def test_a_serving_certificate_run_cut_short_before_the_restart_restarts_the_kubelet_next_time(tmp_path):
    box = kubelet_node(tmp_path, 20)
    pki = box.root / "var/lib/kubelet/pki"
    for name in ("kubelet.crt", "kubelet.key"):  # moved aside, then the run was cut short
        (pki / name).rename(pki / f"{name}.expiring")
    result = serving(box)
    assert result.returncode == 0, result.stderr
    assert box.calls().count("systemctl restart kubelet") == 1
    assert (pki / "kubelet.key").read_text() == "key\n" and not list(pki.glob("*.expiring"))


def test_a_kubelet_that_makes_no_new_serving_certificate_gets_the_old_one_back(tmp_path):
    box = kubelet_node(tmp_path, 20)
    box.fail("kubelet-cert")
    result = serving(box)
    assert result.returncode != 0 and "the old one is back" in result.stderr
    assert (box.root / "var/lib/kubelet/pki/kubelet.key").read_text() == "old key"


def test_the_kubelet_step_installs_the_serving_certificate_timer_on_every_node(tmp_path):
    box = kubelet_node(tmp_path, 200)
    script = render_for(box, lambda: upgrade_steps.kubelet("1.36.5", "kind: KubeletConfiguration\n"))
    box.run(script)
    timer = (box.root / f"etc/systemd/system/{upgrade_steps.SERVING_UNIT}.timer").read_text()
    assert "RandomizedDelaySec=3h" in timer and "OnCalendar=*-*-* 01:00:00 UTC" in timer
    program = (box.root / upgrade_steps.SERVING_PROGRAM_PATH.lstrip("/")).read_text()
    assert f"readonly ROOT={box.root}" in program or f"readonly ROOT='{box.root}'" in program, \
        "the installed program starts where the step does"
    assert (box.state / "enabled" / f"{upgrade_steps.SERVING_UNIT}.timer").exists()


def test_a_machine_without_the_openssh_client_reads_nothing_and_says_why(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("tr", "cut"):
        (tools / tool).symlink_to(shutil.which(tool))
    command = ssh_read_command("127.0.0.1", 1, "nobody", None, None, "echo never")
    done = subprocess.run(["/bin/bash", "-c", command], input="key", capture_output=True, text=True, timeout=60,
                          env={"PATH": str(tools)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "unavailable": "ssh is not installed on the machine running Pulumi (OpenSSH client)"}


def test_a_host_that_hangs_after_connecting_is_reported_unavailable_within_the_read_timeout(tmp_path, monkeypatch):
    from components.remote import ssh_read
    monkeypatch.setattr(ssh_read, "READ_TIMEOUT_S", 2)
    tools = tmp_path / "bin"
    tools.mkdir()
    fakes = {"ssh": "sleep 30", "ssh-add": f"cat >/dev/null; echo \"$*\" >{tmp_path}/ssh-add.args",
             "ssh-agent": 'sleep 60 >/dev/null 2>&1 & echo "SSH_AGENT_PID=$!; export SSH_AGENT_PID;"'}
    for name, body in fakes.items():
        (tools / name).write_text(f"#!/bin/bash\n{body}\n")
        (tools / name).chmod(0o755)
    command = ssh_read.ssh_read_command("127.0.0.1", 1, "nobody", None, None, "echo never")
    started = datetime.datetime.now()
    done = subprocess.run(["/bin/bash", "-c", command], input="key", capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{tools}:{os.environ['PATH']}"})
    elapsed = (datetime.datetime.now() - started).total_seconds()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"unavailable": "no answer within 2 s"}
    assert elapsed < 20, "the hung session was cut at the read timeout, not at ssh's own"
    assert "-t 32" in (tmp_path / "ssh-add.args").read_text(), "the agent forgets the key after the read"
