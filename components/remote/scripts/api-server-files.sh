#!/usr/bin/env bash
# On every control plane, before its init or join and again whenever the policy or the key changes: the files
# kube-apiserver reads for its audit log and for the encryption of Secrets at rest (components/bootstrap/
# api_security.py). The key goes in as a key that reads (second) when this host already writes under another one:
# every control plane must be able to read Secrets sealed under a new key before any of them writes with it
# (api-server-config.sh restarts each API server with it, api-server-encryption.sh then makes it the one that
# writes). A host without keys gets it as its only key; one whose API server runs without encryption keeps
# identity writing until then. Nothing is restarted here.
# Inputs (generated header): ROOT, AUDIT_POLICY, AUDIT_POLICY_FILE, AUDIT_LOG_DIR, ENCRYPTION_FLAG.
# shellcheck disable=SC2154
set -euo pipefail
umask 077

encryption_check_key
mkdir -p "$(dirname "$ROOT$AUDIT_POLICY_FILE")" "$ROOT$AUDIT_LOG_DIR"
chmod 700 "$ROOT$AUDIT_LOG_DIR"
write_file "$ROOT$AUDIT_POLICY_FILE" 600 "$AUDIT_POLICY" || true
if [[ -f $api_server_manifest ]] && ! api_server_has_flag "$ENCRYPTION_FLAG"; then
  mkdir -p "$(dirname "$ROOT$ENCRYPTION_KEYS_FILE")" && touch "$(dirname "$ROOT$ENCRYPTION_KEYS_FILE")/identity-writes"
fi
if encryption_write second; then
  log "the encryption configuration now holds key $(encryption_key_name)"
else
  log "the encryption configuration already holds key $(encryption_key_name)"
fi
# The API server this host's init or join makes starts with these files.
[[ -f $api_server_manifest ]] || api_server_record_files
