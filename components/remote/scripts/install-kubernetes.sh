#!/usr/bin/env bash
# Installs kubeadm, kubelet and kubectl at exactly the configured version from the official repository of that
# minor, and holds them from upgrades. A node that has joined keeps the version it runs: a new kubernetesVersion
# reaches it through the upgrade steps, in the kubeadm order, never by a package jump here (a kubelet newer than
# its API server breaks the version skew policy).
# Inputs (generated header): ROOT, KUBERNETES_REPOSITORY, KUBERNETES_PACKAGE_VERSION.
# shellcheck disable=SC2154
set -euo pipefail

require_ubuntu_or_debian

if [[ -f "$ROOT/etc/kubernetes/kubelet.conf" && -n "$(package_version kubelet)" ]]; then
  log "this node has joined (kubelet $(package_version kubelet)): its version changes only through the upgrade steps"
  exit 0
fi

keyring="$ROOT/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
if [[ ! -s $keyring ]]; then
  mkdir -p "$(dirname "$keyring")"
  curl -fsSL --retry 5 "${KUBERNETES_REPOSITORY}Release.key" | gpg --dearmor --yes -o "$keyring"
fi
if write_file "$ROOT/etc/apt/sources.list.d/kubernetes.list" 644 \
  "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] $KUBERNETES_REPOSITORY /"; then
  apt-get update -q
fi

wanted=()
for package in kubelet kubeadm kubectl; do
  if [[ "$(package_version "$package")" != "$KUBERNETES_PACKAGE_VERSION" ]]; then
    wanted+=("$package=$KUBERNETES_PACKAGE_VERSION")
  fi
done
if ((${#wanted[@]} > 0)); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages "${wanted[@]}"
fi
for package in kubelet kubeadm kubectl; do
  apt-mark showhold | grep -qx "$package" || apt-mark hold "$package" >/dev/null
done
systemctl is-enabled --quiet kubelet || systemctl enable kubelet
log "kubernetes packages $KUBERNETES_PACKAGE_VERSION ready"
