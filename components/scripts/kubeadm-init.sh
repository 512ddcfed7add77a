#!/usr/bin/env bash
# Runs `kubeadm init` on the first control plane, once. A run that failed halfway is reset and run again; a host
# that finished init before is left alone.
# Inputs (generated header): ROOT, KUBEADM_CONFIG, KUBELET_PATCH, PATCH_FILE.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
done_marker="$state/init.done"
if [[ -f $done_marker ]]; then
  log "kubeadm init already done"
  exit 0
fi
if [[ -e "$ROOT/etc/kubernetes/admin.conf" || -n "$(ls -A "$ROOT/etc/kubernetes/manifests" 2>/dev/null)" ]]; then
  log "an earlier init did not finish: resetting before running it again"
  mkdir -p "$state"
  kubeadm reset -f >"$state/reset.log" 2>&1 || fail "kubeadm reset failed; log (root only): /etc/kubernetes/k8s-platform/reset.log"
fi

umask 077
mkdir -p "$state" "$ROOT/etc/kubernetes/patches"
write_file "$state/kubeadm-init.yaml" 600 "$KUBEADM_CONFIG" || true
write_file "$ROOT/etc/kubernetes/patches/$PATCH_FILE" 600 "$KUBELET_PATCH" || true

kubeadm config images pull --config "$state/kubeadm-init.yaml" >/dev/null
# kubeadm prints the join command with its token: keep that in a root-only log, never on our output.
if ! kubeadm init --config "$state/kubeadm-init.yaml" --upload-certs >"$state/init.log" 2>&1; then
  grep -v -i -E 'token|certificate-key|discovery' "$state/init.log" | tail -n 20 >&2 || true
  fail "kubeadm init failed; full log (root only): /etc/kubernetes/k8s-platform/init.log"
fi
touch "$done_marker"
log "kubeadm init done"
