#!/usr/bin/env bash
# containerd 2 from Docker's signed apt repository (containerd.io, runc bundled), at exactly the pinned version,
# held from upgrades, with our config; shared by the install phase and the upgrade step that moves a node off
# Ubuntu's containerd 1.7. The repository key is checked against the pinned fingerprint before apt trusts it.
# CONTAINERD_APT_REPOSITORY is laid out like https://download.docker.com/linux/, a folder per distribution below it.
# Upstream's key is downloaded and must have the pinned fingerprint; a mirror's is the one the settings give
# (CONTAINERD_APT_KEY), which must hold exactly one key.
# Inputs (generated header): ROOT, CONTAINERD_PACKAGE, CONTAINERD_VERSION, CONTAINERD_APT_REPOSITORY, CONTAINERD_APT_KEY (a mirror's armored key or empty), CONTAINERD_APT_KEY_FINGERPRINT (upstream's or empty), LEGACY_CONTAINERD_PACKAGE, CONTAINERD_CONFIG.
# shellcheck disable=SC2154
set -euo pipefail

containerd_keyring="/etc/apt/keyrings/containerd-apt-keyring.asc"
containerd_source="/etc/apt/sources.list.d/containerd.list"
# Wait for the CRI to answer after a restart: at most this many tries, 2 s apart.
readonly CRI_ATTEMPTS=30

# containerd_version: the upstream version of the containerd this node runs (containerd.io's, else Ubuntu's), or
# empty: "2.3.7" of "2.3.7-1~ubuntu.24.04~noble", "1.7.28" of "1.7.28-0ubuntu1~24.04.1".
containerd_version() {
  local version
  version=$(package_version "$CONTAINERD_PACKAGE")
  [[ -n $version ]] || version=$(package_version "$LEGACY_CONTAINERD_PACKAGE")
  printf '%s\n' "${version%%-*}"
}

# containerd_repository_url: the repository of this host's distribution (ubuntu or debian) under the base URL.
containerd_repository_url() {
  local os_id
  os_id=$(awk -F= '$1 == "ID" { gsub(/"/, "", $2); print $2 }' "$ROOT/etc/os-release")
  [[ $os_id == ubuntu || $os_id == debian ]] || fail "no containerd.io repository for '$os_id'"
  printf '%s%s\n' "$CONTAINERD_APT_REPOSITORY" "$os_id"
}

