"""Host scripts: shellcheck-clean, and run in a sandbox with stub system commands.

Each script is checked for the calls and files it produces, for a second run that changes nothing, and for a
failing step that stops it with a non-zero status.
"""

import json
import re
import shutil
import subprocess

import pytest
import yaml

from components import versions
from components.baremetal import haproxy_config, vip_configs
from components.bootstrap import host_steps, preflight
from components.bootstrap.node_config import ClusterFacts, NodeFacts
from components.host import Host, SshHop
from components.remote import host_scripts
from components.sizing import NodeSize
from tests.kube_schema import unknown_fields
from tests.sandbox import Sandbox, installed, render_for

CLUSTER = ClusterFacts("k8s-prod", "prod", "1.35.4", "api.example.internal:6443", ("api.example.internal",),
                       "10.244.0.0/16", "10.96.0.0/12", 24, 110, "registry.k8s.io")
CP0 = NodeFacts("k8s-prod-cp-0", "10.20.128.10", "control-plane", NodeSize(4, 8, 100))
CP1 = NodeFacts("k8s-prod-cp-1", "10.20.144.11", "control-plane", NodeSize(4, 8, 100))
WORKER = NodeFacts("k8s-prod-general-0", "10.20.128.20", "worker", NodeSize(8, 64, 500))
TOKEN = "abcdef.0123456789abcdef"
CERT_KEY = "c0ffee" * 10 + "abcd"
EXPIRES = 4102444800  # 2100: not expired
ENCRYPTION_KEY = "c2VjcmV0Ym94IGtleSBvZiAzMiBieXRlcywgdGVzdCE="  # 32 bytes
CREDENTIALS = json.dumps({"token": TOKEN, "caCertHash": "sha256:0123abcd", "expires": EXPIRES})
CONTROL_PLANE_CREDENTIALS = json.dumps({"token": TOKEN, "caCertHash": "sha256:0123abcd", "expires": EXPIRES,
                                        "certificateKey": CERT_KEY})

EXAMPLES = {
    "prepare": lambda: host_steps.prepare(WORKER, [(CP0.address, CP0.name)], "k8s-prod.internal"),
    "install": lambda: host_steps.install(CLUSTER),
    "init": lambda: host_steps.init(CLUSTER, CP0, TOKEN),
    "join-worker": lambda: host_steps.join(CLUSTER, WORKER, CREDENTIALS),
    "join-control-plane": lambda: host_steps.join(CLUSTER, CP1, CONTROL_PLANE_CREDENTIALS),
    "credentials-worker": lambda: host_steps.credentials(CLUSTER, WORKER),
    "credentials-control-plane": lambda: host_steps.credentials(CLUSTER, CP1),
    "leave-worker": lambda: host_steps.leave_cluster(WORKER),
    "leave-control-plane": lambda: host_steps.leave_cluster(CP1),
    "reset-node": lambda: host_steps.reset_node(WORKER.name, CLUSTER.endpoint),
    "member-add": lambda: host_steps.member(WORKER.name, "add"),
    "member-remove": lambda: host_steps.member(WORKER.name, "remove"),
    "kubeconfig": host_steps.read_kubeconfig,
    "api-server-files": lambda: host_steps.api_server_files(ENCRYPTION_KEY),
    "api-server-config": lambda: host_steps.api_server_config(CLUSTER, CP0, ENCRYPTION_KEY),
    "api-server-encryption": lambda: host_steps.api_server_encryption(ENCRYPTION_KEY),
    "secrets-rewrite": lambda: host_steps.secrets_rewrite(ENCRYPTION_KEY, ("k8s-prod-cp-0", "k8s-prod-cp-1")),
    "wait-ready": lambda: host_steps.wait_ready(CLUSTER.endpoint),
    "preflight": lambda: preflight.script(
        Host("cp-1", "control-plane", "cp", "", "203.0.113.21", SshHop("203.0.113.21", "ubuntu"), NodeSize(4, 8, 100)),
        "prod", 8443),
    "install-load-balancer": lambda: vip_configs.install_script(
        haproxy_config.render(6443, [haproxy_config.Backend("cp-1", "203.0.113.21")], 3), "vrrp_instance x {\n}"),
}


