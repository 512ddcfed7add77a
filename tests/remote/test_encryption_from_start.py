"""Encryption at rest on a new cluster, in the sandbox: its init makes the key written before it the one that seals,
so the API server starts sealing and its encryption steps have nothing to restart."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from components.bootstrap import api_security, host_steps
from tests.remote.test_host_scripts import CLUSTER, CP1, ENCRYPTION_KEY, EXAMPLES, TOKEN, WORKER
from tests.sandbox import Sandbox, render_for


def test_a_new_cluster_seals_secrets_from_its_first_api_server_start_and_its_encryption_steps_restart_nothing(
        tmp_path):
    # Found by the bring-up benchmark: a new cluster's API server started with identity writing and was restarted by
    # its encryption step (about 37 s on a real node, during which the workers' joins waited).
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, host_steps.api_server_files, ENCRYPTION_KEY)).returncode == 0
    config = box.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")
    assert config.read_text().index("identity") < config.read_text().index("secretbox"), "identity writes before init"
    result = box.run(render_for(box, EXAMPLES["init"]))
    assert result.returncode == 0, result.stderr
    assert "from this API server's first start" in result.stderr
    text = config.read_text()
    assert text.index("secretbox") < text.index("identity"), "the key seals from the first Secret on"
    started = (box.root / "etc/kubernetes/k8s-platform/api-server-started-with.sha256").read_text().strip()
    digest = subprocess.run(["sha256sum"], input=(box.root / api_security.AUDIT_POLICY_FILE.lstrip("/")).read_bytes()
                            + config.read_bytes(), capture_output=True, check=True).stdout.decode().split()[0]
    assert started == digest, "the API server init starts runs with these files: nothing to restart later"


def _key_name(box: Sandbox) -> str:
    return (box.root / api_security.ENCRYPTION_KEYS_FILE.lstrip("/")).read_text().split()[0]


def _identity_first(box: Sandbox) -> bool:
    text = (box.root / api_security.ENCRYPTION_CONFIG_FILE.lstrip("/")).read_text()
    return text.index("identity") < text.index("secretbox")


@pytest.mark.parametrize("cluster_seals_with, seals", [("own key", True), ("identity", False), ("older", False)])
def test_a_control_plane_joining_a_cluster_that_seals_under_its_key_seals_from_its_first_api_server_start(
        tmp_path, cluster_seals_with, seals):
    # Found by the bring-up benchmark: each joining control plane's API server started with identity writing and was
    # restarted by its encryption step (about 37 s each on a real node). A cluster that still writes in clear, or
    # seals under a key this host does not hold alone (a rotation under way), keeps the two passes.
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, host_steps.api_server_files, ENCRYPTION_KEY)).returncode == 0
    assert _identity_first(box), "a control plane new to the cluster writes in clear until told otherwise"
    (box.state / "nodes" / CP1.name).touch()
    sealing = {"own key": _key_name(box), "identity": "identity", "older": "k-older"}[cluster_seals_with]
    record = json.dumps({"token": TOKEN, "caCertHash": "sha256:0123abcd", "expires": int(time.time()) + 3600,
                         "certificateKey": "c0ffee" * 10 + "abcd", "sealsWith": sealing})
    result = box.run(render_for(box, lambda: host_steps.join(CLUSTER, CP1, record)))
    assert result.returncode == 0, result.stderr
    assert _identity_first(box) is not seals
    assert ("from this API server's first start" in result.stderr) is seals
    assert (box.root / "etc/kubernetes/k8s-platform/join.done").exists()


def test_the_join_credentials_tell_a_control_plane_the_key_the_cluster_seals_under_and_tell_a_worker_nothing(
        tmp_path):
    box = Sandbox(tmp_path)
    assert box.run(render_for(box, host_steps.api_server_files, ENCRYPTION_KEY)).returncode == 0
    (box.root / "etc/kubernetes/admin.conf").write_text("admin")
    records = {}
    for node in (CP1, WORKER):
        result = box.run(render_for(box, lambda n=node: host_steps.credentials(CLUSTER, n)))
        assert result.returncode == 0, result.stderr
        records[node.name] = json.loads(result.stdout.strip().splitlines()[-1])
    assert records[CP1.name]["sealsWith"] == "identity", "this API server still writes in clear"
    assert "sealsWith" not in records[WORKER.name]
    assert box.run(render_for(box, EXAMPLES["init"])).returncode == 0  # seals from its start
    result = box.run(render_for(box, lambda: host_steps.credentials(CLUSTER, CP1)))
    assert json.loads(result.stdout.strip().splitlines()[-1])["sealsWith"] == _key_name(box)
