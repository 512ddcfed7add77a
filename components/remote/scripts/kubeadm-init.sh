#!/usr/bin/env bash
# Runs `kubeadm init` on the first control plane, once, and only when no cluster answers behind the API endpoint:
# a first control plane that was replaced or re-imaged finds its cluster there and joins it (kubeadm-join.sh, with
# credentials from another control plane) instead of making a second cluster with a new CA behind the same load
# balancer. A run that failed halfway is reset and run again; a host that finished init or a join is left alone.
# On a cluster it is a member of (its init, or its join as a replaced first control plane), it compares the settings kubeadm cannot change in place (CLUSTER_SETTINGS: one
# "<settings key> <ClusterConfiguration field> <value>" per line) with the cluster's ClusterConfiguration, and refuses
# a change naming the settings key: kubeadm would keep the old value while the update reported success.
# Inputs (generated header): ROOT, ENDPOINT, ANSWER_ATTEMPTS, ANSWER_INTERVAL, JOIN_FROM (empty: the only control plane), CLUSTER_SETTINGS, KUBEADM_CONFIG, KUBELET_PATCH, PATCH_FILE, ENCRYPTION_KEYS_FILE, ENCRYPTION_CONFIG_FILE, AUDIT_POLICY_FILE.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
if [[ -f "$state/init.done" || -f "$state/join.done" ]]; then
  made=$(kubectl --kubeconfig "$ROOT/etc/kubernetes/admin.conf" -n kube-system get configmap kubeadm-config \
    -o 'jsonpath={.data.ClusterConfiguration}') || fail "cannot read the cluster's ClusterConfiguration to compare"
  refused=()
  while read -r key field wanted; do
    [[ -n $key ]] || continue
    have=$(awk -v f="$field:" '$1 == f { gsub(/"/, "", $2); print $2; exit }' <<<"$made")
    if [[ -n $have && $have != "$wanted" ]]; then
      refused+=("$key is $wanted in the settings, the cluster was made with $field $have")
    fi
  done <<<"$CLUSTER_SETTINGS"
  if ((${#refused[@]})); then
    fail "kubeadm cannot change this in place (set it back, or build a new cluster and move the workloads): $(printf '%s; ' "${refused[@]}")"
  fi
  if [[ -f "$state/init.done" ]]; then
    log "kubeadm init already done"
  else
    log "this host joined the cluster: nothing to init"
  fi
  exit 0
fi
if [[ -e "$ROOT/etc/kubernetes/admin.conf" ]] || folder_has_content "$ROOT/etc/kubernetes/manifests"; then
  log "an earlier init did not finish: resetting before running it again"
  mkdir -p "$state"
  run_logged "$state/reset.log" "kubeadm reset" kubeadm reset -f
fi
# Any HTTP answer (401 and 403 included) is an API server; no answer at all (000), ANSWER_ATTEMPTS times
# ANSWER_INTERVAL seconds apart, is no cluster: one lost answer (a DNS name not resolving yet, a timeout) must not
# make a second cluster.
status=000
for attempt in $(seq 1 "$ANSWER_ATTEMPTS"); do
  status=$(curl --silent --insecure --max-time 10 --output /dev/null --write-out '%{http_code}' \
    "https://$ENDPOINT/version" || true)
  [[ ${status:-000} == 000 ]] || break
  ((attempt == ANSWER_ATTEMPTS)) || sleep "$ANSWER_INTERVAL"
done
if [[ ${status:-000} != 000 ]]; then
  [[ -n $JOIN_FROM ]] || fail "a cluster already answers at $ENDPOINT (HTTP $status), and this host is its only control plane: it cannot join with another's credentials; restore it from an etcd backup (docs/backup-restore.md) or free the endpoint"
  log "a cluster already answers at $ENDPOINT (HTTP $status): this control plane joins it instead, with credentials from $JOIN_FROM"
  exit 0
fi

write_kubeadm_inputs "$state" kubeadm-init.yaml
# No cluster: nothing can be behind this API server, so the encryption key seals from the start, and the API server
# starts with the files it keeps (its encryption steps then restart nothing).
if encryption_seal_from_start new-cluster; then
  api_server_record_files
fi
run_logged "$state/images.log" "kubeadm config images pull" \
  kubeadm config images pull --config "$state/kubeadm-init.yaml"
# No --upload-certs: each control-plane join uploads the certificates under a key of its own (join-credentials.sh),
# so init never makes or prints a certificate key; and the token it was given is not printed either.
run_logged "$state/init.log" "kubeadm init" kubeadm init --config "$state/kubeadm-init.yaml" --skip-token-print
touch "$state/init.done"
log "kubeadm init done"
