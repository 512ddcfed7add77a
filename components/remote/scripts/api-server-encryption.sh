#!/usr/bin/env bash
# On each control plane in turn, once api-server-config.sh has restarted every API server with this run's key as a
# key that reads: the key becomes the one that seals what this API server writes (identity stops writing, when it
# still did), and the API server starts again with it. The Secrets written before are rewritten under the key
# afterwards (secrets-rewrite.sh). A run cut short after the change restarts the API server on the next run.
# Inputs (generated header): ENCRYPTION_FLAG.
# shellcheck disable=SC2154
set -euo pipefail
umask 077

[[ -f $ROOT/etc/kubernetes/admin.conf ]] || fail "no /etc/kubernetes/admin.conf: this host is not a control plane"
encryption_check_key
static_pods_exclusive
name=$(encryption_key_name)
grep -q "^$name " "$ROOT$ENCRYPTION_KEYS_FILE" 2>/dev/null && api_server_has_flag "$ENCRYPTION_FLAG" ||
  fail "the API server does not read key $name yet: its api-server-config step has not run here; run pulumi up again"
if encryption_write first; then
  log "key $name now seals the Secrets this API server writes"
fi
api_server_restart_if_changed
api_server_wait_ready
log "kube-apiserver seals Secrets under key $name"
