"""The lab's pause image does what registry.k8s.io/pause does: it holds the pod until SIGTERM, and with -v prints its
version and exits 0 (kubeadm's upgrade health check runs a Job of the pause image with -v and waits for it to
complete; a pause that ignored -v made every real upgrade stop at `kubeadm upgrade plan`)."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.realnodes import tools

pytestmark = pytest.mark.usefixtures("realnode_tools")


def test_pause_with_v_prints_its_version_and_exits_zero_as_upstreams_does():
    done = subprocess.run([str(tools.labtools().folder / "pause"), "-V"], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0 and done.stdout.startswith("pause.c "), done


def test_pause_without_arguments_holds_until_sigterm():
    held = subprocess.Popen([str(tools.labtools().folder / "pause")])
    try:
        time.sleep(1)
        assert held.poll() is None, "it holds the pod's namespaces"
        held.send_signal(signal.SIGTERM)
        assert held.wait(timeout=10) == 0
    finally:
        if held.poll() is None:
            held.kill()
