#!/usr/bin/env bash
# On each control plane in turn, once every control plane has the files (api-server-files.sh): makes this run's
# encryption key the one that writes, and sees that kube-apiserver runs with the audit and encryption flags.
# An API server whose manifest lacks one of MANIFEST_FLAGS (a cluster made before they existed) gets its manifest
# written again by kubeadm from KUBEADM_CONFIG (this node's InitConfiguration and the cluster's
# ClusterConfiguration); one whose configuration changed is restarted the upstream way (restart_static_pod). Then
# it waits for the API server, and stores the ClusterConfiguration in kube-system/kubeadm-config, where upgrades
# and joins of new control planes read it. A run cut short after a change restarts the API server on the next run.
# Inputs (generated header): ROOT, KUBEADM_CONFIG, MANIFEST_FLAGS, RESTART_ATTEMPTS.
# shellcheck disable=SC2154
set -euo pipefail
umask 077

state="$ROOT/etc/kubernetes/k8s-platform"
manifest="$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml"
admin="$ROOT/etc/kubernetes/admin.conf"
pending="$state/api-server-restart-pending"
[[ -f $admin ]] || fail "no /etc/kubernetes/admin.conf: this host is not a control plane"
encryption_check_key
static_pods_exclusive
name=$(encryption_key_name)
grep -q "^$name " "$ROOT$ENCRYPTION_KEYS_FILE" 2>/dev/null ||
  fail "key $name is not in $ENCRYPTION_KEYS_FILE: its api-server-files step has not run here; run pulumi up again"
if encryption_write first; then
  touch "$pending"
  log "key $name now seals the Secrets this API server writes"
fi

missing=()
while read -r flag; do
  [[ -z $flag ]] || awk -v flag="$flag" '{ sub(/^[ \t]*- /, "") } $0 == flag { found = 1 } END { exit !found }' \
    "$manifest" || missing+=("$flag")
done <<<"$MANIFEST_FLAGS"
config="$state/api-server-kubeadm.yaml"
write_file "$config" 600 "$KUBEADM_CONFIG" || true
if ((${#missing[@]})); then
  log "kube-apiserver runs without ${missing[*]}: kubeadm writes its manifest again"
  before=$(running_container kube-apiserver)
  run_logged "$state/api-server-config.log" "kubeadm init phase control-plane apiserver" \
    kubeadm init phase control-plane apiserver --config "$config"
  for ((attempt = 1; attempt <= RESTART_ATTEMPTS; attempt++)); do
    now=$(running_container kube-apiserver)
    [[ -z $now || $now == "$before" ]] || break
    ((attempt < RESTART_ATTEMPTS)) || fail "kube-apiserver did not start again within $((RESTART_ATTEMPTS * 2)) s"
    sleep 2
  done
  rm -f "$pending"
elif [[ -f $pending ]]; then
  restart_static_pod kube-apiserver "$RESTART_ATTEMPTS"
  rm -f "$pending"
fi
for ((attempt = 1; attempt <= RESTART_ATTEMPTS; attempt++)); do
  curl --insecure --silent --fail --max-time 5 https://127.0.0.1:6443/readyz >/dev/null && break
  ((attempt < RESTART_ATTEMPTS)) || fail "the API server is not ready: see crictl logs"
  sleep 2
done
run_logged "$state/api-server-config.log" "kubeadm init phase upload-config kubeadm" \
  kubeadm init phase upload-config kubeadm --config "$config" --kubeconfig "$admin"
log "kube-apiserver runs with the audit log and encryption at rest (key $name)"
