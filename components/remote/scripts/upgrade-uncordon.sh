#!/usr/bin/env bash
# Runs on the first control plane after a node's kubelet upgrade: waits (bounded) until the node reports the target
# kubelet and Ready, then makes it schedulable again, if the upgrade's drain cordoned it (a node an operator cordoned
# stays cordoned). A node at the target that the upgrade did not cordon (a new cluster, a finished upgrade) is left
# as it is, Ready or not (a new cluster's nodes wait for the network add-on).
# Inputs (generated header): ROOT, NODE_NAME, ATTEMPTS, INTERVAL_SECONDS.
# shellcheck disable=SC2154
set -euo pipefail

ready() {
  [[ "$(node_kubelet_version "$NODE_NAME")" == "$target" ]] &&
    [[ "$(kubectl --kubeconfig "$admin_conf" get node "$NODE_NAME" \
      -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
drained=$(kubectl --kubeconfig "$admin_conf" get node "$NODE_NAME" \
  -o 'jsonpath={.metadata.annotations.k8s-platform/upgrade-drained}')
if [[ "$(node_kubelet_version "$NODE_NAME")" == "$target" && -z $drained ]]; then
  log "node $NODE_NAME runs $target; the upgrade did not cordon it"
  exit 0
fi
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  if ready && [[ -z $drained ]]; then
    log "node $NODE_NAME Ready at $target; cordoned before the upgrade, it stays cordoned"
    exit 0
  elif ready; then
    kubectl --kubeconfig "$admin_conf" uncordon "$NODE_NAME" >&2
    kubectl --kubeconfig "$admin_conf" annotate node "$NODE_NAME" "k8s-platform/upgrade-drained-" >&2
    log "node $NODE_NAME Ready at $target and schedulable"
    exit 0
  fi
  sleep "$INTERVAL_SECONDS"
done
fail "node $NODE_NAME is not Ready at $target after $ATTEMPTS attempts; it stays cordoned"
