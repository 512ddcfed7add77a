#!/usr/bin/env bash
# Runs on the first control plane after a node's kubelet upgrade: waits (bounded) until the node reports the target
# kubelet and Ready, then makes it schedulable again. A node that is schedulable and at the target already (a new
# cluster, a finished upgrade) is left as it is, Ready or not (a new cluster's nodes wait for the network add-on).
# Inputs (generated header): ROOT, NODE_NAME, ATTEMPTS, INTERVAL_SECONDS.
# shellcheck disable=SC2154
set -euo pipefail

ready() {
  [[ "$(node_kubelet_version "$NODE_NAME")" == "$target" ]] &&
    [[ "$(kubectl --kubeconfig "$admin_conf" get node "$NODE_NAME" \
      -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
if [[ "$(node_kubelet_version "$NODE_NAME")" == "$target" &&
  "$(kubectl --kubeconfig "$admin_conf" get node "$NODE_NAME" -o 'jsonpath={.spec.unschedulable}')" != true ]]; then
  log "node $NODE_NAME runs $target and is schedulable"
  exit 0
fi
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  if ready; then
    kubectl --kubeconfig "$admin_conf" uncordon "$NODE_NAME" >&2
    log "node $NODE_NAME Ready at $target and schedulable"
    exit 0
  fi
  sleep "$INTERVAL_SECONDS"
done
fail "node $NODE_NAME is not Ready at $target after $ATTEMPTS attempts; it stays cordoned"
