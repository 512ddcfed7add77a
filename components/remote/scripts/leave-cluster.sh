#!/usr/bin/env bash
# Runs on the first control plane when a node leaves the settings, before its host is reset and its machine goes:
# drains it (bounded; PodDisruptionBudgets hold), removes a control plane's etcd member from the surviving ones
# (quorum checked first), then deletes its Node. A node that is not Ready (dead, unreachable) is cordoned instead of
# drained: its pods are rescheduled when its Node is deleted. Nothing happens to a node the settings still hold
# (member.sh's mark). Harmless when the node is already gone; a drain that cannot finish stops here, node cordoned.
# Inputs (generated header): ROOT, NODE_NAME, ROLE (control-plane | worker), DRAIN_TIMEOUT.
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
if [[ -e "$ROOT/etc/kubernetes/k8s-platform/members.d/$NODE_NAME" ]]; then
  log "$NODE_NAME is still in the settings: a replaced step removes nothing"
  exit 0
fi
if [[ ! -f $admin ]]; then
  log "no admin.conf on this host: nothing to remove"
  exit 0
fi

take_node_out "$admin" "$NODE_NAME" "$ROLE" "$DRAIN_TIMEOUT" "in the cluster"