def shellcheck(*paths):
    assert shutil.which("shellcheck"), "shellcheck is required (scripts/test installs it)"
    return subprocess.run(["shellcheck", "-S", "warning", "-s", "bash", *map(str, paths)], capture_output=True,
                          text=True, timeout=120)


def test_script_files_pass_shellcheck():
    files = sorted(host_scripts.SCRIPTS_DIR.glob("*.sh"))
    assert len(files) >= 9
    result = shellcheck(*files)
    assert result.returncode == 0, result.stdout


def test_rendered_scripts_pass_shellcheck(tmp_path):
    paths = []
    for name, make in EXAMPLES.items():
        path = tmp_path / f"{name}.sh"
        path.write_text(make())
        paths.append(path)
    result = shellcheck(*paths)
    assert result.returncode == 0, result.stdout


def test_inputs_are_readonly_and_shell_quoted():
    script = host_steps.prepare(NodeFacts("n'; rm -rf /", "10.0.0.1", "worker", NodeSize(2, 2, 20)), [])
    assert "readonly NODE_NAME='n'\"'\"'; rm -rf /'" in script
    with pytest.raises(ValueError, match="missing"):
        host_scripts.render("leave-cluster.sh", {"NODE_NAME": "x"})
    with pytest.raises(ValueError, match="unknown"):
        host_scripts.render("reset-node.sh", {"NODE_NAME": "x", "ENDPOINT": "e", "EXTRA": "y"})


def run_twice(sandbox, script):
    first = sandbox.run(script)
    assert first.returncode == 0, first.stderr
    first_calls = sandbox.calls()
    after_first = sandbox.snapshot()
    sandbox.reset_calls()
    second = sandbox.run(script)
    assert second.returncode == 0, second.stderr
    assert sandbox.mutating_calls() == [], "a second run must change nothing"
    assert sandbox.snapshot() == after_first
    return first_calls


def test_prepare_host(tmp_path):
    box = Sandbox(tmp_path)
    calls = run_twice(box, render_for(box, EXAMPLES["prepare"]))
    assert "hostnamectl set-hostname k8s-prod-general-0" in calls
    assert "apt-get install -y -q chrony" in calls and "systemctl enable --now chrony" in calls
    assert "swapoff -a" in calls and "sysctl -q -w net.ipv4.ip_forward=1" in calls
    assert {"modprobe overlay", "modprobe br_netfilter"} <= set(calls)
    hosts = (box.root / "etc/hosts").read_text()
    assert "127.0.0.1 localhost" in hosts and "10.20.128.10 k8s-prod-cp-0" in hosts
    assert "10.20.128.20 k8s-prod-general-0" in hosts
    assert "#/swap.img none swap" in (box.root / "etc/fstab").read_text()
    resolved = (box.root / "etc/systemd/resolved.conf.d/k8s-platform.conf").read_text()
    assert resolved == "[Resolve]\nDomains=k8s-prod.internal\n"
    assert "systemctl restart systemd-resolved" in calls
    assert (box.root / "etc/modules-load.d/k8s-platform.conf").read_text() == "overlay\nbr_netfilter\n"
    assert "net.ipv4.ip_forward = 1" in (box.root / "etc/sysctl.d/99-k8s-platform.conf").read_text()


def test_prepare_reads_the_package_lists_of_a_host_whose_lists_are_empty_before_installing_chrony(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "stale-lists").touch()  # a fresh bare-metal install: no package lists yet
    result = box.run(render_for(box, EXAMPLES["prepare"]))
    assert result.returncode == 0, result.stderr
    calls = box.calls()
    assert calls.index("apt-get update -q") < calls.index("apt-get install -y -q chrony")


