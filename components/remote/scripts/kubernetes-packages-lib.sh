# shellcheck shell=bash
# The Kubernetes package repository of one minor (pkgs.k8s.io has one per minor, or a mirror laid out like it), shared
# by the install step and the upgrade steps. Its signing key: the mirror's, given in the settings, or upstream's own
# Release.key of that repository, fetched again whenever the repository changes: a new minor's repository may be
# signed by a key whose expiry upstream has extended since (release#3818), so a key kept from an older minor fails.
# Inputs (generated header): ROOT, KUBERNETES_REPOSITORY, KUBERNETES_SIGNING_KEY (armored; empty: the repository's Release.key).
# shellcheck disable=SC2154

kubernetes_keyring="/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
kubernetes_source="/etc/apt/sources.list.d/kubernetes.list"

# use_kubernetes_repository: the repository and its key in place; returns 0 when either changed (the package lists
# must be read again). Called as a condition: every step checks its own result.
use_kubernetes_repository() {
  local line="deb [signed-by=$kubernetes_keyring] $KUBERNETES_REPOSITORY /" armored
  if [[ -s "$ROOT$kubernetes_keyring" && -f "$ROOT$kubernetes_source" ]] &&
    [[ "$(cat "$ROOT$kubernetes_source")" == "$line" ]]; then
    return 1
  fi
  mkdir -p "$(dirname "$ROOT$kubernetes_keyring")" || fail "cannot create the folder of $kubernetes_keyring"
  if [[ -n $KUBERNETES_SIGNING_KEY ]]; then
    armored=$KUBERNETES_SIGNING_KEY
  elif ! armored=$(curl -fsSL --retry 5 "${KUBERNETES_REPOSITORY}Release.key"); then
    fail "cannot download the signing key of $KUBERNETES_REPOSITORY (${KUBERNETES_REPOSITORY}Release.key)"
  fi
  printf '%s\n' "$armored" | gpg --dearmor --yes -o "$ROOT$kubernetes_keyring" ||
    fail "the signing key of $KUBERNETES_REPOSITORY is not an OpenPGP key"
  chmod 644 "$ROOT$kubernetes_keyring"
  write_file "$ROOT$kubernetes_source" 644 "$line" >/dev/null || true
  log "package repository $KUBERNETES_REPOSITORY with its current signing key"
  return 0
}
