"""etcd backups: the pod scripts and the restore script run for real against temporary directories (stub
binaries for etcdutl-through-containerd, crictl and aws), and the CronJobs and bucket the program declares."""

import subprocess
from pathlib import Path

import pytest

from components.addons.etcd_backup import values as etcd_backup
from components.remote import host_scripts
from components.settings.addons import read_addons
from components.settings.reader import Problems
from tests.plan_fixtures import of_type, shipped_plan

SCRIPTS = host_scripts.SCRIPTS_DIR
CRONJOB = "kubernetes:batch/v1:CronJob"


def run_sh(script: str, env: dict, path_dirs: list[Path] = ()) -> subprocess.CompletedProcess:
    full_env = {"PATH": ":".join([*map(str, path_dirs), "/usr/bin", "/bin"]), **env}
    return subprocess.run(["sh", str(SCRIPTS / script)], env=full_env, capture_output=True, text=True, timeout=30)


def stub(directory: Path, name: str, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/usr/bin/env bash\necho \"{name} $*\" >>\"{directory}/calls.log\"\n{body}\n")
    path.chmod(0o755)


def test_rotation_names_the_snapshot_and_keeps_the_newest(tmp_path):
    for i in range(5):
        (tmp_path / f"etcd-2026010{i}T000000Z.db").write_text("old")
    (tmp_path / "incoming.db").write_text("snapshot bytes")
    result = run_sh("etcd-backup-rotate.sh", {"BACKUP_DIR": str(tmp_path), "KEEP": "3"})
    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in tmp_path.glob("etcd-*.db"))
    latest = (tmp_path / "latest").read_text().strip()
    assert len(kept) == 3 and latest in kept and (tmp_path / latest).read_text() == "snapshot bytes"
    assert kept[:2] == ["etcd-20260103T000000Z.db", "etcd-20260104T000000Z.db"], "the oldest went first"
    assert not (tmp_path / "incoming.db").exists()
    again = run_sh("etcd-backup-rotate.sh", {"BACKUP_DIR": str(tmp_path), "KEEP": "3"})
    assert again.returncode == 0 and sorted(p.name for p in tmp_path.glob("etcd-*.db")) == kept


def test_an_empty_snapshot_fails_the_job(tmp_path):
    (tmp_path / "incoming.db").write_text("")
    result = run_sh("etcd-backup-rotate.sh", {"BACKUP_DIR": str(tmp_path), "KEEP": "3"})
    assert result.returncode != 0 and "the snapshot is empty" in result.stderr
    assert not list(tmp_path.glob("etcd-*.db"))


def test_upload_copies_the_newest_snapshot_under_the_node_prefix(tmp_path):
    (tmp_path / "etcd-20260101T000000Z.db").write_text("x")
    (tmp_path / "latest").write_text("etcd-20260101T000000Z.db\n")
    bin_dir = tmp_path / "bin"
    stub(bin_dir, "aws", "true")
    result = run_sh("etcd-backup-upload.sh", {"BACKUP_DIR": str(tmp_path), "BUCKET": "b", "PREFIX": "k8s-prod",
                                              "NODE_NAME": "cp-0"}, [bin_dir])
    assert result.returncode == 0, result.stderr
    call = (bin_dir / "calls.log").read_text().strip()
    assert call == (f"aws s3 cp --only-show-errors --sse AES256 {tmp_path}/etcd-20260101T000000Z.db "
                    f"s3://b/k8s-prod/cp-0/etcd-20260101T000000Z.db")