def test_prepare_refuses_other_operating_systems(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "etc/os-release").write_text("ID=rocky\n")
    result = box.run(render_for(box, EXAMPLES["prepare"]))
    assert result.returncode != 0 and "unsupported operating system 'rocky'" in result.stderr
    assert box.mutating_calls() == []


def test_failing_step_stops_the_script(tmp_path):
    box = Sandbox(tmp_path)
    box.fail("modprobe")
    result = box.run(render_for(box, EXAMPLES["prepare"]))
    assert result.returncode != 0
    assert not any(c.startswith("sysctl") for c in box.calls()), "steps after the failure must not run"
    box.heal("modprobe")
    assert box.run(render_for(box, EXAMPLES["prepare"])).returncode == 0, "a failed run can be run again"


def test_install_runtime_and_packages(tmp_path):
    box = Sandbox(tmp_path)
    calls = run_twice(box, render_for(box, EXAMPLES["install"]))
    # The newest package revision of the pinned containerd, from Docker's repository, held.
    assert installed(box, "containerd.io") == f"{versions.CONTAINERD_VERSION}-2~ubuntu.24.04~noble"
    assert installed(box, "containerd") is None and (box.state / "held" / "containerd.io").exists()
    for package in ("kubelet", "kubeadm", "kubectl"):
        assert installed(box, package) == "1.35.4-1.1"
        assert (box.state / "held" / package).exists()
    assert "systemctl restart containerd" in calls
    config = (box.root / "etc/containerd/config.toml").read_text()
    assert config.startswith("version = 3\n") and "SystemdCgroup = true" in config
    assert 'sandbox = "registry.k8s.io/pause:3.10.1"' in config
    assert (box.root / "etc/containerd/certs.d").is_dir()
    assert (box.root / "etc/apt/keyrings/containerd-apt-keyring.asc").read_text() == "DOCKER KEY\n"
    assert (box.root / "etc/apt/sources.list.d/containerd.list").read_text() == (
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/containerd-apt-keyring.asc] "
        "https://download.docker.com/linux/ubuntu noble stable\n")
    source = (box.root / "etc/apt/sources.list.d/kubernetes.list").read_text()
    assert "https://pkgs.k8s.io/core:/stable:/v1.35/deb/ /" in source


def test_install_refuses_a_repository_key_with_another_fingerprint(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "key-fingerprint").write_text("0123456789ABCDEF0123456789ABCDEF01234567\n")
    result = box.run(render_for(box, EXAMPLES["install"]))
    assert result.returncode != 0
    assert ("holds 1 key(s), the first with fingerprint '0123456789ABCDEF0123456789ABCDEF01234567': expected exactly "
            f"{versions.CONTAINERD_APT_KEY_FINGERPRINT}") in result.stderr
    assert not (box.root / "etc/apt/keyrings/containerd-apt-keyring.asc").exists()
    assert not [c for c in box.calls() if c.startswith(("apt-get", "systemctl"))]


def test_install_refuses_a_key_file_with_a_second_key(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "extra-key").touch()
    result = box.run(render_for(box, EXAMPLES["install"]))
    assert result.returncode != 0 and "holds 2 key(s)" in result.stderr
    assert not list((box.root / "etc/apt/keyrings").glob("containerd*"))


def test_install_names_another_source_of_the_same_repository_instead_of_breaking_apt(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "etc/apt/sources.list.d").mkdir(parents=True)
    (box.root / "etc/apt/sources.list.d/docker.list").write_text(
        "deb [signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu noble stable\n")
    result = box.run(render_for(box, EXAMPLES["install"]))
    assert result.returncode != 0 and "also listed in /etc/apt/sources.list.d/docker.list" in result.stderr
    assert not [c for c in box.calls() if c.startswith("apt-get")]


