#!/usr/bin/env bash
# The first step of a node's upgrade, on the node: kubeadm at the target, then the first control plane upgrades the
# cluster (`kubeadm upgrade plan`, `kubeadm upgrade apply`), another control plane its own components and a worker
# its kubelet configuration (`kubeadm upgrade node`). The kubelet stays as it is: it moves after the drain.
# Nothing to do when this node already runs the target.
# Inputs (generated header): ROOT, ROLE (first-control-plane | control-plane | worker).
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
mkdir -p "$state"
if [[ $ROLE == worker ]]; then
  current=$(package_version kubelet)
  wanted=$KUBERNETES_PACKAGE_VERSION
else
  current=$(apiserver_version)
  wanted=$target
fi
if [[ $current == "$wanted" ]]; then
  log "this node already runs $target"
  exit 0
fi
use_target_repository
install_target kubeadm || true
case $ROLE in
  first-control-plane)
    run_logged "$state/upgrade-plan.log" "kubeadm upgrade plan" kubeadm upgrade plan "$target"
    run_logged "$state/upgrade-apply.log" "kubeadm upgrade apply" kubeadm upgrade apply "$target" --yes
    ;;
  control-plane | worker)
    run_logged "$state/upgrade-node.log" "kubeadm upgrade node" kubeadm upgrade node
    ;;
  *) fail "unknown role $ROLE" ;;
esac
log "kubeadm upgraded to $target ($ROLE)"
