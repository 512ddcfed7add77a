"""The lab machines' cgroups on this host's cgroup v1 hierarchies: where this process sits in each, and how a
machine's cgroup goes away with everything the kubelet and containerd made below it."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def own_cgroups() -> dict[Path, Path]:
    """Each cgroup v1 hierarchy's mount point -> this process's cgroup folder in it."""
    result: dict[Path, Path] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if not controllers:
            continue  # the unified hierarchy: no controllers here
        name = controllers.replace("name=", "")
        mount = CGROUP_ROOT / name.split(",")[0]
        if not mount.is_dir():
            mount = CGROUP_ROOT / name
        if mount.is_dir():
            result[mount] = mount / path.lstrip("/")
    return result


CGROUP_REMOVE_TRIES = 20


def remove_cgroup(folder: Path) -> None:
    """The machine's cgroup and every one the kubelet and containerd made below it. A process still in one (a
    container's shim that outlived the machine's shutdown) is killed first; a folder still busy while its last
    processes exit is tried again, 0.25 s apart, a bounded number of times."""
    for _ in range(CGROUP_REMOVE_TRIES):
        if not folder.exists():
            return
        for procs in folder.rglob("cgroup.procs"):
            with contextlib.suppress(OSError, ValueError):
                for pid in procs.read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), signal.SIGKILL)
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                sub.rmdir()
        with contextlib.suppress(OSError):
            folder.rmdir()
        time.sleep(0.25)
