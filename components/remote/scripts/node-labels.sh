#!/usr/bin/env bash
# Runs on a control plane of the cluster after a node joined, and again whenever the node's labels or taints in the
# settings change: applies them through the API (a node's kubelet sets its labels and taints only when it first
# registers). Labels and taints this step set before and the settings no longer hold are removed; the ones it set
# are recorded on the Node (annotations k8s-platform.io/managed-labels and managed-taints), and nothing else on the
# Node is touched (labels of the kubelet, of Kubernetes or of an operator stay).
# Inputs (generated header): ROOT, NODE_NAME, NODE_IDENTITY (runs again on a new machine), LABELS (one key=value a line), TAINTS (one key=value:effect or key:effect a line).
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
if [[ ! -f $admin ]]; then
  log "no admin.conf on this host: it is not a control plane of the cluster (yet); $NODE_NAME's labels left as they are"
  exit 0
fi
node() { kubectl --kubeconfig "$admin" "$@"; }
recorded() {
  node get node "$NODE_NAME" -o "jsonpath={.metadata.annotations.k8s-platform\\.io/managed-$1}" | tr ',' '\n'
}

mapfile -t wanted_labels < <(grep . <<<"$LABELS" || true)
mapfile -t wanted_taints < <(grep . <<<"$TAINTS" || true)
label_keys=$(for l in "${wanted_labels[@]}"; do printf '%s\n' "${l%%=*}"; done)
taint_keys=$(for t in "${wanted_taints[@]}"; do key=${t%%[=:]*}; printf '%s:%s\n' "$key" "${t##*:}"; done)

# Read first: a failed read stops here (in a for list it would not), before the record is overwritten.
set_before=$(recorded labels)
tainted_before=$(recorded taints)
for key in $set_before; do
  grep -qxF "$key" <<<"$label_keys" || { node label node "$NODE_NAME" "$key-" >&2; log "label $key removed"; }
done
for key in $tainted_before; do
  if ! grep -qxF "$key" <<<"$taint_keys"; then
    node taint node "$NODE_NAME" "$key-" >&2 || log "taint $key was not there"
    log "taint $key removed"
  fi
done
if ((${#wanted_labels[@]})); then
  node label node "$NODE_NAME" --overwrite "${wanted_labels[@]}" >&2
fi
if ((${#wanted_taints[@]})); then
  node taint node "$NODE_NAME" --overwrite "${wanted_taints[@]}" >&2
fi
node annotate node "$NODE_NAME" --overwrite \
  "k8s-platform.io/managed-labels=$(paste -sd, <<<"$label_keys")" \
  "k8s-platform.io/managed-taints=$(paste -sd, <<<"$taint_keys")" >&2
log "$NODE_NAME has ${#wanted_labels[@]} label(s) and ${#wanted_taints[@]} taint(s) from the settings"
