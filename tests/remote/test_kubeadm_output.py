"""kubeadm's output leaves a host only through redact_kubeadm_output (lib.sh): no credential survives it.

The fixtures reproduce the formats of kubeadm's own messages, with fake credentials made here: the certificate key
alone on the line after "[upload-certs] Using certificate key:" (phases/init/uploadcerts.go), "[bootstrap-token]
Using token:" (phases/init/bootstraptoken.go), the closing text of `kubeadm init` (phases/init/showjoincommand.go)
with its join commands continued over lines ending in a backslash (cmd/util/join.go; a tab before each continuation,
four spaces in older releases), and `kubeadm token create --print-join-command` on one line (cmd/token.go).
"""

import hashlib
import random
import re
import subprocess

import pytest

from components.bootstrap import host_steps
from components.remote import host_scripts
from tests.remote.test_host_scripts import CLUSTER, CP0, CP1, TOKEN
from tests.sandbox import Sandbox, render_for

_rng = random.Random("k8s-platform fake kubeadm credentials")
_alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
TOKEN_ID = "".join(_rng.choice(_alphabet) for _ in range(6))
TOKEN_SECRET = "".join(_rng.choice(_alphabet) for _ in range(16))
FAKE_TOKEN = f"{TOKEN_ID}.{TOKEN_SECRET}"
CERT_KEY = hashlib.sha256(b"fake certificate key").hexdigest()
CA_HASH = hashlib.sha256(b"fake cluster CA public key").hexdigest()
OTHER_HASH = hashlib.sha256(b"fake public key of another CA").hexdigest()
CREDENTIALS = (FAKE_TOKEN, TOKEN_SECRET, CERT_KEY, CA_HASH, OTHER_HASH)
ENDPOINT = "api.example.internal:6443"
OLD_FILTER = ["grep", "-v", "-i", "-E", "token|certificate-key|discovery"]  # run_logged's filter before issue 13


def join_block(indent: str, control_plane: bool, lead: str = "") -> str:
    """A join command as `kubeadm init` prints it (cmd/util/join.go)."""
    text = f"{lead}kubeadm join {ENDPOINT} --token {FAKE_TOKEN} \\\n{indent}"
    text += f"--discovery-token-ca-cert-hash sha256:{CA_HASH} "
    if control_plane:
        text += f"\\\n{indent}--control-plane --certificate-key {CERT_KEY}"
    return text + "\n"


def upload_certs_lines() -> str:
    return ('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n'
            f"[upload-certs] Using certificate key:\n{CERT_KEY}\n")


def init_upload_certs(indent: str = "\t") -> str:
    """The whole stdout of a successful `kubeadm init --upload-certs` (some phases' lines left out)."""
    return (
        "[init] Using Kubernetes version: v1.35.4\n"
        "[preflight] Running pre-flight checks\n"
        "[certs] Using certificateDir folder \"/etc/kubernetes/pki\"\n"
        "[certs] Generating \"ca\" certificate and key\n"
        "[kubeconfig] Writing \"admin.conf\" kubeconfig file\n"
        "[etcd] Creating static Pod manifest for local etcd in \"/etc/kubernetes/manifests\"\n"
        "[kubelet-start] Starting the kubelet\n"
        "[kubelet-check] The kubelet is healthy after 1.002s\n"
        "[control-plane-check] kube-apiserver is healthy after 6.51s\n"
        "[upload-config] Storing the configuration used in ConfigMap \"kubeadm-config\" in the \"kube-system\" "
        "Namespace\n"
        + upload_certs_lines() +
        "[mark-control-plane] Marking the node k8s-prod-cp-0 as control-plane by adding the taints "
        "[node-role.kubernetes.io/control-plane:NoSchedule]\n"
        f"[bootstrap-token] Using token: {FAKE_TOKEN}\n"
        "[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles\n"
        "[addons] Applied essential addon: CoreDNS\n"
        "[addons] Applied essential addon: kube-proxy\n"
        "\n"
        "Your Kubernetes control-plane has initialized successfully!\n"
        "\n"
        "Alternatively, if you are the root user, you can run:\n"
        "\n"
        "  export KUBECONFIG=/etc/kubernetes/admin.conf\n"
        "\n"
        "You can now join any number of the control-plane node running the following command on each as root:\n"
        "\n"
        + join_block(indent, control_plane=True, lead="  ") +
        "\n"
        "Please note that the certificate-key gives access to cluster sensitive data, keep it secret!\n"
        "As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n"
        "\"kubeadm init phase upload-certs --upload-certs\" to reload certs afterward.\n"
        "\n"
        "Then you can join any number of worker nodes by running the following on each as root:\n"
        "\n"
        + join_block(indent, control_plane=False)
    )


