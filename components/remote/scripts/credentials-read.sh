#!/usr/bin/env bash
# Read only, on a control plane that makes join credentials, at every preview and update (ssh-read.sh): for each
# node it made credentials for (join-credentials.sh records their expiry and the request they were made under in
# CREDENTIALS_RECORDS), whether that node has joined (its Node carries the machine identity its join records last).
# The program asks for fresh credentials for a node that has not joined and whose credentials have expired
# (components/bootstrap/join_credentials.py), however long ago the failed attempt was. Prints
# {"nodes": {name: {"expires": epoch, "request": text, "joined": bool}}}.
# Inputs (generated header): ROOT, CREDENTIALS_RECORDS.
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
if [[ ! -f $admin ]]; then
  printf '{"unavailable": "no /etc/kubernetes/admin.conf: not a control plane of a cluster yet"}\n'
  exit 0
fi
joined=$(kubectl --kubeconfig "$admin" get nodes -o 'jsonpath={range .items[*]}{.metadata.name}{"|"}{.metadata.annotations.k8s-platform\.io/machine-identity}{"\n"}{end}')
entries=()
for record in "$ROOT$CREDENTIALS_RECORDS"/*; do
  [[ -f $record ]] || continue
  node=$(basename "$record")
  read -r expires request <"$record" || true
  [[ $expires =~ ^[0-9]+$ ]] || continue
  state=false
  if awk -F'|' -v n="$node" '$1 == n && $2 != "" { found = 1 } END { exit !found }' <<<"$joined"; then
    state=true
  fi
  entries+=("\"$node\": {\"expires\": $expires, \"request\": \"${request//\"/}\", \"joined\": $state}")
done
printf '{"nodes": {%s}}\n' "$(IFS=,; printf '%s' "${entries[*]}")"
