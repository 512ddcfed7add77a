#!/usr/bin/env bash
# Joins this host to the cluster, once, as a control plane or a worker (the JoinConfiguration says which).
# A join that failed halfway is reset and run again.
# Inputs (generated header): ROOT, KUBEADM_CONFIG, KUBELET_PATCH, PATCH_FILE.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
if [[ -f "$state/join.done" ]]; then
  log "kubeadm join already done"
  exit 0
fi
if [[ -e "$ROOT/etc/kubernetes/kubelet.conf" ]]; then
  log "an earlier join did not finish: resetting before running it again"
  mkdir -p "$state"
  run_logged "$state/reset.log" "kubeadm reset" kubeadm reset -f
fi

write_kubeadm_inputs "$state" kubeadm-join.yaml
run_logged "$state/join.log" "kubeadm join" kubeadm join --config "$state/kubeadm-join.yaml"
touch "$state/join.done"
log "kubeadm join done"