# use_containerd_repository: the repository's key (one key: the pinned upstream one, or the mirror's) and the
# repository of this host's release. Another source of the same repository (a Docker install's, with its own
# signed-by) would make apt refuse both: it is named, not silently edited.
use_containerd_repository() {
  local codename keys fingerprint download other repository
  repository=$(containerd_repository_url)
  other=$(grep -ls "${repository#*://}" "$ROOT/etc/apt/sources.list" \
    "$ROOT"/etc/apt/sources.list.d/* 2>/dev/null | grep -vx "$ROOT$containerd_source" || true)
  [[ -z $other ]] || fail "$repository is also listed in ${other//"$ROOT"/}: remove that entry (apt refuses one repository with two keys)"
  mkdir -p "$(dirname "$ROOT$containerd_keyring")"
  download=$(mktemp "$ROOT$containerd_keyring.XXXXXX")
  if [[ -n $CONTAINERD_APT_KEY ]]; then
    printf '%s\n' "$CONTAINERD_APT_KEY" >"$download"
  elif ! curl -fsSL --retry 5 "$repository/gpg" -o "$download"; then
    rm -f "$download"
    fail "cannot download the key of $repository"
  fi
  keys=$(gpg --show-keys --with-colons "$download" 2>/dev/null || true)
  fingerprint=$(awk -F: '$1 == "fpr" { print $10; exit }' <<<"$keys")
  if [[ $(grep -c '^pub:' <<<"$keys") != 1 ]] ||
    [[ -n $CONTAINERD_APT_KEY_FINGERPRINT && $fingerprint != "$CONTAINERD_APT_KEY_FINGERPRINT" ]]; then
    rm -f "$download"
    fail "the key file of $repository holds $(grep -c '^pub:' <<<"$keys") key(s), the first with fingerprint '${fingerprint:-none}': expected exactly ${CONTAINERD_APT_KEY_FINGERPRINT:-one key}"
  fi
  chmod 644 "$download"
  if [[ -s "$ROOT$containerd_keyring" ]] && cmp -s "$download" "$ROOT$containerd_keyring"; then
    rm -f "$download"
  else
    mv -f "$download" "$ROOT$containerd_keyring"
  fi
  codename=$(awk -F= '$1 == "VERSION_CODENAME" { gsub(/"/, "", $2); print $2 }' "$ROOT/etc/os-release")
  [[ -n $codename ]] || fail "/etc/os-release names no VERSION_CODENAME"
  write_file "$ROOT$containerd_source" 644 \
    "deb [arch=$(dpkg --print-architecture) signed-by=$containerd_keyring] $repository $codename stable" ||
    true
}

# containerd_config_accepted FILE: containerd itself reads FILE (the daemon's loader, each plugin's own types) and
# neither fails nor ignores a key of it. It only reads the file: safe while the daemon runs.
containerd_config_accepted() {
  local messages
  if ! messages=$(containerd --config "$1" config dump 2>&1 >/dev/null); then
    printf '%s\n' "$messages" >&2
    return 1
  fi
  if grep -q "Ignoring unknown key" <<<"$messages"; then
    grep "Ignoring unknown key" <<<"$messages" >&2
    return 1
  fi
}

# wait_for_cri: the CRI answers again after a restart (the node's static pods and containers run on through it).
wait_for_cri() {
  local attempt
  command -v crictl >/dev/null || return 0 # a new node: crictl comes with kubeadm, after this
  for ((attempt = 1; attempt <= CRI_ATTEMPTS; attempt++)); do
    if crictl --runtime-endpoint unix:///run/containerd/containerd.sock info >/dev/null 2>&1; then
      return 0
    fi
    sleep 2
  done
  fail "containerd's CRI does not answer after $CRI_ATTEMPTS attempts"
}

# install_containerd: containerd.io at CONTAINERD_VERSION, held, our config, running; restarted when the config or
# the package changed (the package's own scripts restart it too). Ubuntu's containerd and runc, which containerd.io
# replaces, are removed in the same transaction: apt removes a held package only when asked to by name.
install_containerd() {
  local candidate package changed=0 remove=()
  packages_exclusive
  if [[ "$(package_version "$CONTAINERD_PACKAGE")" != "$CONTAINERD_VERSION"-* ]]; then
    use_containerd_repository
    apt-get update -q >&2 || fail "apt-get update failed"
    candidate=$(apt-cache madison "$CONTAINERD_PACKAGE" |
      awk -F'|' -v v="$CONTAINERD_VERSION" '{ gsub(/ /, "", $2) } index($2, v "-") == 1 { print $2; exit }')
    [[ -n $candidate ]] || fail "$CONTAINERD_PACKAGE $CONTAINERD_VERSION is not in $(containerd_repository_url)"
    for package in "$LEGACY_CONTAINERD_PACKAGE" runc; do
      [[ -z "$(package_version "$package")" ]] || remove+=("$package-")
    done
    # A swap cut short leaves dpkg half-configured; finish it first (only then: it takes dpkg's lock at once).
    if [[ -n "$(dpkg --audit 2>/dev/null)" ]]; then
      dpkg --configure -a >&2 || fail "dpkg --configure -a failed"
    fi
    # Our config.toml stays ours (--force-confold): the package's own disables the CRI plugin.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages \
      -o Dpkg::Options::=--force-confold "$CONTAINERD_PACKAGE=$candidate" "${remove[@]}" >&2 ||
      fail "could not install $CONTAINERD_PACKAGE=$candidate${remove[*]:+ in place of ${remove[*]%-}}"
    changed=1
  fi
  [[ "$(containerd_version)" == "$CONTAINERD_VERSION" ]] ||
    fail "containerd is at '$(containerd_version)', not $CONTAINERD_VERSION"
  apt-mark showhold | grep -qx "$CONTAINERD_PACKAGE" || apt-mark hold "$CONTAINERD_PACKAGE" >/dev/null ||
    fail "cannot hold $CONTAINERD_PACKAGE"
  mkdir -p "$ROOT/etc/containerd/certs.d"
  # crictl (our scripts' way to find and restart static pods) asks containerd, not every runtime it knows of.
  write_file "$ROOT/etc/crictl.yaml" 644 "runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock" || true
  if write_file "$ROOT/etc/containerd/config.toml" 644 "$CONTAINERD_CONFIG" containerd_config_accepted; then
    changed=1
  fi
  if ((changed)); then
    systemctl restart containerd
  fi
  if ! systemctl is-enabled --quiet containerd || ! systemctl is-active --quiet containerd; then
    systemctl enable --now containerd
  fi
  wait_for_cri
}