FIXTURES = {
    "init --upload-certs": (init_upload_certs(), [
        "[upload-certs] Storing the certificates in Secret \"kubeadm-certs\" in the \"kube-system\" Namespace",
        "[addons] Applied essential addon: CoreDNS",
        "Your Kubernetes control-plane has initialized successfully!",
        "\"kubeadm init phase upload-certs --upload-certs\" to reload certs afterward."]),
    "init --upload-certs (older kubeadm)": (init_upload_certs(indent="    "), [
        "Your Kubernetes control-plane has initialized successfully!"]),
    "init phase upload-certs --upload-certs": (
        "I0312 10:15:02.123456    4242 version.go:261] remote version is much newer: v1.36.0; falling back to: "
        "stable-1.35\n" + upload_certs_lines(),
        ["[upload-certs] Storing the certificates in Secret \"kubeadm-certs\" in the \"kube-system\" Namespace",
         "remote version is much newer: v1.36.0; falling back to: stable-1.35"]),
    "token create --print-join-command": (
        f"kubeadm join {ENDPOINT} --token {FAKE_TOKEN} --discovery-token-ca-cert-hash sha256:{CA_HASH} \n", []),
    "token create --print-join-command --certificate-key": (
        f"kubeadm join {ENDPOINT} --token {FAKE_TOKEN} --discovery-token-ca-cert-hash sha256:{CA_HASH} "
        f"--control-plane --certificate-key {CERT_KEY}\n", []),
    "init failing after upload-certs": (
        "[control-plane-check] kube-apiserver is healthy after 6.51s\n"
        + upload_certs_lines() +
        f"[bootstrap-token] Using token: {FAKE_TOKEN}\n"
        "[bootstrap-token] Creating the \"cluster-info\" ConfigMap in the \"kube-public\" namespace\n"
        "error execution phase addon/coredns: unable to create a new DNS service: Post "
        "\"https://api.example.internal:6443/api/v1/namespaces/kube-system/services?timeout=10s\": "
        "dial tcp 10.20.0.5:6443: connect: connection refused\n"
        "To see the stack trace of this error execute with --v=5 or higher\n",
        ["error execution phase addon/coredns: unable to create a new DNS service", "connection refused",
         "To see the stack trace of this error execute with --v=5 or higher"]),
    "join failing preflight": (
        "[preflight] Running pre-flight checks\n"
        "error execution phase preflight: [preflight] Some fatal errors occurred:\n"
        "\t[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists\n"
        "\t[ERROR Port-10250]: Port 10250 is in use\n"
        "[preflight] If you know what you are doing, you can make a check non-fatal with "
        "`--ignore-preflight-errors=...`\n"
        "To see the stack trace of this error execute with --v=5 or higher\n",
        ["\t[ERROR Port-10250]: Port 10250 is in use", "error execution phase preflight: [preflight] Some fatal"]),
    "control-plane join failing to download the certificates": (
        "[preflight] Running pre-flight checks before initializing the new control plane instance\n"
        "[download-certs] Downloading the certificates in Secret \"kubeadm-certs\" in the \"kube-system\" Namespace\n"
        "error execution phase control-plane-prepare/download-certs: error downloading certs: error downloading "
        "the secret: Secret \"kubeadm-certs\" was not found in the \"kube-system\" Namespace. This Secret might have "
        "expired. Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a "
        "new one\n",
        ["error execution phase control-plane-prepare/download-certs", "This Secret might have expired"]),
    "join failing to pin the cluster CA": (
        f"[discovery] Trying to connect to API Server \"{ENDPOINT}\"\n"
        "error execution phase preflight: couldn't validate the identity of the API Server: cluster CA found in "
        f"cluster-info ConfigMap is invalid: none of the public keys \"sha256:{OTHER_HASH}\" are pinned\n",
        [f"[discovery] Trying to connect to API Server \"{ENDPOINT}\"",
         "none of the public keys \"sha256:[redacted]\" are pinned"]),
}


# Failures kubeadm reports before it prints any credential: what must survive is the error.
WITHOUT_CREDENTIALS = {"join failing preflight", "control-plane join failing to download the certificates"}


