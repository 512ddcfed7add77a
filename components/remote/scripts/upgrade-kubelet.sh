#!/usr/bin/env bash
# On the node, after its drain: kubelet and kubectl at the target, then a kubelet restart. Nothing to do when they
# already run the target.
# Inputs (generated header): ROOT.
# shellcheck disable=SC2154
set -euo pipefail

use_target_repository
if install_target kubelet kubectl; then
  systemctl daemon-reload
  systemctl restart kubelet
  log "kubelet restarted at $target"
else
  log "kubelet and kubectl already at $target"
fi
