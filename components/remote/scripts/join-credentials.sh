#!/usr/bin/env bash
# Runs on the first control plane right before a node joins: a fresh one-hour token, the CA hash, and for a control
# plane a fresh certificate key with the cluster certificates uploaded under it (kubeadm deletes them after two
# hours). Prints one JSON line for the joining node; the program keeps it as a secret. No credential reaches the
# command line, and kubeadm's messages go through redact_kubeadm_output.
# Inputs (generated header): ROOT, NODE_NAME, NODE_ADDRESS, TOKEN_TTL, UPLOAD_CERTS_CONFIG (empty for workers).
# shellcheck disable=SC2154
set -euo pipefail

umask 077
admin="$ROOT/etc/kubernetes/admin.conf"
[[ -f $admin ]] || fail "no admin.conf: run kubeadm init on this host first"
state="$ROOT/etc/kubernetes/k8s-platform"
mkdir -p "$state"
log="$state/credentials-$NODE_NAME.log"  # one per node: workers' credentials are made in parallel

token=$(run_logged_output "$log" "kubeadm token create" kubeadm token create --kubeconfig "$admin" \
  --ttl "$TOKEN_TTL" --description "k8s-platform join of $NODE_NAME ($NODE_ADDRESS)")
ca_hash=$(openssl x509 -pubkey -noout -in "$ROOT/etc/kubernetes/pki/ca.crt" |
  openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | awk '{ print $1 }')
[[ -n $token && -n $ca_hash ]] || fail "could not create join credentials"

key_field=""
if [[ -n $UPLOAD_CERTS_CONFIG ]]; then
  certificate_key=$(run_logged_output "$log" "kubeadm certs certificate-key" kubeadm certs certificate-key)
  [[ $certificate_key =~ ^[0-9a-f]{64}$ ]] || fail "kubeadm certs certificate-key did not print a key"
  # The key goes to kubeadm in a file: on its command line every process on the host could read it.
  config=$(mktemp)
  trap 'rm -f "$config"' EXIT
  printf '%s\ncertificateKey: %s\n' "$UPLOAD_CERTS_CONFIG" "$certificate_key" >"$config"
  run_logged "$log" "kubeadm init phase upload-certs" \
    kubeadm init phase upload-certs --upload-certs --skip-certificate-key-print --config "$config"
  key_field=", \"certificateKey\": \"$certificate_key\""
fi
printf '{"token": "%s", "caCertHash": "sha256:%s"%s}\n' "$token" "$ca_hash" "$key_field"
