#!/usr/bin/env bash
# Runs on a node when its join step is deleted: resets the host (kubeadm reset, kubelet stopped and disabled) so a
# removed machine does not register again at its next boot (and our daily timers go with it), but only when the cluster no longer has its Node
# (leave-cluster.sh deleted it). A Node that is still there means the join step was replaced, or `--replace` was
# used, on a node the settings keep: nothing is reset. When the API cannot be asked, nothing is reset either.
# A control plane's encryption keys, audit policy and audit log (with Fluent Bit's place in it) go as well: no key
# that opens the cluster's Secrets, and no request body, stays on a machine that left it.
# Inputs (generated header): ROOT, NODE_NAME, ENDPOINT, API_SERVER_FILES (paths: one per line).
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
kubelet_conf="$ROOT/etc/kubernetes/kubelet.conf"
if [[ ! -f $kubelet_conf ]]; then
  log "this host has not joined: nothing to reset"
  exit 0
fi
# Through the load balancer with the node's own credentials (on a control plane leaving, its local API server has
# lost its etcd member already).
if ! found=$(kubectl --kubeconfig "$kubelet_conf" get node "$NODE_NAME" --server "https://$ENDPOINT" \
  --ignore-not-found -o name); then
  fail "cannot ask the API at $ENDPOINT whether $NODE_NAME is still a Node; nothing reset"
fi
if [[ -n $found ]]; then
  log "$NODE_NAME is still a Node of the cluster: a replaced step resets nothing"
  exit 0
fi
mkdir -p "$state"
run_logged "$state/reset.log" "kubeadm reset" kubeadm reset -f
systemctl disable --now kubelet
remove_timed_programs
while read -r path; do
  [[ -z $path || ! -e $ROOT$path ]] || { rm -rf "$ROOT${path:?}" && log "removed $path"; }
done <<<"$API_SERVER_FILES"
rm -f "$state/join.done"
log "host reset: $NODE_NAME left the cluster"
