#!/usr/bin/env bash
# On each control plane in turn, once every control plane has the files (api-server-files.sh): kube-apiserver runs
# with the audit and encryption flags, the audit policy on disk and every key this host holds, the newest only as
# a key that reads. The pass that makes the newest key (or, when encryption is new, secretbox) write is
# api-server-encryption.sh, after this one ran on every control plane: no API server meets a Secret it cannot open.
# An API server whose manifest lacks one of MANIFEST_FLAGS (a cluster made before they existed) gets its manifest
# written again by kubeadm from KUBEADM_CONFIG (this node's InitConfiguration and the cluster's
# ClusterConfiguration), identity still writing; one whose configuration or policy changed is restarted the
# upstream way (restart_static_pod). Then it waits for the API server, and stores the ClusterConfiguration in
# kube-system/kubeadm-config, where upgrades and joins of new control planes read it. A run cut short after a
# change restarts the API server on the next run (api-server-lib.sh records what it started with).
# AUDIT_POLICY_SHA256 is the policy this run expects (an edited policy makes the step run again).
# Inputs (generated header): KUBEADM_CONFIG, MANIFEST_FLAGS, ENCRYPTION_FLAG, AUDIT_POLICY_SHA256.
# shellcheck disable=SC2154
set -euo pipefail
umask 077

admin="$ROOT/etc/kubernetes/admin.conf"
[[ -f $admin ]] || fail "no /etc/kubernetes/admin.conf: this host is not a control plane"
encryption_check_key
static_pods_exclusive
name=$(encryption_key_name)
grep -q "^$name " "$ROOT$ENCRYPTION_KEYS_FILE" 2>/dev/null ||
  fail "key $name is not in $ENCRYPTION_KEYS_FILE: its api-server-files step has not run here; run pulumi up again"
[[ "$(api_server_policy_digest)" == "$AUDIT_POLICY_SHA256" ]] ||
  fail "$AUDIT_POLICY_FILE is not this run's audit policy: its api-server-files step has not run here;" \
    "run pulumi up again"
api_server_has_flag "$ENCRYPTION_FLAG" || encryption_keep_identity_writing
encryption_write second || true

missing=()
while read -r flag; do
  [[ -z $flag ]] || api_server_has_flag "$flag" || missing+=("$flag")
done <<<"$MANIFEST_FLAGS"
config="$api_server_state/api-server-kubeadm.yaml"
write_file "$config" 600 "$KUBEADM_CONFIG" || true
if ((${#missing[@]})); then
  log "kube-apiserver runs without ${missing[*]}: kubeadm writes its manifest again"
  before=$(running_container kube-apiserver)
  run_logged "$api_server_state/api-server-config.log" "kubeadm init phase control-plane apiserver" \
    kubeadm init phase control-plane apiserver --config "$config"
  for ((attempt = 1; attempt <= RESTART_ATTEMPTS; attempt++)); do
    now=$(running_container kube-apiserver)
    [[ -z $now || $now == "$before" ]] || break
    ((attempt < RESTART_ATTEMPTS)) || fail "kube-apiserver did not start again within $((RESTART_ATTEMPTS * 2)) s"
    sleep 2
  done
  api_server_record_files
else
  api_server_restart_if_changed
fi
api_server_wait_ready
run_logged "$api_server_state/api-server-config.log" "kubeadm init phase upload-config kubeadm" \
  kubeadm init phase upload-config kubeadm --config "$config" --kubeconfig "$admin"
log "kube-apiserver runs with the audit log and reads Secrets sealed under key $name"
