#!/bin/sh
# Runs in the etcd backup pod after etcdctl wrote $BACKUP_DIR/incoming.db: checks the snapshot, names it by its
# UTC time, and keeps the $KEEP newest. POSIX sh (the pod runs busybox). Safe to re-run: with no new snapshot it
# only prunes.
# Environment: BACKUP_DIR, KEEP.
set -eu

cd "$BACKUP_DIR"
if [ -f incoming.db ]; then
  if [ ! -s incoming.db ]; then
    rm -f incoming.db
    echo "etcd-backup: ERROR: the snapshot is empty" >&2
    exit 1
  fi
  name="etcd-$(date -u +%Y%m%dT%H%M%SZ).db"
  mv incoming.db "$name"
  echo "$name" >latest
  echo "etcd-backup: saved $BACKUP_DIR/$name ($(wc -c <"$name") bytes)"
fi
# Snapshot names sort by time; drop all but the newest $KEEP.
count=0
for old in $(ls -1 etcd-*.db 2>/dev/null | sort -r); do
  count=$((count + 1))
  if [ "$count" -gt "$KEEP" ]; then
    rm -f -- "$old"
    echo "etcd-backup: removed $old"
  fi
done
