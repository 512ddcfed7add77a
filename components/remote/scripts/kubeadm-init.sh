#!/usr/bin/env bash
# Runs `kubeadm init` on the first control plane, once. A run that failed halfway is reset and run again; a host
# that finished init before is left alone.
# Inputs (generated header): ROOT, KUBEADM_CONFIG, KUBELET_PATCH, PATCH_FILE.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
if [[ -f "$state/init.done" ]]; then
  log "kubeadm init already done"
  exit 0
fi
if [[ -e "$ROOT/etc/kubernetes/admin.conf" || -n "$(ls -A "$ROOT/etc/kubernetes/manifests" 2>/dev/null)" ]]; then
  log "an earlier init did not finish: resetting before running it again"
  mkdir -p "$state"
  run_logged "$state/reset.log" "kubeadm reset" kubeadm reset -f
fi

write_kubeadm_inputs "$state" kubeadm-init.yaml
run_logged "$state/images.log" "kubeadm config images pull" \
  kubeadm config images pull --config "$state/kubeadm-init.yaml"
# No --upload-certs: each control-plane join uploads the certificates under a key of its own (join-credentials.sh),
# so init never makes or prints a certificate key; and the token it was given is not printed either.
run_logged "$state/init.log" "kubeadm init" kubeadm init --config "$state/kubeadm-init.yaml" --skip-token-print
touch "$state/init.done"
log "kubeadm init done"
