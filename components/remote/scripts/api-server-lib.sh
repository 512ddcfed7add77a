# shellcheck shell=bash
# What the API server steps share (api-server-files.sh, api-server-config.sh, api-server-encryption.sh): whether
# kube-apiserver's manifest carries a flag, the files it last started with, its restart when they changed, the
# wait for it to answer.
# Inputs (generated header): ROOT, AUDIT_POLICY_FILE, ENCRYPTION_CONFIG_FILE, RESTART_ATTEMPTS.
# shellcheck disable=SC2154

api_server_state="$ROOT/etc/kubernetes/k8s-platform"
api_server_manifest="$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml"
# The digest of the audit policy and the encryption configuration the API server last started with: it reads
# both only when it starts, so a change on disk needs a restart, however long ago (or in which run) it was made.
api_server_started_with="$api_server_state/api-server-started-with.sha256"

# api_server_has_flag FLAG: the manifest holds FLAG ("--name=value") as one of the container's arguments.
api_server_has_flag() {
  [[ -f $api_server_manifest ]] &&
    awk -v flag="$1" '{ sub(/^[ \t]*- /, "") } $0 == flag { found = 1 } END { exit !found }' "$api_server_manifest"
}

api_server_policy_digest() {
  sha256sum "$ROOT$AUDIT_POLICY_FILE" 2>/dev/null | cut -d' ' -f1
}

api_server_files_digest() {
  cat "$ROOT$AUDIT_POLICY_FILE" "$ROOT$ENCRYPTION_CONFIG_FILE" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# api_server_record_files: the API server (about to start, or just restarted) runs with the files on disk.
api_server_record_files() {
  mkdir -p "$api_server_state" && api_server_files_digest >"$api_server_started_with"
}

# api_server_files_changed: the policy or the encryption configuration is not what the API server started with.
api_server_files_changed() {
  [[ "$(cat "$api_server_started_with" 2>/dev/null)" != "$(api_server_files_digest)" ]]
}

# api_server_restart_if_changed: restarts kube-apiserver the upstream way (restart_static_pod) when its files
# changed since it started, then records what it runs with. A run cut short before the record restarts again.
api_server_restart_if_changed() {
  api_server_files_changed || return 0
  log "the audit policy or the encryption configuration changed since kube-apiserver started: it starts again"
  restart_static_pod kube-apiserver "$RESTART_ATTEMPTS"
  api_server_record_files
}

# api_server_wait_ready: this host's API server answers /readyz (the next control plane's turn waits for it).
api_server_wait_ready() {
  local attempt
  for ((attempt = 1; attempt <= RESTART_ATTEMPTS; attempt++)); do
    curl --insecure --silent --fail --max-time 5 https://127.0.0.1:6443/readyz >/dev/null && return 0
    sleep 2
  done
  fail "the API server is not ready: see crictl logs"
}
