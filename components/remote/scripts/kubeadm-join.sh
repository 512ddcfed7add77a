#!/usr/bin/env bash
# Joins this host to the cluster, once, as a control plane or a worker (the JoinConfiguration says which), and
# records on its Node the identity of the machine that joined (join-credentials.sh reads it to notice a replaced or
# re-imaged machine). A join that failed halfway is reset first: everything kubeadm's preflight refuses to find
# (the kubelet's kubeconfigs, the cluster CA, static pod manifests, etcd data). Credentials that expired (made for
# an attempt that failed long ago) stop it at once; the next update's read finds them expired and makes fresh ones.
# Inputs (generated header): ROOT, NODE_NAME, NODE_IDENTITY, JOIN_EXPIRES, CREDENTIALS_STEP, CREDENTIALS_PROBLEM (empty when there are credentials), SEALS_WITH (for a control plane the name of the key the cluster seals under or identity; empty for a worker), KUBEADM_CONFIG, KUBELET_PATCH, PATCH_FILE.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
readonly -a JOIN_LEFTOVER_FILES=(etc/kubernetes/kubelet.conf etc/kubernetes/bootstrap-kubelet.conf
  etc/kubernetes/pki/ca.crt)
readonly -a JOIN_LEFTOVER_DIRS=(etc/kubernetes/manifests var/lib/etcd)

# record_identity KUBECONFIG: a node may annotate its own Node with the kubelet's credentials; the Node appears
# a moment after the join, so this waits for it (bounded).
record_identity() {
  local kubeconfig=$1 attempt
  [[ -n $NODE_IDENTITY ]] || return 0
  for attempt in $(seq 1 30); do
    if kubectl --kubeconfig "$kubeconfig" annotate node "$NODE_NAME" --overwrite \
      "k8s-platform.io/machine-identity=$NODE_IDENTITY" >/dev/null 2>&1; then
      log "node $NODE_NAME records machine identity $NODE_IDENTITY"
      return 0
    fi
    log "node $NODE_NAME not annotated yet (attempt $attempt of 30)"
    sleep 2
  done
  fail "could not record the machine identity on node $NODE_NAME"
}

leftovers() {
  local path
  for path in "${JOIN_LEFTOVER_FILES[@]}"; do
    [[ ! -e "$ROOT/$path" ]] || printf '/%s ' "$path"
  done
  for path in "${JOIN_LEFTOVER_DIRS[@]}"; do
    ! folder_has_content "$ROOT/$path" || printf '/%s ' "$path"
  done
}

if [[ -f "$state/init.done" ]]; then
  log "this host made the cluster (kubeadm init): nothing to join"
  record_identity "$ROOT/etc/kubernetes/admin.conf"
  exit 0
fi
if [[ -f "$state/join.done" ]]; then
  log "kubeadm join already done"
  record_identity "$ROOT/etc/kubernetes/kubelet.conf"
  exit 0
fi
left=$(leftovers)
if [[ -n $left ]]; then
  log "an earlier join did not finish (left: ${left% }): resetting before running it again"
  mkdir -p "$state"
  run_logged "$state/reset.log" "kubeadm reset" kubeadm reset -f
  left=$(leftovers)
  [[ -z $left ]] || fail "kubeadm reset left ${left% } behind: remove it and run pulumi up again"
fi
if [[ -n $CREDENTIALS_PROBLEM ]]; then
  fail "no join credentials for $NODE_NAME: $CREDENTIALS_PROBLEM (step $CREDENTIALS_STEP)"
fi
if (($(date +%s) > JOIN_EXPIRES - 120)); then
  fail "the join credentials of $NODE_NAME expired at $(date -u -d "@$JOIN_EXPIRES" +%FT%TZ) (made for an earlier attempt that failed): run pulumi up again, its preview finds them expired and step $CREDENTIALS_STEP makes fresh ones"
fi

write_kubeadm_inputs "$state" kubeadm-join.yaml
# A control plane joining a cluster that seals under the key this host holds alone starts its API server sealing
# (its encryption steps then restart nothing); otherwise identity writes until its api-server-encryption step.
if [[ -n $SEALS_WITH ]] && encryption_seal_from_start "$SEALS_WITH"; then
  api_server_record_files
fi
run_logged "$state/join.log" "kubeadm join" kubeadm join --config "$state/kubeadm-join.yaml"
touch "$state/join.done"
log "kubeadm join done"
record_identity "$ROOT/etc/kubernetes/kubelet.conf"
