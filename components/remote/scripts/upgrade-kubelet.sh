#!/usr/bin/env bash
# On the node, after its drain: kubelet and kubectl at the target, then a kubelet restart. Nothing to do when they
# already run the target and no restart is owed (a run cut short between the install and the restart restarts).
# Inputs (generated header): ROOT.
# shellcheck disable=SC2154
set -euo pipefail

pending="$ROOT/etc/kubernetes/k8s-platform/kubelet-restart-pending"
if [[ "$(package_version kubelet)" != "$KUBERNETES_PACKAGE_VERSION" ||
  "$(package_version kubectl)" != "$KUBERNETES_PACKAGE_VERSION" ]]; then
  use_target_repository
  mkdir -p "$(dirname "$pending")"
  touch "$pending"
  install_target kubelet kubectl
fi
if [[ -f $pending ]]; then
  systemctl daemon-reload
  systemctl restart kubelet
  rm -f "$pending"
  log "kubelet restarted at $target"
else
  log "kubelet and kubectl already at $target"
fi
