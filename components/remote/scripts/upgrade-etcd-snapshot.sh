#!/usr/bin/env bash
# Runs on each control plane before the upgrade: an etcd snapshot named with the versions it goes between, kept in
# SNAPSHOT_DIR with the one before it (older ones are removed: they sit on the disk that holds /var/lib/etcd, and a
# full disk stops etcd). Refused, before anything is written, when the disk would keep less than etcd's database
# size free afterwards. Nothing to do when this control plane already runs the target or the snapshot exists. The
# host has no etcdctl: it runs from the cluster's own etcd image through containerd.
# Inputs (generated header): ROOT, SNAPSHOT_DIR.
# shellcheck disable=SC2154
set -euo pipefail

current=$(apiserver_version)
if [[ -z $current || $current == "$target" ]]; then
  log "this control plane runs ${current:-no API server}: no snapshot needed"
  exit 0
fi
snapshot="pre-upgrade-$current-to-$target.db"
if [[ -s "$ROOT$SNAPSHOT_DIR/$snapshot" ]]; then
  log "snapshot $SNAPSHOT_DIR/$snapshot exists"
  exit 0
fi
mkdir -p "$ROOT$SNAPSHOT_DIR"
chmod 700 "$ROOT$SNAPSHOT_DIR"
database=$(stat -c %s "$ROOT/var/lib/etcd/member/snap/db" 2>/dev/null || echo 0)
available_kib=$(df -P -k "$ROOT$SNAPSHOT_DIR" | awk 'NR == 2 { print $4 }')
[[ $available_kib =~ ^[0-9]+$ ]] || fail "cannot read the free space where $SNAPSHOT_DIR is"
free=$((available_kib * 1024))
if ((free < 2 * database)); then
  fail "$((free / 1048576)) MiB free where $SNAPSHOT_DIR is; a snapshot of etcd's $((database / 1048576)) MiB would leave less than its size free on etcd's disk: free some space and run pulumi up again"
fi
etcdctl_here --mount "type=bind,src=$ROOT$SNAPSHOT_DIR,dst=/snapshots,options=rbind:rw" \
  snapshot save "/snapshots/$snapshot.part" >&2
mv -f "$ROOT$SNAPSHOT_DIR/$snapshot.part" "$ROOT$SNAPSHOT_DIR/$snapshot"
log "etcd snapshot $SNAPSHOT_DIR/$snapshot"
# The newest two stay (this upgrade's and the one before: a way back across two upgrades).
find "$ROOT$SNAPSHOT_DIR" -maxdepth 1 -name 'pre-upgrade-*.db' -printf '%T@ %p\n' | sort -rn | tail -n +3 |
  while read -r _ old; do
    rm -f "$old" && log "removed the older snapshot ${old#"$ROOT"}"
  done
