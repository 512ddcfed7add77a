#!/usr/bin/env bash
# Installs containerd with the systemd cgroup driver, kubeadm's pause image and certs.d for registry mirrors and
# private CAs. Restarts containerd only when its config changed.
# Inputs (generated header): ROOT, CONTAINERD_PACKAGE, CONTAINERD_VERSION_PREFIX, CONTAINERD_CONFIG.
# shellcheck disable=SC2154
set -euo pipefail

require_ubuntu_or_debian

if [[ -z "$(package_version "$CONTAINERD_PACKAGE")" ]]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$CONTAINERD_PACKAGE"
fi
installed=$(package_version "$CONTAINERD_PACKAGE")
[[ $installed == "$CONTAINERD_VERSION_PREFIX"* ]] ||
  fail "containerd $installed is installed; this platform needs $CONTAINERD_VERSION_PREFIX*"
if ! apt-mark showhold | grep -qx "$CONTAINERD_PACKAGE"; then
  apt-mark hold "$CONTAINERD_PACKAGE" >/dev/null
fi

mkdir -p "$ROOT/etc/containerd/certs.d"
if write_file "$ROOT/etc/containerd/config.toml" 644 "$CONTAINERD_CONFIG"; then
  systemctl restart containerd
fi
if ! systemctl is-enabled --quiet containerd || ! systemctl is-active --quiet containerd; then
  systemctl enable --now containerd
fi
log "containerd $installed ready"