def test_install_refuses_a_repository_without_the_pinned_containerd(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "madison" / "containerd.io").write_text("2.2.1-1~ubuntu.24.04~noble\n")
    result = box.run(render_for(box, EXAMPLES["install"]))
    assert result.returncode != 0
    assert f"containerd.io {versions.CONTAINERD_VERSION} is not in {versions.CONTAINERD_APT_REPOSITORY}" \
        in result.stderr
    assert not [c for c in box.calls() if c.startswith("apt-get install")]


def test_install_replaces_a_preinstalled_ubuntu_containerd_on_a_new_node(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "pkgs" / "containerd").write_text("1.7.28-0ubuntu1~24.04.1\n")
    (box.state / "held" / "containerd").touch()
    result = box.run(render_for(box, EXAMPLES["install"]))
    assert result.returncode == 0, result.stderr
    install = next(c for c in box.calls() if c.startswith("apt-get install"))
    assert install.endswith(" containerd-"), "apt removes a held package only when it is named for removal"
    assert installed(box, "containerd") is None and not (box.state / "held" / "containerd").exists()
    assert installed(box, "containerd.io").startswith(versions.CONTAINERD_VERSION + "-")


def test_install_leaves_the_runtime_of_a_joined_node_to_the_upgrade_steps(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "pkgs" / "containerd").write_text("1.7.28-0ubuntu1~24.04.1\n")
    (box.root / "etc/kubernetes").mkdir(parents=True)
    (box.root / "etc/kubernetes/kubelet.conf").write_text("kubelet\n")
    (box.root / "etc/containerd").mkdir(parents=True)
    (box.root / "etc/containerd/config.toml").write_text("version = 2\n")
    result = box.run(render_for(box, EXAMPLES["install"]))
    assert result.returncode == 0, result.stderr
    assert "containerd 1.7.28): its runtime changes only through the upgrade steps" in result.stderr
    assert (box.root / "etc/containerd/config.toml").read_text() == "version = 2\n"
    assert not [c for c in box.mutating_calls() if "containerd" in c]


def test_init_runs_once_and_keeps_the_token_off_its_output(tmp_path):
    box = Sandbox(tmp_path)
    script = render_for(box, EXAMPLES["init"])
    first = box.run(script)
    assert first.returncode == 0, first.stderr
    assert TOKEN not in first.stdout + first.stderr
    init_calls = [c for c in box.calls() if c.startswith("kubeadm init --config")]
    assert len(init_calls) == 1 and "--skip-token-print" in init_calls[0]
    assert "--upload-certs" not in init_calls[0], "each control-plane join uploads the certificates under its own key"
    assert all(TOKEN not in c for c in box.calls()), "secrets never on a command line"
    config = box.root / "etc/kubernetes/k8s-platform/kubeadm-init.yaml"
    assert oct(config.stat().st_mode & 0o777) == "0o600" and TOKEN in config.read_text()
    assert "certificateKey" not in config.read_text()
    log = box.root / "etc/kubernetes/k8s-platform/init.log"
    assert oct(log.stat().st_mode & 0o777) == "0o600", "kubeadm's output stays root-only"
    assert (box.root / "etc/kubernetes/patches/kubeletconfiguration+merge.yaml").exists()
    box.reset_calls()
    assert box.run(script).returncode == 0
    assert not any(c.startswith("kubeadm") for c in box.calls())


def test_failed_init_is_reset_and_run_again(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "etc/kubernetes/manifests").mkdir(parents=True)
    (box.root / "etc/kubernetes/manifests/etcd.yaml").write_text("half-done")
    box.fail("kubeadm-init")
    result = box.run(render_for(box, EXAMPLES["init"]))
    assert box.calls()[0] == "kubeadm reset -f", "the half-done init is reset first"
    assert result.returncode != 0 and "kubeadm init failed" in result.stderr
    assert "abcdef.secret" not in result.stdout + result.stderr, "kubeadm's output is filtered for tokens"
    assert not (box.root / "etc/kubernetes/k8s-platform/init.done").exists()
    box.heal("kubeadm-init")
    box.reset_calls()
    assert box.run(render_for(box, EXAMPLES["init"])).returncode == 0, "a failed init can simply be run again"
    assert (box.root / "etc/kubernetes/k8s-platform/init.done").exists()


