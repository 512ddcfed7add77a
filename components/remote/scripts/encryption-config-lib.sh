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

# encryption_sealing_key: the name of the key this host's API server seals Secrets under, or "identity" when it
# writes them in clear (no keys yet, or identity still writes). join-credentials.sh tells a joining control plane.
encryption_sealing_key() {
  local keys="$ROOT$ENCRYPTION_KEYS_FILE"
  if encryption_identity_writes || [[ ! -s $keys ]]; then
    echo identity
  else
    awk 'NR == 1 { print $1 }' "$keys"
  fi
}

# encryption_seal_from_start new-cluster|KEY: just before this control plane's API server first starts (its
# `kubeadm init` on a new cluster, or its join to a cluster that seals under KEY), the key api-server-files.sh wrote
# seals from the first Secret on: identity stops writing. The two passes (api-server-config.sh,
# api-server-encryption.sh) exist so that every API server of a cluster reads a key before any writes with it. A new
# cluster has no other API server; in a cluster that seals under KEY every API server reads it. Either way those
# passes then find nothing to change and restart nothing. With KEY, only a host whose keys file holds that key alone
# seals (anything else, a rotation under way, keeps the two passes). Needs no key's secret: it reorders what the
# keys file holds. Returns 0 when it changed the configuration (called as a condition).
encryption_seal_from_start() {
  local keys="$ROOT$ENCRYPTION_KEYS_FILE" sealing=$1
  encryption_identity_writes && [[ -s $keys ]] || return 1
  if [[ $sealing != new-cluster ]]; then
    [[ $sealing != identity && "$(awk 'NF { print $1 }' "$keys")" == "$sealing" ]] || return 1
  fi
  rm -f "$encryption_identity_marker" || fail "cannot remove ${encryption_identity_marker#"$ROOT"}"
  write_file "$ROOT$ENCRYPTION_CONFIG_FILE" 600 "$(encryption_config "$(cat "$keys")")" >/dev/null || true
  log "Secrets are sealed under key $(awk 'NR == 1 { print $1 }' "$keys") from this API server's first start"
}
