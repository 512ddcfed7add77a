"""The pre-upgrade etcd snapshot in the sandbox: it keeps the one before it, removes older ones (they share etcd's
disk), and refuses to write one that would leave less than etcd's database size free."""

from __future__ import annotations

import os

from components.bootstrap import upgrade_steps
from tests.remote.test_upgrade_scripts import cluster_node, run


def test_a_pre_upgrade_snapshot_keeps_the_one_before_it_and_removes_older_ones(tmp_path):
    # Before: every upgrade's snapshot stayed, on the disk that holds /var/lib/etcd.
    box = cluster_node(tmp_path)
    snapshots = box.root / upgrade_steps.SNAPSHOT_DIR.lstrip("/")
    snapshots.mkdir(parents=True)
    for age, name in ((3000, "pre-upgrade-v1.32.4-to-v1.33.1.db"), (2000, "pre-upgrade-v1.33.1-to-v1.34.2.db")):
        (snapshots / name).write_text("snapshot")
        os.utime(snapshots / name, (os.path.getmtime(snapshots) - age,) * 2)
    result = run(box, upgrade_steps.etcd_snapshot("1.35.9"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in snapshots.iterdir()) == ["pre-upgrade-v1.33.1-to-v1.34.2.db",
                                                           "pre-upgrade-v1.34.2-to-v1.35.9.db"]
    assert "removed the older snapshot /var/lib/k8s-platform/etcd-snapshots/pre-upgrade-v1.32.4-to-v1.33.1.db" \
        in result.stderr


def test_a_pre_upgrade_snapshot_that_would_fill_etcds_disk_is_refused_before_anything_is_written(tmp_path):
    box = cluster_node(tmp_path)
    database = box.root / "var/lib/etcd/member/snap/db"
    database.parent.mkdir(parents=True)
    with database.open("wb") as sparse:  # far larger than the disk, without using it
        sparse.truncate(1 << 42)  # 4 TiB
    result = run(box, upgrade_steps.etcd_snapshot("1.35.9"))
    assert result.returncode != 0 and "would leave less than its size free on etcd's disk" in result.stderr
    assert not [c for c in box.calls() if "snapshot save" in c]
