#!/usr/bin/env bash
# On the node, after its drain and before its kubelet: containerd at the pinned version with the target's config
# (containerd-lib.sh). A node on Ubuntu's containerd 1.7 moves to containerd 2 in the upgrade to
# 1.CONTAINERD_2_FROM_MINOR and keeps 1.7 before it; a node on containerd 2 follows the pin. Nothing to do when the
# node runs the pinned containerd with this config.
# Inputs (generated header): ROOT.
# shellcheck disable=SC2154
set -euo pipefail

current=$(containerd_version)
if containerd_stays "$current"; then
  log "containerd $current stays for $target; the upgrade to 1.$CONTAINERD_2_FROM_MINOR moves it to $CONTAINERD_VERSION"
  exit 0
fi
install_containerd
if [[ $current == "$CONTAINERD_VERSION" ]]; then
  log "containerd already at $CONTAINERD_VERSION"
else
  log "containerd moved from ${current:-none} to $CONTAINERD_VERSION"
fi
