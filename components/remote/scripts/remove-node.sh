#!/usr/bin/env bash
# Runs on the first control plane when a node leaves the settings: drains it and deletes its Node object before
# its machine goes away. Harmless when the node is already gone.
# Inputs (generated header): ROOT, NODE_NAME, DRAIN_TIMEOUT.
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
if [[ ! -f $admin ]]; then
  log "no admin.conf on this host: nothing to drain"
  exit 0
fi
if ! kubectl --kubeconfig "$admin" get node "$NODE_NAME" >/dev/null 2>&1; then
  log "node $NODE_NAME is not in the cluster"
  exit 0
fi
kubectl --kubeconfig "$admin" drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data \
  --timeout "$DRAIN_TIMEOUT" >&2
kubectl --kubeconfig "$admin" delete node "$NODE_NAME" --ignore-not-found >&2
log "node $NODE_NAME drained and removed"
