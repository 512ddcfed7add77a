#!/usr/bin/env bash
# Installs the etcd restore program (etcd-restore.sh, carried base64 as PROGRAM_BASE64) on a control plane at
# PROGRAM_PATH, so that a restore in a hurry finds it there (docs/backup-restore.md, "Restoring etcd"). Unchanged: left alone.
# Inputs (generated header): ROOT, PROGRAM_BASE64, PROGRAM_PATH.
# shellcheck disable=SC2154
set -euo pipefail

program=$(base64 -d <<<"$PROGRAM_BASE64")
write_file "$ROOT$PROGRAM_PATH" 755 "$program" || log "$PROGRAM_PATH is current"
