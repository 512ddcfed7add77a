#!/usr/bin/env bash
# Runs on the first control plane right before a node joins: a fresh one-hour token, the CA hash, and for a
# control plane the cluster certificates uploaded again under the certificate key (they expire after two hours).
# Prints one JSON line for the joining node; the program keeps it as a secret.
# Inputs (generated header): ROOT, NODE_NAME, NODE_ADDRESS, TOKEN_TTL, UPLOAD_CERTS_CONFIG (empty for workers).
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
[[ -f $admin ]] || fail "no admin.conf: run kubeadm init on this host first"
token=$(kubeadm token create --kubeconfig "$admin" --ttl "$TOKEN_TTL" \
  --description "k8s-platform join of $NODE_NAME ($NODE_ADDRESS)")
ca_hash=$(openssl x509 -pubkey -noout -in "$ROOT/etc/kubernetes/pki/ca.crt" |
  openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | awk '{ print $1 }')
[[ -n $token && -n $ca_hash ]] || fail "could not create join credentials"

if [[ -n $UPLOAD_CERTS_CONFIG ]]; then
  umask 077
  config=$(mktemp)
  trap 'rm -f "$config"' EXIT
  printf '%s\n' "$UPLOAD_CERTS_CONFIG" >"$config"
  kubeadm init phase upload-certs --upload-certs --config "$config" >/dev/null
fi
printf '{"token": "%s", "caCertHash": "sha256:%s"}\n' "$token" "$ca_hash"
