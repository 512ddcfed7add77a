#!/usr/bin/env bash
# Runs on a control plane that leaves the settings, before its Node is drained and deleted: `kubeadm reset` removes
# its etcd member, so the remaining members keep their quorum. Harmless on a host that never joined or already left.
# Inputs (generated header): ROOT.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
if [[ ! -f "$state/join.done" ]]; then
  log "this host is not a joined control plane: nothing to leave"
  exit 0
fi
run_logged "$state/reset.log" "kubeadm reset" kubeadm reset -f
rm -f "$state/join.done"
log "left the control plane (etcd member removed)"
