#!/usr/bin/env bash
# Runs on the first control plane before a node's containerd and kubelet are upgraded: cordons and drains it within
# DRAIN_TIMEOUT, through the eviction API (PodDisruptionBudgets hold). A drain that cannot finish stops the upgrade
# naming the node and the pods still on it; the node stays cordoned, its kubelet untouched. Nothing to do when its
# kubelet already runs the target and its containerd step has nothing to do either (the pinned containerd 2, or
# containerd 1.7 before the target that moves it).
# Inputs (generated header): ROOT, NODE_NAME, DRAIN_TIMEOUT, CONTAINERD_VERSION, CONTAINERD_2_FROM_MINOR.
# shellcheck disable=SC2154
set -euo pipefail

[[ -f $admin_conf ]] || fail "no admin.conf on this host: it is not the first control plane"
runtime=$(kubectl --kubeconfig "$admin_conf" get node "$NODE_NAME" \
  -o 'jsonpath={.status.nodeInfo.containerRuntimeVersion}')
runtime_done=false
if [[ $runtime == "containerd://$CONTAINERD_VERSION" ]]; then
  runtime_done=true
elif [[ $runtime == containerd://1.* ]] && (($(minor_of "$target") < CONTAINERD_2_FROM_MINOR)); then
  runtime_done=true
fi
if [[ "$(node_kubelet_version "$NODE_NAME")" == "$target" && $runtime_done == true ]]; then
  log "node $NODE_NAME already runs $target and its containerd (${runtime#containerd://})"
  exit 0
fi
# Marked first: the uncordon after the upgrade makes schedulable again only the nodes the upgrade cordoned.
kubectl --kubeconfig "$admin_conf" annotate node "$NODE_NAME" --overwrite "k8s-platform/upgrade-drained=$target" >&2
if ! kubectl --kubeconfig "$admin_conf" drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data \
  --timeout "$DRAIN_TIMEOUT" >&2; then
  pods=$(kubectl --kubeconfig "$admin_conf" get pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" \
    -o 'jsonpath={range .items[*]}{.metadata.namespace}{"/"}{.metadata.name}{" "}{end}' || true)
  fail "node $NODE_NAME could not be drained within $DRAIN_TIMEOUT (PodDisruptionBudgets or stuck pods): still on it: ${pods:-unknown}; it stays cordoned and at its version: free it and run pulumi up again"
fi
log "node $NODE_NAME drained"
