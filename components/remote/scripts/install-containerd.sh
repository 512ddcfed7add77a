#!/usr/bin/env bash
# Installs containerd 2 (containerd-lib.sh) on a node that has not joined yet. A node that has joined keeps the
# runtime it runs: a new containerd or config reaches it in the upgrade steps, on the drained node, never on every
# node at once here (and containerd 1.7 cannot read a version 3 config).
# Inputs (generated header): ROOT.
# shellcheck disable=SC2154
set -euo pipefail

require_ubuntu_or_debian
packages_exclusive

if [[ -f "$ROOT/etc/kubernetes/kubelet.conf" && -n "$(containerd_version)" ]]; then
  log "this node has joined (containerd $(containerd_version)): its runtime changes only through the upgrade steps"
else
  install_containerd
  log "containerd $(containerd_version) ready"
fi
