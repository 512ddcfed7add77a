#!/usr/bin/env bash
# Runs on each control plane before the upgrade: an etcd snapshot named with the versions it goes between, kept in
# SNAPSHOT_DIR. Nothing to do when this control plane already runs the target or the snapshot exists. The host has
# no etcdctl: it runs from the cluster's own etcd image through containerd.
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
etcdctl_here --mount "type=bind,src=$ROOT$SNAPSHOT_DIR,dst=/snapshots,options=rbind:rw" \
  snapshot save "/snapshots/$snapshot.part" >&2
mv -f "$ROOT$SNAPSHOT_DIR/$snapshot.part" "$ROOT$SNAPSHOT_DIR/$snapshot"
log "etcd snapshot $SNAPSHOT_DIR/$snapshot"
