#!/usr/bin/env bash
# On the node, after its drain: kubelet and kubectl at the target, the node's kubelet configuration as the settings
# have it now (reservations, eviction, maxPods: KUBELET_PATCH), then a kubelet restart. A changed patch makes kubeadm
# regenerate /var/lib/kubelet/config.yaml from the cluster's kubelet configuration and the patch; this step runs
# node after node (workers a batch at a time), so a configuration the kubelet rejects stops at the first node, whose
# kubelet must answer its health check before the next goes. Nothing to do when the packages are at the target, the
# patch is unchanged and no restart is owed (a run cut short between a change and the restart restarts).
# It also installs, on every node, the daily timer that keeps the kubelet's serving certificate from expiring
# (SERVING_PROGRAM_BASE64: kubelet-serving-certificate.sh, rendered). cri-tools moves with the kubelet to the target
# minor's (CRI_TOOLS_PACKAGE_VERSION): our scripts use its crictl, and kubeadm's package no longer brings it.
# Inputs (generated header): ROOT, CRI_TOOLS_PACKAGE_VERSION, KUBELET_PATCH, PATCH_FILE, HEALTH_ATTEMPTS, SERVING_PROGRAM_BASE64, SERVING_PROGRAM_PATH, SERVING_UNIT, SERVING_CALENDAR, SERVING_SPREAD.
# shellcheck disable=SC2154
set -euo pipefail

install_timed_program "$SERVING_UNIT" "$SERVING_PROGRAM_PATH" "$SERVING_PROGRAM_BASE64" "$SERVING_CALENDAR" \
  "keep the kubelet's serving certificate from expiring" "$SERVING_SPREAD"

state="$ROOT/etc/kubernetes/k8s-platform"
pending="$state/kubelet-restart-pending"
config_pending="$state/kubelet-config-pending"
patches="$ROOT/etc/kubernetes/patches"
mkdir -p "$state"
if [[ "$(package_version kubelet)" != "$KUBERNETES_PACKAGE_VERSION" ||
  "$(package_version kubectl)" != "$KUBERNETES_PACKAGE_VERSION" ]]; then
  use_target_repository
  touch "$pending"
  install_target kubelet kubectl
fi
if [[ "$(package_version cri-tools)" != "$CRI_TOOLS_PACKAGE_VERSION" ]]; then
  use_target_repository
  apt-get update -q >&2 || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages \
    "cri-tools=$CRI_TOOLS_PACKAGE_VERSION" >&2 || fail "could not install cri-tools=$CRI_TOOLS_PACKAGE_VERSION"
  apt-mark hold cri-tools >/dev/null || fail "cannot hold cri-tools"
fi
if [[ ! -f "$patches/$PATCH_FILE" || "$(cat "$patches/$PATCH_FILE")" != "$KUBELET_PATCH" ]]; then
  touch "$config_pending"  # before the patch changes: a run cut short here regenerates on the next run
  write_file "$patches/$PATCH_FILE" 600 "$KUBELET_PATCH" || true
fi
if [[ -f $config_pending ]]; then
  kubeconfig="$ROOT/etc/kubernetes/admin.conf"
  [[ -f $kubeconfig ]] || kubeconfig="$ROOT/etc/kubernetes/kubelet.conf"
  run_logged "$state/kubelet-config.log" "kubeadm upgrade node phase kubelet-config" \
    kubeadm upgrade node phase kubelet-config --kubeconfig "$kubeconfig" --patches "$patches"
  touch "$pending"
  rm -f "$config_pending"
  log "kubelet configuration rewritten from the cluster's and this node's patch"
fi
if [[ -f $pending ]]; then
  systemctl daemon-reload
  systemctl restart kubelet
  for attempt in $(seq 1 "$HEALTH_ATTEMPTS"); do
    if curl --silent --fail --max-time 5 http://127.0.0.1:10248/healthz >/dev/null; then
      rm -f "$pending"
      log "kubelet restarted at $target and healthy"
      exit 0
    fi
    log "kubelet not healthy yet (attempt $attempt of $HEALTH_ATTEMPTS)"
    sleep 5
  done
  fail "the kubelet is not healthy after its restart: see journalctl -u kubelet; the next nodes wait"
fi
log "kubelet and kubectl already at $target, configuration unchanged"
