#!/usr/bin/env bash
# containerd 2 from Docker's signed apt repository (containerd.io, runc bundled), at exactly the pinned version,
# held from upgrades, with our config; shared by the install phase and the upgrade step that moves a node off
# Ubuntu's containerd 1.7. The repository key is checked against the pinned fingerprint before apt trusts it.
# Inputs (generated header): ROOT, CONTAINERD_PACKAGE, CONTAINERD_VERSION, CONTAINERD_APT_REPOSITORY, CONTAINERD_APT_KEY_FINGERPRINT, LEGACY_CONTAINERD_PACKAGE, CONTAINERD_CONFIG.
# shellcheck disable=SC2154
set -euo pipefail

containerd_keyring="/etc/apt/keyrings/containerd-apt-keyring.asc"

# containerd_version: the upstream version of the containerd this node runs (containerd.io's, else Ubuntu's), or
# empty: "2.3.7" of "2.3.7-1~ubuntu.24.04~noble", "1.7.28" of "1.7.28-0ubuntu1~24.04.1".
containerd_version() {
  local version
  version=$(package_version "$CONTAINERD_PACKAGE")
  [[ -n $version ]] || version=$(package_version "$LEGACY_CONTAINERD_PACKAGE")
  printf '%s\n' "${version%%-*}"
}

# use_containerd_repository: Docker's key (refused unless it has the pinned fingerprint) and the repository of
# this Ubuntu release.
use_containerd_repository() {
  local codename fingerprint download
  if [[ ! -s "$ROOT$containerd_keyring" ]]; then
    mkdir -p "$(dirname "$ROOT$containerd_keyring")"
    download=$(mktemp "$ROOT$containerd_keyring.XXXXXX")
    curl -fsSL --retry 5 "$CONTAINERD_APT_REPOSITORY/gpg" -o "$download" || fail "cannot download the key of $CONTAINERD_APT_REPOSITORY"
    fingerprint=$(gpg --show-keys --with-colons "$download" | awk -F: '$1 == "fpr" { print $10; exit }')
    if [[ $fingerprint != "$CONTAINERD_APT_KEY_FINGERPRINT" ]]; then
      rm -f "$download"
      fail "the key of $CONTAINERD_APT_REPOSITORY has fingerprint '${fingerprint:-none}', not $CONTAINERD_APT_KEY_FINGERPRINT"
    fi
    chmod 644 "$download"
    mv -f "$download" "$ROOT$containerd_keyring"
  fi
  codename=$(awk -F= '$1 == "VERSION_CODENAME" { gsub(/"/, "", $2); print $2 }' "$ROOT/etc/os-release")
  [[ -n $codename ]] || fail "/etc/os-release names no VERSION_CODENAME"
  write_file "$ROOT/etc/apt/sources.list.d/containerd.list" 644 \
    "deb [signed-by=$containerd_keyring] $CONTAINERD_APT_REPOSITORY $codename stable" || true
}

# containerd_config_accepted FILE: containerd itself parses FILE (its version, its TOML) before it replaces ours.
containerd_config_accepted() {
  containerd --config "$1" config dump >/dev/null
}

# install_containerd: containerd.io at CONTAINERD_VERSION (replacing Ubuntu's containerd and runc, which it
# conflicts with), held, our config, running; restarted only when the config or the package changed.
install_containerd() {
  local candidate changed=0
  if [[ "$(package_version "$CONTAINERD_PACKAGE")" != "$CONTAINERD_VERSION"-* ]]; then
    use_containerd_repository
    apt-get update -q >&2 || fail "apt-get update failed"
    candidate=$(apt-cache madison "$CONTAINERD_PACKAGE" |
      awk -F'|' -v v="$CONTAINERD_VERSION" '{ gsub(/ /, "", $2) } index($2, v "-") == 1 { print $2; exit }')
    [[ -n $candidate ]] || fail "$CONTAINERD_PACKAGE $CONTAINERD_VERSION is not in $CONTAINERD_APT_REPOSITORY"
    # Our config.toml stays ours (--force-confold): the package's own disables the CRI plugin.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages \
      -o Dpkg::Options::=--force-confold "$CONTAINERD_PACKAGE=$candidate" >&2 ||
      fail "could not install $CONTAINERD_PACKAGE=$candidate"
    if apt-mark showhold | grep -qx "$LEGACY_CONTAINERD_PACKAGE"; then
      apt-mark unhold "$LEGACY_CONTAINERD_PACKAGE" >/dev/null
    fi
    changed=1
  fi
  [[ "$(containerd_version)" == "$CONTAINERD_VERSION" ]] ||
    fail "containerd is at '$(containerd_version)', not $CONTAINERD_VERSION"
  apt-mark showhold | grep -qx "$CONTAINERD_PACKAGE" || apt-mark hold "$CONTAINERD_PACKAGE" >/dev/null ||
    fail "cannot hold $CONTAINERD_PACKAGE"
  mkdir -p "$ROOT/etc/containerd/certs.d"
  if write_file "$ROOT/etc/containerd/config.toml" 644 "$CONTAINERD_CONFIG" containerd_config_accepted; then
    changed=1
  fi
  if ((changed)); then
    systemctl restart containerd
  fi
  if ! systemctl is-enabled --quiet containerd || ! systemctl is-active --quiet containerd; then
    systemctl enable --now containerd
  fi
}
