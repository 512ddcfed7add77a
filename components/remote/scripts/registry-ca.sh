#!/usr/bin/env bash
# Keeps the cluster's own certificate authority and a serving certificate per web host (Harbor, Grafana) on the
# first control plane, under a root-only directory. The CA is created once and never replaced; a host certificate
# is issued when missing, signed by another CA, or within RENEW_WITHIN_DAYS days of expiry. Prints them as JSON
# (base64 PEM), the way Kubernetes Secrets hold them; the program keeps that output secret. REQUEST is what the
# control planes' certificate read found ("nothing due", or the hosts due): a new one runs this step again.
# Inputs (generated header): ROOT, CA_DIR, CA_NAME, HOSTS (space-separated DNS names), CERT_DAYS, RENEW_WITHIN_DAYS, REQUEST.
# shellcheck disable=SC2154
set -euo pipefail

log "the certificate read before this update: $REQUEST"
dir="$ROOT$CA_DIR"
umask 077
mkdir -p "$dir"
if [[ ! -s $dir/ca.key || ! -s $dir/ca.crt ]]; then
  openssl req -x509 -new -nodes -newkey rsa:4096 -sha256 -days 3650 -subj "/CN=$CA_NAME" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  log "created the certificate authority $CA_NAME"
fi

b64() { base64 -w0 <"$1"; }
entries=()
for host in $HOSTS; do
  crt="$dir/$host.crt" key="$dir/$host.key"
  if [[ ! -s $crt || ! -s $key ]] || ! openssl verify -CAfile "$dir/ca.crt" "$crt" >/dev/null 2>&1 ||
    ! openssl x509 -in "$crt" -noout -checkend $((RENEW_WITHIN_DAYS * 86400)) >/dev/null; then
    openssl req -new -nodes -newkey rsa:2048 -sha256 -subj "/CN=$host" -keyout "$key" -out "$dir/$host.csr" 2>/dev/null
    openssl x509 -req -sha256 -in "$dir/$host.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
      -days "$CERT_DAYS" -out "$crt" \
      -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$host") 2>/dev/null
    rm -f "$dir/$host.csr"
    log "issued a certificate for $host"
  fi
  entries+=("\"$host\": {\"cert\": \"$(b64 "$crt")\", \"key\": \"$(b64 "$key")\"}")
done
joined=$(IFS=,; printf '%s' "${entries[*]}")
printf '{"ca": "%s", "hosts": {%s}}\n' "$(b64 "$dir/ca.crt")" "$joined"
