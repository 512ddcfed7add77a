#!/usr/bin/env bash
# Joins this host to the cluster, once, as a control plane or a worker (the JoinConfiguration says which).
# A join that failed halfway is reset and run again.
# Inputs (generated header): ROOT, KUBEADM_CONFIG, KUBELET_PATCH, PATCH_FILE.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
done_marker="$state/join.done"
if [[ -f $done_marker ]]; then
  log "kubeadm join already done"
  exit 0
fi
if [[ -e "$ROOT/etc/kubernetes/kubelet.conf" ]]; then
  log "an earlier join did not finish: resetting before running it again"
  mkdir -p "$state"
  kubeadm reset -f >"$state/reset.log" 2>&1 || fail "kubeadm reset failed; log (root only): /etc/kubernetes/k8s-platform/reset.log"
fi

umask 077
mkdir -p "$state" "$ROOT/etc/kubernetes/patches"
write_file "$state/kubeadm-join.yaml" 600 "$KUBEADM_CONFIG" || true
write_file "$ROOT/etc/kubernetes/patches/$PATCH_FILE" 600 "$KUBELET_PATCH" || true

if ! kubeadm join --config "$state/kubeadm-join.yaml" >"$state/join.log" 2>&1; then
  grep -v -i -E 'token|certificate-key' "$state/join.log" | tail -n 20 >&2 || true
  fail "kubeadm join failed; full log (root only): /etc/kubernetes/k8s-platform/join.log"
fi
touch "$done_marker"
log "kubeadm join done"