def redact(text: str) -> str:
    """The real filter: lib.sh as every rendered script carries it, run by bash on `text`."""
    program = "\n".join(["readonly ROOT='' SCRIPT_NAME=test", (host_scripts.SCRIPTS_DIR / "lib.sh").read_text(),
                         "redact_kubeadm_output"])
    result = subprocess.run(["bash", "-c", program], input=text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_no_credential(output: str) -> None:
    for value in CREDENTIALS:
        assert value not in output
    assert not re.search(r"[0-9a-fA-F]{64}", output), "no key or hash"
    assert not re.search(r"[a-z0-9]{6}\.[a-z0-9]{16}", output), "no bootstrap token"


def test_the_old_filter_let_the_certificate_key_through():
    """The leak this file guards against: the key is alone on its line, which names nothing the old grep drops."""
    for name in ("init --upload-certs", "init phase upload-certs --upload-certs", "init failing after upload-certs"):
        old = subprocess.run(OLD_FILTER, input=FIXTURES[name][0], capture_output=True, text=True).stdout
        assert CERT_KEY in old, name
        assert CERT_KEY not in redact(FIXTURES[name][0]), name


@pytest.mark.parametrize("name", FIXTURES)
def test_no_credential_survives_and_useful_lines_do(name):
    text, kept = FIXTURES[name]
    assert any(value in text for value in CREDENTIALS) == (name not in WITHOUT_CREDENTIALS)
    output = redact(text)
    assert_no_credential(output)
    for line in kept:
        assert line in output, f"{name}: lost {line!r}"
    assert len(output.splitlines()) >= len(kept)


@pytest.mark.parametrize("indent", ["\t", "    "], ids=["tab", "spaces"])
def test_join_commands_go_whole(indent):
    output = redact(init_upload_certs(indent))
    for line in output.splitlines():
        assert not line.strip().startswith("--"), f"a join command's continuation survived: {line!r}"
        assert "kubeadm join" not in line and "\\" not in line
    # Text around the blocks stays: the sentences before and after each join command.
    assert "You can now join any number of the control-plane node running the following command on each as root:" \
        in output
    assert "Then you can join any number of worker nodes by running the following on each as root:" in output
    assert "[redacted: 3 line(s)]" in output and "[redacted: 2 line(s)]" in output


def test_a_line_of_hex_or_after_a_dropped_announcement_goes_and_the_rest_stays():
    output = redact(f"Using certificate key:\n  {CERT_KEY[:40]}  \nkeep me\n{'ab' * 16}\nlast line, no newline")
    assert output == "[redacted: 2 line(s)]\nkeep me\n[redacted: 1 line(s)]\nlast line, no newline\n"
    assert redact("") == ""


def test_every_kubeadm_run_in_the_scripts_goes_through_the_filter():
    """A kubeadm command outside run_logged/run_logged_output would print past the filter."""
    for path in sorted(host_scripts.SCRIPTS_DIR.glob("*.sh")):
        logical = path.read_text().replace("\\\n", " ")
        for line in logical.splitlines():
            code = "" if line.lstrip().startswith("#") else line.split(" #")[0]
            code = re.sub(r'"[^"]*"|\'[^\']*\'', '""', code)  # quoted text names kubeadm, runs nothing
            if re.search(r"\bkubeadm\s+(init|join|reset|token|certs|config|upgrade|kubeconfig)\b", code):
                assert re.search(r"\brun_logged(_output)?\b", code), f"{path.name}: {line.strip()}"


def _kubeadm_printing(box: Sandbox, command: str, text: str) -> None:
    """Replaces the sandbox's kubeadm: `kubeadm COMMAND ...` prints `text` and fails; anything else succeeds."""
    fixture = box.state / "kubeadm-output.txt"
    fixture.write_text(text)
    stub = box.bin / "kubeadm"
    stub.write_text(f'#!/usr/bin/env bash\necho "kubeadm $*" >>"{box.log}"\n'
                    f'if [[ "$*" == "{command} "* ]]; then cat "{fixture}"; exit 1; fi\n'
                    'if [[ "$1 $2" == "certs certificate-key" ]]; then echo ' + "5" * 64 + '; fi\n'
                    'if [[ "$1 $2" == "token create" ]]; then echo abcdef.0123456789abcdef; fi\n')
    stub.chmod(0o755)


def test_a_failed_init_shows_its_error_and_no_credential(tmp_path):
    box = Sandbox(tmp_path)
    _kubeadm_printing(box, "init --config", FIXTURES["init failing after upload-certs"][0])
    result = box.run(render_for(box, lambda: host_steps.init(CLUSTER, CP0, TOKEN)))
    assert result.returncode != 0
    assert_no_credential(result.stdout + result.stderr)
    assert "error execution phase addon/coredns: unable to create a new DNS service" in result.stderr
    assert "kubeadm init failed; full log (root only): /etc/kubernetes/k8s-platform/init.log" in result.stderr
    log = box.root / "etc/kubernetes/k8s-platform/init.log"
    assert CERT_KEY in log.read_text() and oct(log.stat().st_mode & 0o777) == "0o600", "the full log stays, root-only"


def test_a_failed_upload_of_the_certificates_shows_no_key(tmp_path):
    box = Sandbox(tmp_path)
    (box.root / "etc/kubernetes").mkdir(parents=True)
    (box.root / "etc/kubernetes/admin.conf").write_text("admin")
    _kubeadm_printing(box, "init phase upload-certs", FIXTURES["init phase upload-certs --upload-certs"][0]
                      + "error execution phase upload-certs: error uploading certs: Unauthorized\n")
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, CP1)))
    assert result.returncode != 0 and result.stdout == ""
    assert_no_credential(result.stderr)
    assert "5" * 64 not in result.stderr, "nor the key the host made for this join"
    assert "error execution phase upload-certs: error uploading certs: Unauthorized" in result.stderr
