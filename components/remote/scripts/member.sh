#!/usr/bin/env bash
# Runs on the first control plane: ACTION=add when a node enters the settings marks it kept, ACTION=remove when it
# leaves unmarks it. The removal steps (leave-cluster.sh) act only on a node without its mark: a step of a kept node
# that is replaced, or `--replace`d, removes nothing. One file per node, so adding a node changes no other step.
# Pulumi deletes this step before the node's leave step (which it depends on), and replaces it delete-first.
# Inputs (generated header): ROOT, NODE_NAME, ACTION (add | remove).
# shellcheck disable=SC2154
set -euo pipefail

marks="$ROOT/etc/kubernetes/k8s-platform/members.d"
case $ACTION in
  add)
    mkdir -p "$marks"
    touch "$marks/$NODE_NAME"
    log "$NODE_NAME is in the settings"
    ;;
  remove)
    rm -f "$marks/$NODE_NAME"
    log "$NODE_NAME has left the settings"
    ;;
  *) fail "unknown action $ACTION" ;;
esac
