#!/usr/bin/env bash
# Installs kubeadm, kubelet and kubectl at exactly the configured version, and cri-tools (crictl, which our scripts
# use on the node) at its minor's version, from that minor's repository (kubernetes-packages-lib.sh), and holds
# them from upgrades. kubeadm's package no longer pulls cri-tools in (kubernetes#124685), so it is asked for by
# name. A node that has joined keeps the version it runs: a new kubernetesVersion reaches it through the upgrade
# steps, in the kubeadm order, never by a package jump here (a kubelet newer than its API server breaks the version
# skew policy).
# Inputs (generated header): ROOT, KUBERNETES_PACKAGE_VERSION, CRI_TOOLS_PACKAGE_VERSION.
# shellcheck disable=SC2154
set -euo pipefail

require_ubuntu_or_debian
packages_exclusive

if [[ -f "$ROOT/etc/kubernetes/kubelet.conf" && -n "$(package_version kubelet)" ]]; then
  log "this node has joined (kubelet $(package_version kubelet)): its version changes only through the upgrade steps"
  exit 0
fi

wanted=()
for package in kubelet kubeadm kubectl; do
  if [[ "$(package_version "$package")" != "$KUBERNETES_PACKAGE_VERSION" ]]; then
    wanted+=("$package=$KUBERNETES_PACKAGE_VERSION")
  fi
done
[[ "$(package_version cri-tools)" == "$CRI_TOOLS_PACKAGE_VERSION" ]] || wanted+=("cri-tools=$CRI_TOOLS_PACKAGE_VERSION")
if use_kubernetes_repository || ((${#wanted[@]} > 0)); then
  apt-get update -q || fail "apt-get update failed"
fi
if ((${#wanted[@]} > 0)); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages "${wanted[@]}" ||
    fail "could not install ${wanted[*]}"
fi
for package in kubelet kubeadm kubectl cri-tools; do
  apt-mark showhold | grep -qx "$package" || apt-mark hold "$package" >/dev/null
done
systemctl is-enabled --quiet kubelet || systemctl enable kubelet
log "kubernetes packages $KUBERNETES_PACKAGE_VERSION and cri-tools $CRI_TOOLS_PACKAGE_VERSION ready"
