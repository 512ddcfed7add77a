#!/usr/bin/env bash
# Runs on a control plane of the cluster right before a node joins: a fresh one-hour token, the CA hash, and for a
# control plane a fresh certificate key with the cluster certificates uploaded under it (kubeadm deletes them after
# two hours). Prints one JSON line for the joining node (with the time its token expires); the program keeps it as a
# secret. No credential reaches the command line, and kubeadm's messages go through redact_kubeadm_output.
#
# It runs again whenever the machine behind NODE_NAME changes (NODE_IDENTITY: the instance ID on AWS, the pinned SSH
# host key on bare metal). When the cluster holds a Node of that name that a different machine joined (the join
# records its identity on the Node), that machine is being replaced or was re-imaged: it leaves first, in the order
# of a removal (take_node_out: drained, its etcd member removed with quorum checked, its Node deleted), so that the
# new machine joins under the name. A Node without a recorded identity, or with this one, is left alone, and so are
# a Ready Node at NODE_ADDRESS (the same host, still running) and any Node when the machine behind the name is not a
# fresh install (its preflight found a finished init or join: the same install, whatever its key).
#
# It records the credentials' expiry and REQUEST (why they were made again, from the program's read of these
# records: credentials-read.sh) under CREDENTIALS_RECORDS/NODE_NAME, so that a node whose join failed gets fresh ones
# on a later update, however long after.
# Inputs (generated header): ROOT, NODE_NAME, NODE_ADDRESS, NODE_IDENTITY, NODE_FRESH (yes: the machine's preflight found no finished init or join), ROLE, DRAIN_TIMEOUT, TOKEN_TTL_SECONDS, UPLOAD_CERTS_CONFIG (empty for workers), REQUEST, CREDENTIALS_RECORDS.
# shellcheck disable=SC2154
set -euo pipefail

umask 077
admin="$ROOT/etc/kubernetes/admin.conf"
if [[ ! -f $admin ]]; then
  # This host is being replaced itself, or has not joined yet: a node already in the cluster needs nothing from it,
  # and a node that does need credentials stops at its join saying why.
  log "no admin.conf on this host: it is not a control plane of the cluster (yet); no credentials for $NODE_NAME"
  printf '{"unavailable": "%s is not a control plane of the cluster yet"}\n' "$(hostname)"
  exit 0
fi
state="$ROOT/etc/kubernetes/k8s-platform"
mkdir -p "$state"
log="$state/credentials-$NODE_NAME.log"  # one per node: workers' credentials are made in parallel

if [[ -n $NODE_IDENTITY ]]; then
  # One read of the Node: "<recorded identity>|<Ready status>|<InternalIP>", nothing when there is no such Node.
  seen=$(kubectl --kubeconfig "$admin" get node "$NODE_NAME" --ignore-not-found -o 'jsonpath={.metadata.annotations.k8s-platform\.io/machine-identity}|{.status.conditions[?(@.type=="Ready")].status}|{.status.addresses[?(@.type=="InternalIP")].address}') ||
    fail "cannot read node $NODE_NAME from the cluster; no credentials made"
  IFS='|' read -r recorded ready address <<<"$seen" || true
  if [[ -n $recorded && $recorded != "$NODE_IDENTITY" ]]; then
    if [[ $ready == True && $address == "$NODE_ADDRESS" ]]; then
      # The same host, running (a bare-metal host whose SSH host key was changed): its join records the new one.
      log "node $NODE_NAME is Ready at $NODE_ADDRESS under another identity ($recorded): left alone"
    elif [[ $NODE_FRESH != yes ]]; then
      # The machine behind the name has been a member (its preflight says so): the same install, down for now.
      log "node $NODE_NAME has another identity ($recorded), but the machine behind the name joined a cluster before: left alone"
    else
      log "node $NODE_NAME in the cluster was joined by another machine ($recorded at ${address:-no address}); $NODE_IDENTITY replaces it"
      take_node_out "$admin" "$NODE_NAME" "$ROLE" "$DRAIN_TIMEOUT" "the new machine does not join yet"
    fi
  fi
fi

expires=$(($(date +%s) + TOKEN_TTL_SECONDS))
token=$(run_logged_output "$log" "kubeadm token create" kubeadm token create --kubeconfig "$admin" \
  --ttl "${TOKEN_TTL_SECONDS}s" --description "k8s-platform join of $NODE_NAME ($NODE_ADDRESS)")
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
  # And the key the cluster seals Secrets under (this API server's; a name, not a secret): a joining control plane
  # that holds that key alone seals from its own API server's first start (encryption_seal_from_start).
  key_field=", \"certificateKey\": \"$certificate_key\", \"sealsWith\": \"$(encryption_sealing_key)\""
fi
records="$ROOT$CREDENTIALS_RECORDS"
mkdir -p "$records"
printf '%s %s\n' "$expires" "$REQUEST" >"$records/$NODE_NAME.tmp" && mv -f "$records/$NODE_NAME.tmp" "$records/$NODE_NAME"
[[ -z $REQUEST ]] || log "$REQUEST"
printf '{"token": "%s", "caCertHash": "sha256:%s", "expires": %d%s}\n' "$token" "$ca_hash" "$expires" "$key_field"
