#!/usr/bin/env bash
# containerd pulls the mirrored registries (mirrors.registries) through their mirrors: a hosts.toml per registry in
# containerd's certs.d folder, which it reads on every pull (no restart), on every node, joined or not. The upstream
# stays the server: a registry the mirror cannot serve falls back to it where it can be reached. A mirror's CA goes
# beside its hosts.toml. A hosts.toml of ours for a registry no longer mirrored goes away (ours carry MARK; Harbor's
# proxy cache writes its own, for other registries).
# Inputs (generated header): ROOT, REGISTRY_MIRRORS ("registry upstream-server mirror-url" lines), REGISTRY_MIRROR_CAS ("registry base64-PEM" lines), CERTS_DIR.
# shellcheck disable=SC2154
set -euo pipefail

mark="# k8s-platform: mirrors.registries"
while read -r registry server mirror; do
  [[ -n $registry ]] || continue
  dir="$ROOT$CERTS_DIR/$registry"
  ca=$(awk -v r="$registry" '$1 == r { print $2 }' <<<"$REGISTRY_MIRROR_CAS")
  ca_line=""
  if [[ -n $ca ]]; then
    write_file "$dir/mirror-ca.crt" 644 "$(base64 -d <<<"$ca")" || true
    ca_line="
  ca = \"$CERTS_DIR/$registry/mirror-ca.crt\""
  else
    rm -f "$dir/mirror-ca.crt"
  fi
  if write_file "$dir/hosts.toml" 644 "$mark
server = \"$server\"

[host.\"$mirror\"]
  capabilities = [\"pull\", \"resolve\"]$ca_line"; then
    log "containerd pulls $registry through $mirror"
  fi
done <<<"$REGISTRY_MIRRORS"
for hosts_toml in "$ROOT$CERTS_DIR"/*/hosts.toml; do
  [[ -f $hosts_toml ]] || continue
  registry=$(basename "$(dirname "$hosts_toml")")
  if [[ "$(head -n 1 "$hosts_toml")" == "$mark" ]] && ! grep -q "^$registry " <<<"$REGISTRY_MIRRORS"; then
    rm -f "$hosts_toml" "$(dirname "$hosts_toml")/mirror-ca.crt"
    log "containerd pulls $registry from upstream again"
  fi
done