@pytest.mark.parametrize("example", ["join-worker", "join-control-plane"])
def test_join_runs_once(tmp_path, example):
    box = Sandbox(tmp_path)
    calls = run_twice(box, render_for(box, EXAMPLES[example]))
    assert sum(c.startswith("kubeadm join --config") for c in calls) == 1
    joined = yaml.safe_load((box.root / "etc/kubernetes/k8s-platform/kubeadm-join.yaml").read_text())
    if example == "join-control-plane":
        assert joined["controlPlane"]["certificateKey"] == CERT_KEY, "the key of this join's credentials"
    else:
        assert "controlPlane" not in joined


def test_a_control_plane_join_needs_a_certificate_key():
    with pytest.raises(ValueError, match="carry no certificate key"):
        host_steps.join(CLUSTER, CP1, CREDENTIALS)
    assert CERT_KEY not in host_steps.join(CLUSTER, WORKER, CONTROL_PLANE_CREDENTIALS), "a worker never gets it"


def test_credentials_make_a_fresh_certificate_key_for_each_control_plane_join(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "etc/kubernetes").mkdir(parents=True)
    (box.root / "etc/kubernetes/admin.conf").write_text("admin")
    script = render_for(box, EXAMPLES["credentials-control-plane"])
    assert not re.search(r"[0-9a-f]{64}", script), "the script carries no key: the host makes it"
    keys = []
    for _ in range(2):
        result = box.run(script)
        assert result.returncode == 0, result.stderr
        token, ca_hash, key = host_steps.parse_credentials(result.stdout)
        assert (token, ca_hash) == (TOKEN, "sha256:0123abcd")
        *cluster, uploaded = yaml.safe_load_all((box.state / "upload-certs.yaml").read_text())
        assert uploaded["certificateKey"] == key and unknown_fields(uploaded) == []
        assert cluster[0]["kubernetesVersion"] == f"v{CLUSTER.kubernetes_version}", "kubeadm looks nothing up"
        keys.append(key)
    assert (box.state / "certificate-keys").read_text().split() == keys and keys[0] != keys[1]
    uploads = [c for c in box.calls() if c.startswith("kubeadm init phase upload-certs")]
    assert len(uploads) == 2 and all("--skip-certificate-key-print --config" in c for c in uploads)
    assert all(key not in c for c in box.calls() for key in keys), "the key never on a command line"
    box.reset_calls()
    result = box.run(render_for(box, EXAMPLES["credentials-worker"]))
    assert result.returncode == 0 and host_steps.parse_credentials(result.stdout)[2] is None
    assert not any("upload-certs" in c or "certificate-key" in c for c in box.calls())


def test_credentials_fail_without_showing_kubeadm_credentials(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "etc/kubernetes").mkdir(parents=True)
    (box.root / "etc/kubernetes/admin.conf").write_text("admin")
    box.fail("kubeadm-init")  # the upload
    result = box.run(render_for(box, EXAMPLES["credentials-control-plane"]))
    assert result.returncode != 0 and "kubeadm init phase upload-certs failed" in result.stderr
    assert result.stdout == "", "no credentials printed when the upload failed"
    assert "abcdef.secret" not in result.stderr


def test_wait_ready_is_bounded(tmp_path):
    box = Sandbox(tmp_path)
    (box.state / "ready_in").write_text("3")
    result = box.run(render_for(box, EXAMPLES["wait-ready"]))
    assert result.returncode == 0 and "after 4 attempt(s)" in result.stderr
    (box.state / "ready_in").write_text("1000")
    result = box.run(render_for(box, EXAMPLES["wait-ready"]))
    assert result.returncode != 0 and f"after {host_steps.READY_ATTEMPTS} attempts" in result.stderr
    assert sum(c.startswith("curl") for c in box.calls()) == 4 + host_steps.READY_ATTEMPTS
