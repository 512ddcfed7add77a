#!/usr/bin/env bash
# Lets containerd on this node pull from (and push to) the cluster's registry over TLS: the registry's CA and a
# hosts.toml in containerd's certs.d directory, which containerd reads on every pull (no restart). The CA also
# goes into the system trust store for tools on the node.
# Inputs (generated header): ROOT, REGISTRY_HOST, CA_CERT.
# shellcheck disable=SC2154
set -euo pipefail

dir="$ROOT/etc/containerd/certs.d/$REGISTRY_HOST"
write_file "$dir/ca.crt" 644 "$CA_CERT" || true
write_file "$dir/hosts.toml" 644 "server = \"https://$REGISTRY_HOST\"

[host.\"https://$REGISTRY_HOST\"]
  capabilities = [\"pull\", \"resolve\", \"push\"]
  ca = \"/etc/containerd/certs.d/$REGISTRY_HOST/ca.crt\"" || true
if write_file "$ROOT/usr/local/share/ca-certificates/k8s-platform-registry.crt" 644 "$CA_CERT"; then
  update-ca-certificates >/dev/null
fi
log "containerd trusts $REGISTRY_HOST"
