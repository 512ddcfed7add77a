#!/usr/bin/env bash
# Once every API server writes with this run's encryption key (api-server-config.sh): every Secret is written
# again, so that it is sealed under that key (upstream's "ensure all Secrets are encrypted"). Secrets stored in
# the clear before encryption was on, or under an older key, are then unreadable to no one and sealed under the
# current one. A Secret changed between the read and the write is refused by its resourceVersion and already
# sealed by that change; the rewrite runs again, at most ATTEMPTS times. Harmless to repeat.
# Runs again whenever the set of control planes changes (CONTROL_PLANES is part of the script): a control plane that
# joins writes with the key only from its own encryption step on.
# Inputs (generated header): ROOT, ATTEMPTS, CONTROL_PLANES.
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
state="$ROOT/etc/kubernetes/k8s-platform"
mkdir -p "$state"
[[ -f $admin ]] || fail "no /etc/kubernetes/admin.conf: this host is not a control plane"
name=$(encryption_key_name)
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  if kubectl --kubeconfig "$admin" get secrets --all-namespaces -o json |
    kubectl --kubeconfig "$admin" replace -f - >"$state/secrets-rewrite.log" 2>&1; then
    log "$(grep -c ' replaced$' "$state/secrets-rewrite.log" || true) Secrets written again under key $name (control planes: $CONTROL_PLANES)"
    exit 0
  fi
  log "attempt $attempt of $ATTEMPTS: $(grep -v ' replaced$' "$state/secrets-rewrite.log" | head -n 3 | tr '\n' ' ')"
  sleep 5
done
fail "the Secrets could not all be written again under key $name: see $state/secrets-rewrite.log on this host"
