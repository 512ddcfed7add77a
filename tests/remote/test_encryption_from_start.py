"""Encryption at rest on a new cluster, in the sandbox: its init makes the key written before it the one that seals,
so the API server starts sealing and its encryption steps have nothing to restart."""

from __future__ import annotations

import subprocess

from components.bootstrap import api_security, host_steps
from tests.remote.test_host_scripts import ENCRYPTION_KEY, EXAMPLES
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
    assert "a new cluster: Secrets are sealed under key" in result.stderr
    text = config.read_text()
    assert text.index("secretbox") < text.index("identity"), "the key seals from the first Secret on"
    started = (box.root / "etc/kubernetes/k8s-platform/api-server-started-with.sha256").read_text().strip()
    digest = subprocess.run(["sha256sum"], input=(box.root / api_security.AUDIT_POLICY_FILE.lstrip("/")).read_bytes()
                            + config.read_bytes(), capture_output=True, check=True).stdout.decode().split()[0]
    assert started == digest, "the API server init starts runs with these files: nothing to restart later"