def test_backup_scripts_pass_shellcheck():
    paths = [SCRIPTS / name for name in ("etcd-backup-rotate.sh", "etcd-backup-upload.sh")]
    result = subprocess.run(["shellcheck", "-S", "warning", "-s", "sh", *map(str, paths)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    result = subprocess.run(["shellcheck", "-S", "warning", str(SCRIPTS / "etcd-restore.sh")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("stack, schedule, upload", [("dev", "0 */6 * * *", True), ("prod", "0 * * * *", True),
                                                     ("metal", "0 * * * *", False)])
def test_each_control_plane_gets_its_own_backup_with_the_clusters_etcd(stack, schedule, upload):
    result = shipped_plan(stack)
    jobs = of_type(result, CRONJOB)
    control_planes = [n["name"] for n in result.document["outputs"]["nodes"] if n["role"] == "control-plane"]
    assert sorted(j["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["nodeSelector"]
                  ["kubernetes.io/hostname"] for j in jobs) == sorted(control_planes)
    read = next(r for r in result.document["resources"] if r["name"].endswith("etcd-backup-etcd-image"))
    for job in jobs:
        spec = job["inputs"]["spec"]
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        assert spec["schedule"] == schedule and spec["concurrencyPolicy"] == "Forbid"
        assert pod["hostNetwork"] is True
        snapshot = pod["initContainers"][0]
        assert snapshot["image"] == "registry.k8s.io/etcd:planned", "the image the cluster's etcd runs"
        assert "--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt" in snapshot["command"]
        # Only the files the snapshot needs reach the pod: never the etcd CA's private key (the folder holds it).
        host_paths = sorted(v["hostPath"]["path"] for v in pod["volumes"] if "/pki/" in v.get("hostPath", {}).get(
            "path", ""))
        assert host_paths == ["/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
                              "/etc/kubernetes/pki/etcd/healthcheck-client.key"], host_paths
        assert all(v.get("hostPath", {}).get("type") != "Directory" or "pki" not in v["hostPath"]["path"]
                   for v in pod["volumes"])
        names = [c["name"] for c in pod["initContainers"] + pod["containers"]]
        assert names == (["snapshot", "rotate", "upload"] if upload else ["snapshot", "rotate"])
        assert all(c["resources"]["requests"] for c in pod["initContainers"] + pod["containers"])
        assert read["urn"] in job["dependsOn"], "the image is read from the running cluster first"
    # Read once the last control plane's upgrade steps are done (before: right after the API answered, racing
    # `kubeadm upgrade apply`, so an upgrade could leave the backups on the old etcd image).
    last = [n["name"] for n in result.document["outputs"]["nodes"] if n["role"] == "control-plane"][-1]
    assert any(d.endswith(f"::{last}-upgrade-ready") for d in read["dependsOn"]), read["dependsOn"]
    (config_map,) = [r for r in of_type(result, "kubernetes:core/v1:ConfigMap") if r["name"].endswith("scripts")]
    assert set(config_map["inputs"]["data"]) == set(etcd_backup.SCRIPTS)
    buckets = of_type(result, "aws:s3/bucket:Bucket")
    assert len(buckets) == (1 if upload else 0)
    if upload:
        env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
        cluster = read["name"].removesuffix("-etcd-backup-etcd-image")
        assert env["BUCKET"] == result.document["outputs"]["etcdBackupBucket"] and env["PREFIX"] == cluster


def test_the_backup_bucket_is_private_encrypted_versioned_and_writable_only_under_the_prefix():
    result = shipped_plan("prod")
    (encryption,) = of_type(result, "aws:s3/bucketServerSideEncryptionConfiguration:"
                                    "BucketServerSideEncryptionConfiguration")
    assert encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (versioning,) = of_type(result, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"
    (private,) = of_type(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(private["inputs"][k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                      "restrictPublicBuckets"))
    (policy,) = of_type(result, "aws:iam/rolePolicy:RolePolicy")
    import json
    statement = json.loads(policy["inputs"]["policy"])["Statement"]
    assert statement == [{"Effect": "Allow", "Action": ["s3:PutObject"],
                          "Resource": statement[0]["Resource"]}]
    assert statement[0]["Resource"].endswith("/k8s-prod/*")


BUCKET_KEPT = ("aws:s3/bucket:Bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
               "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
               "aws:s3/bucketVersioning:BucketVersioning",
               "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_destroy_keeps_the_snapshots_bucket_with_its_settings_and_prod_protects_it(stack):
    result = shipped_plan(stack)
    for kind in BUCKET_KEPT:
        (kept,) = of_type(result, kind)
        assert kept["options"].get("retainOnDelete") is True, kind
        assert kept["options"].get("protect", False) is (stack == "prod"), kind
    (permission,) = of_type(result, "aws:iam/rolePolicy:RolePolicy")
    assert "retainOnDelete" not in permission["options"] and "protect" not in permission["options"]
    protected = {r["type"] for r in result.document["resources"] if r["options"].get("protect")}
    assert protected == (set(BUCKET_KEPT) if stack == "prod" else set()), "nothing else stops a destroy"


def test_backup_settings_are_checked():
    problems = Problems()
    tuned = read_addons({"etcdBackup": {"schedule": "*/30 * * * *", "keep": 96}}, bare_metal=False,
                        problems=problems)
    assert (tuned.etcd_backup_schedule, tuned.etcd_backup_keep, tuned.etcd_backup_s3) == ("*/30 * * * *", 96, True)
    problems = Problems()
    read_addons({"etcdBackup": {"schedule": "hourly", "keep": 0}}, bare_metal=False, problems=problems)
    found = {p.path: p.message for p in problems.items}
    assert "five fields" in found["addons.etcdBackup.schedule"] and "at least 1" in found["addons.etcdBackup.keep"]
    problems = Problems()
    read_addons({"etcdBackup": {"s3": True}}, bare_metal=True, problems=problems)
    assert "applies to AWS only" in problems.items[0].message
