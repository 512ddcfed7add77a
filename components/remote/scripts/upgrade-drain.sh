#!/usr/bin/env bash
# Runs on the first control plane before a node's containerd and kubelet are upgraded: cordons and drains it within
# DRAIN_TIMEOUT, through the eviction API (PodDisruptionBudgets hold). A drain that cannot finish stops the upgrade
# naming the node and the pods still on it; the node stays cordoned, its kubelet untouched. Nothing to do when its
# kubelet already runs the target and its containerd step has nothing to do either (the pinned containerd 2, or
# containerd 1.7 before the target that moves it).
# Inputs (generated header): ROOT, NODE_NAME, DRAIN_TIMEOUT.
# shellcheck disable=SC2154
set -euo pipefail

[[ -f $admin_conf ]] || fail "no admin.conf on this host: it is not the first control plane"
runtime=$(node_containerd_version "$NODE_NAME")
if [[ "$(node_kubelet_version "$NODE_NAME")" == "$target" ]] &&
  { [[ $runtime == "$CONTAINERD_VERSION" ]] || containerd_stays "$runtime"; }; then
  log "node $NODE_NAME already runs $target and its containerd ($runtime)"
  exit 0
fi
# Marked first: the uncordon after the upgrade makes schedulable again only the nodes the upgrade cordoned. A node
# already cordoned and not marked by an earlier run of this step was cordoned by someone else (an operator): it is
# drained but not marked, and stays cordoned after its upgrade.
marked=$(kubectl --kubeconfig "$admin_conf" get node "$NODE_NAME" \
  -o 'jsonpath={.metadata.annotations.k8s-platform/upgrade-drained}')
unschedulable=$(kubectl --kubeconfig "$admin_conf" get node "$NODE_NAME" -o 'jsonpath={.spec.unschedulable}')
if [[ -z $marked && $unschedulable == true ]]; then
  log "node $NODE_NAME was cordoned before the upgrade: drained, and it stays cordoned after"
else
  kubectl --kubeconfig "$admin_conf" annotate node "$NODE_NAME" --overwrite "k8s-platform/upgrade-drained=$target" >&2
fi
drain_node "$admin_conf" "$NODE_NAME" "$DRAIN_TIMEOUT" "at its version"
log "node $NODE_NAME drained"
