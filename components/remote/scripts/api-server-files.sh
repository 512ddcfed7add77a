#!/usr/bin/env bash
# On every control plane, before its init or join and again whenever the policy or the key changes: the files
# kube-apiserver reads for its audit log and for the encryption of Secrets at rest (components/bootstrap/
# api_security.py). The key goes in as a key that reads (second) when this host already writes under another one:
# every control plane must be able to read Secrets sealed under a new key before any of them writes with it
# (api-server-config.sh restarts each API server with it, api-server-encryption.sh then makes it the one that
# writes). A host without keys gets it as its only key; it, and one whose API server runs without encryption, keep
# identity writing until then. Nothing is restarted here.
# ENCRYPTION_STACK_MARKER says that the keys here came from the stack (encryption-key.sh adopts keys without it).
# Inputs (generated header): ROOT, AUDIT_POLICY, AUDIT_POLICY_FILE, AUDIT_LOG_DIR, ENCRYPTION_FLAG, ENCRYPTION_STACK_MARKER.
# shellcheck disable=SC2154
set -euo pipefail
umask 077

encryption_check_key
# No renewal or upgrade restarts the API server meanwhile (a manifest it held out is back: "no manifest" below
# means no API server).
static_pods_exclusive
mkdir -p "$(dirname "$ROOT$AUDIT_POLICY_FILE")" "$ROOT$AUDIT_LOG_DIR"
chmod 700 "$ROOT$AUDIT_LOG_DIR"
write_file "$ROOT$AUDIT_POLICY_FILE" 600 "$AUDIT_POLICY" || true
# Identity keeps writing on an API server that runs without encryption, and on a control plane new to the cluster
# (or the first of a new one: no keys yet): it reads sealed Secrets from its start but seals only in its own
# api-server-encryption step, as the others may not read this key yet (a rotation under way).
if ! api_server_has_flag "$ENCRYPTION_FLAG" && [[ -f $api_server_manifest || ! -s $ROOT$ENCRYPTION_KEYS_FILE ]]; then
  encryption_keep_identity_writing
fi
if encryption_write second; then
  log "the encryption configuration now holds key $(encryption_key_name)"
else
  log "the encryption configuration already holds key $(encryption_key_name)"
fi
touch "$ROOT$ENCRYPTION_STACK_MARKER"
# The API server this host's init or join makes starts with these files.
[[ -f $api_server_manifest ]] || api_server_record_files
