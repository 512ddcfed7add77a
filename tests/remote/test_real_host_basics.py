"""What every host script meets on a real host, which the sandbox hides: it runs as root directly when the SSH user
is root (a minimal Debian host logged in as root has no sudo), through sudo otherwise; and ROOT, the sandbox's
folder in tests, is empty (the reset of a control plane stopped at `${ROOT:?}` on the real machines)."""

import re
import subprocess

import pytest
from pulumi.runtime.sync_await import _sync_await

from components.remote import host_scripts, runner


@pytest.mark.parametrize("uid, through_sudo", [("0", False), ("1000", True)])
def test_steps_run_as_root_directly_for_root_and_through_sudo_for_others(tmp_path, uid, through_sudo):
    # A minimal Debian host logged in as root has no sudo (found on the real test machines).
    (tmp_path / "id").write_text(f'#!/bin/sh\necho {uid}\n')
    (tmp_path / "sudo").write_text(f'#!/bin/sh\ntouch {tmp_path}/sudo-ran; exec "$@"\n')
    for stub in ("id", "sudo"):
        (tmp_path / stub).chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    step = subprocess.run(["sh", "-c", runner.RUN_AS_ROOT], input="echo step ran", capture_output=True, text=True,
                          env=env, timeout=30)
    assert step.stdout == "step ran\n" and (tmp_path / "sudo-ran").exists() == through_sudo
    (tmp_path / "sudo-ran").unlink(missing_ok=True)
    delete = _sync_await(runner.as_root_on_delete("echo 'removal ran'").future())
    removal = subprocess.run(["sh", "-c", delete], capture_output=True, text=True, env=env, timeout=30)
    assert removal.stdout == "removal ran\n" and (tmp_path / "sudo-ran").exists() == through_sudo


def test_no_script_needs_root_to_be_set_for_on_a_real_host_it_is_empty():
    refusing = [f"{path.name}:{number}" for path in sorted(host_scripts.SCRIPTS_DIR.glob("*.sh"))
                for number, line in enumerate(path.read_text().splitlines(), start=1)
                if re.search(r"\$\{ROOT:?[?]", line)]
    assert refusing == []
