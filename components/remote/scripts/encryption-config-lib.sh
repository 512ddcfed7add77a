# shellcheck shell=bash
# The EncryptionConfiguration made from the keys file, and whether identity still writes (encryption-lib.sh builds
# on these; kubeadm-init.sh uses them without any key). Root only (umask 077, mode 600).
# Inputs (generated header): ROOT, ENCRYPTION_KEYS_FILE, ENCRYPTION_CONFIG_FILE.
# shellcheck disable=SC2154

# encryption_identity_writes: whether identity (no encryption) writes on this host: a control plane whose API server
# ran without encryption until now reads sealed Secrets first and writes sealed ones only in the writing pass
# (api-server-encryption.sh), so that no API server meets a Secret it cannot open while the others are behind.
encryption_identity_marker="$(dirname "$ROOT$ENCRYPTION_KEYS_FILE")/identity-writes"
encryption_identity_writes() {
  [[ -f $encryption_identity_marker ]]
}

# encryption_keep_identity_writing: identity writes on this host until its writing pass (encryption_write first).
encryption_keep_identity_writing() {
  mkdir -p "$(dirname "$encryption_identity_marker")" && touch "$encryption_identity_marker" ||
    fail "cannot write ${encryption_identity_marker#"$ROOT"}"
}

# encryption_config KEYS: the EncryptionConfiguration for KEYS ("NAME SECRET" lines, the writing key first):
# secretbox, then identity for what was stored before encryption was on (api_security.encryption_config); identity
# first while it still writes (encryption_identity_writes).
encryption_config() {
  local name secret identity_first=false
  ! encryption_identity_writes || identity_first=true
  printf '%s\n' "apiVersion: apiserver.config.k8s.io/v1" "kind: EncryptionConfiguration" "resources:" \
    "- resources:" "  - secrets" "  providers:"
  [[ $identity_first == false ]] || printf '%s\n' "  - identity: {}"
  printf '%s\n' "  - secretbox:" "      keys:"
  while read -r name secret; do
    [[ -n $name ]] || continue
    printf '      - name: %s\n        secret: %s\n' "$name" "$secret"
  done <<<"$1"
  [[ $identity_first == true ]] || printf '%s\n' "  - identity: {}"
}

# encryption_seal_from_start: on the first control plane of a new cluster, just before its `kubeadm init`: the key
# api-server-files.sh wrote seals from the first Secret on (identity stops writing before the API server first
# starts). The two passes (api-server-config.sh, api-server-encryption.sh) exist so that every API server of a
# cluster reads a key before any writes with it; a new cluster has no other API server, so they find nothing to
# change here and restart nothing. Needs no key: it reorders what the keys file holds. Returns 0 when it changed the
# configuration (called as a condition).
encryption_seal_from_start() {
  local keys="$ROOT$ENCRYPTION_KEYS_FILE"
  encryption_identity_writes && [[ -s $keys ]] || return 1
  rm -f "$encryption_identity_marker" || fail "cannot remove ${encryption_identity_marker#"$ROOT"}"
  write_file "$ROOT$ENCRYPTION_CONFIG_FILE" 600 "$(encryption_config "$(cat "$keys")")" >/dev/null || true
  log "a new cluster: Secrets are sealed under key $(awk 'NR == 1 { print $1 }' "$keys") from the first one on"
}
