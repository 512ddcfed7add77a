# shellcheck shell=bash
# The keys that seal Secrets in etcd on this control plane and the EncryptionConfiguration made from them
# (api-server-files.sh, api-server-config.sh); rendered after encryption-config-lib.sh. ENCRYPTION_KEYS_FILE holds one "NAME SECRET" line per key, the key
# that writes first; every key ever given stays, so that Secrets sealed under an older key remain readable (a
# rotation rewrites them, docs/encryption.md, "Rotate the encryption key"). A key's name is a digest of it: the same key always
# has the same name, on every control plane. Root only (umask 077, mode 600).
# Inputs (generated header): ROOT, ENCRYPTION_KEY, ENCRYPTION_KEYS_FILE, ENCRYPTION_CONFIG_FILE.
# shellcheck disable=SC2154

# encryption_key_name: the name of ENCRYPTION_KEY (printf is a builtin: the key is on no command line).
encryption_key_name() {
  printf '%s' "$ENCRYPTION_KEY" | sha256sum | cut -c1-16 | sed 's/^/key-/'
}

# encryption_check_key: ENCRYPTION_KEY is 32 bytes in base64, as secretbox needs.
encryption_check_key() {
  local bytes
  bytes=$(printf '%s' "$ENCRYPTION_KEY" | base64 -d 2>/dev/null | wc -c) || bytes=0
  [[ $bytes -eq 32 ]] || fail "the encryption key is not 32 bytes in base64 ($bytes bytes)"
}

# encryption_keys_with_current PLACE: the keys file with ENCRYPTION_KEY in it, printed. PLACE "second" adds a key
# new to this host after the key that writes now (every control plane must read it before any writes with it) and
# leaves a key already there where it is; "first" makes ENCRYPTION_KEY the one that writes. Without a keys file,
# ENCRYPTION_KEY is the only key.
encryption_keys_with_current() {
  local place=$1 name keys="$ROOT$ENCRYPTION_KEYS_FILE" first="" rest="" line
  name=$(encryption_key_name)
  if [[ $place == second && -s $keys ]] && grep -q "^$name " "$keys"; then
    cat "$keys"
    return
  fi
  if [[ -s $keys ]]; then
    while read -r line; do
      [[ -n $line && ${line%% *} != "$name" ]] || continue
      if [[ -z $first ]]; then first=$line; else rest+=$line$'\n'; fi
    done <"$keys"
  fi
  if [[ $place == first || -z $first ]]; then
    printf '%s %s\n' "$name" "$ENCRYPTION_KEY"
    [[ -z $first ]] || printf '%s\n' "$first"
  else
    printf '%s\n%s %s\n' "$first" "$name" "$ENCRYPTION_KEY"
  fi
  printf '%s' "$rest"
}

# encryption_write PLACE: the keys file and the configuration with ENCRYPTION_KEY at PLACE (see above); PLACE
# "first" also ends identity's writing. Returns 0 when the configuration changed (the API server reads it when it
# starts: api-server-lib.sh restarts it). Called as a condition: every step checks its own result.
encryption_write() {
  local keys dir
  umask 077
  keys=$(encryption_keys_with_current "$1") || fail "cannot read ${ENCRYPTION_KEYS_FILE}"
  dir=$(dirname "$ROOT$ENCRYPTION_KEYS_FILE")
  { mkdir -p "$dir" && chmod 700 "$dir"; } || fail "cannot create the folder of $ENCRYPTION_KEYS_FILE"
  [[ $1 != first ]] || rm -f "$encryption_identity_marker" || fail "cannot remove ${encryption_identity_marker#"$ROOT"}"
  write_file "$ROOT$ENCRYPTION_KEYS_FILE" 600 "$keys" >/dev/null 2>&1 || true
  write_file "$ROOT$ENCRYPTION_CONFIG_FILE" 600 "$(encryption_config "$keys")"
}
