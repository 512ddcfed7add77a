#!/usr/bin/env bash
# On the first control plane, when the stack's encryption key is made (components/bootstrap/api_security_steps.py):
# at the stack's first update and at each rotation (`pulumi up --replace` of <cluster>-encryption-key), and once on a
# cluster whose control planes seal Secrets under a key the stack did not make (a stack from before this step: the
# key then lived in the state in clear, as a random.RandomBytes whose ID is its value). Its only output is the key,
# 32 bytes in base64, which Pulumi keeps as a secret: no resource's ID or clear input or output ever holds it.
# A host whose keys came from the stack has ENCRYPTION_STACK_MARKER (api-server-files.sh writes it): a new key is
# made from the kernel's random source. A host with keys and without the mark adopts the key it writes with, so
# the move changes no key on any host, and marks itself after printing it (a run cut short adopts again).
# Inputs (generated header): ROOT, ENCRYPTION_KEYS_FILE, ENCRYPTION_STACK_MARKER, KEY_BYTES.
# shellcheck disable=SC2154
set -euo pipefail
umask 077

keys="$ROOT$ENCRYPTION_KEYS_FILE"
marker="$ROOT$ENCRYPTION_STACK_MARKER"
if [[ -s $keys && ! -f $marker ]]; then
  key=$(awk 'NF == 2 { print $2; exit }' "$keys")
  bytes=$(printf '%s' "$key" | base64 -d 2>/dev/null | wc -c) || bytes=0
  [[ $bytes -eq $KEY_BYTES ]] ||
    fail "the key that writes in ${ENCRYPTION_KEYS_FILE} is not $KEY_BYTES bytes in base64: nothing adopted"
  printf '%s\n' "$key"
  touch "$marker"
  log "adopted the key this control plane seals Secrets with (no key on any host changes)"
  exit 0
fi
key=$(head -c "$KEY_BYTES" /dev/urandom | base64 -w0)
printf '%s\n' "$key"
log "made a new key of $KEY_BYTES bytes"
