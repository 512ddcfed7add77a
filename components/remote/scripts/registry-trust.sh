#!/usr/bin/env bash
# Lets containerd on this node pull from (and push to) the cluster's registry over TLS: the registry's CA and a
# hosts.toml in containerd's certs.d directory, which containerd reads on every pull (no restart). The CA also
# goes into the system trust store for tools on the node. For each upstream in MIRRORS ("upstream server" lines),
# containerd pulls through Harbor's proxy-cache project of that name, and from the upstream itself when Harbor
# does not answer. An empty CA_CERT means the registry's certificate is publicly trusted (addons.tls without a ca):
# the system store suffices, and a CA file this script wrote earlier goes away.
# Inputs (generated header): ROOT, REGISTRY_HOST, CA_CERT, MIRRORS.
# shellcheck disable=SC2154
set -euo pipefail

dir="$ROOT/etc/containerd/certs.d/$REGISTRY_HOST"
system_ca="$ROOT/usr/local/share/ca-certificates/k8s-platform-registry.crt"
ca_line=""
if [[ -n $CA_CERT ]]; then
  write_file "$dir/ca.crt" 644 "$CA_CERT" || true
  ca_line="
  ca = \"/etc/containerd/certs.d/$REGISTRY_HOST/ca.crt\""
fi
write_file "$dir/hosts.toml" 644 "server = \"https://$REGISTRY_HOST\"

[host.\"https://$REGISTRY_HOST\"]
  capabilities = [\"pull\", \"resolve\", \"push\"]$ca_line" || true
while read -r upstream server; do
  [[ -n $upstream ]] || continue
  write_file "$ROOT/etc/containerd/certs.d/$upstream/hosts.toml" 644 "server = \"$server\"

[host.\"https://$REGISTRY_HOST/v2/$upstream\"]
  capabilities = [\"pull\", \"resolve\"]$ca_line
  override_path = true" || true
done <<<"$MIRRORS"
# A mirror this script wrote for an upstream no longer listed goes away.
for hosts_toml in "$ROOT"/etc/containerd/certs.d/*/hosts.toml; do
  [[ -f $hosts_toml ]] || continue
  upstream=$(basename "$(dirname "$hosts_toml")")
  if grep -q "https://$REGISTRY_HOST/v2/$upstream" "$hosts_toml" && ! grep -q "^$upstream " <<<"$MIRRORS"; then
    rm -f "$hosts_toml"
    log "removed the mirror of $upstream"
  fi
done
if [[ -n $CA_CERT ]]; then
  if write_file "$system_ca" 644 "$CA_CERT"; then
    update-ca-certificates >/dev/null
  fi
elif [[ -f $system_ca || -f $dir/ca.crt ]]; then
  rm -f "$system_ca" "$dir/ca.crt"
  update-ca-certificates --fresh >/dev/null
  log "removed the cluster CA: the registry's certificate is publicly trusted"
fi
log "containerd trusts $REGISTRY_HOST"
