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

if kubectl --kubeconfig "$admin" get node "$NODE_NAME" >/dev/null 2>&1; then
  ready=$(kubectl --kubeconfig "$admin" get node "$NODE_NAME" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
  if [[ $ready == True ]]; then
    drain_node "$admin" "$NODE_NAME" "$DRAIN_TIMEOUT" "in the cluster"
  else
    kubectl --kubeconfig "$admin" cordon "$NODE_NAME" >&2
    log "node $NODE_NAME is not Ready (${ready:-unknown}): cordoned, not drained"
  fi
fi
if [[ $ROLE == control-plane ]]; then
  # `member list` prints "id, status, name, peer URLs, client URLs, learner" per member.
  listed=$(etcdctl_here member list) || fail "cannot list the etcd members; nothing removed"
  read -r member client < <(awk -F', ' -v n="$NODE_NAME" '$3 == n { print $1, $5 }' <<<"$listed") || true
  if [[ -n ${member:-} ]]; then
    left=$(($(grep -c . <<<"$listed") - 1))
    # The members that stay must hold a quorum of the smaller cluster on their own (the leaving one may be dead).
    healthy=$(etcdctl_here endpoint health --cluster 2>&1 | awk -v c="$client" '$2 == "is" && $3 == "healthy:" && $1 != c' |
      grep -c . || true)
    ((healthy >= left / 2 + 1)) ||
      fail "only $healthy of the $left etcd members that would stay are healthy: $NODE_NAME's member stays"
    etcdctl_here member remove "$member" >&2
    log "etcd member $member ($NODE_NAME) removed; $left left, $healthy healthy"
  fi
fi
kubectl --kubeconfig "$admin" delete node "$NODE_NAME" --ignore-not-found >&2
log "node $NODE_NAME removed from the cluster"
