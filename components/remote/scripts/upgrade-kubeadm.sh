#!/usr/bin/env bash
# The first step of a node's upgrade, on the node: kubeadm at the target, then the first control plane upgrades the
# cluster (`kubeadm upgrade plan`, `kubeadm upgrade apply`), another control plane its own components and a worker
# its kubelet configuration (`kubeadm upgrade node`), each with the node's kubelet patches (without them kubeadm
# rewrites the kubelet configuration without this node's reservations). The kubelet stays as it is: it moves after
# the drain. Nothing to do when this node is done: on a control plane every component at the target, and on the first
# the cluster's configuration and kube-proxy too (kubeadm's last phase: an `upgrade apply` cut short after it wrote the
# cluster's version is run again); on a worker its kubelet at the target. kubeadm's upgrade runs its own preflight:
# the checks the stack lets pass at init and join (hostSystem) pass here too, or a cgroup v1 host stops every upgrade.
# Inputs (generated header): ROOT, ROLE (first-control-plane | control-plane | worker), IGNORE_PREFLIGHT_ERRORS (comma-separated check names; empty for none).
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
mkdir -p "$state"
patches="$ROOT/etc/kubernetes/patches"
ignored=()
[[ -z $IGNORE_PREFLIGHT_ERRORS ]] || ignored=(--ignore-preflight-errors "$IGNORE_PREFLIGHT_ERRORS")
# A control plane's certificate renewal restarts the same static pods the upgrade rewrites: never both at once.
[[ $ROLE == worker ]] || static_pods_exclusive
case $ROLE in
  first-control-plane)
    if control_plane_at_target && [[ "$(cluster_version)" == "$target" && "$(kube_proxy_version)" == "$target" ]]; then
      log "the cluster and this control plane already run $target"
      exit 0
    fi
    use_target_repository
    install_target kubeadm
    run_logged "$state/upgrade-plan.log" "kubeadm upgrade plan" kubeadm upgrade plan "$target" "${ignored[@]}"
    run_logged "$state/upgrade-apply.log" "kubeadm upgrade apply" \
      kubeadm upgrade apply "$target" --yes --patches "$patches" "${ignored[@]}"
    ;;
  control-plane)
    if control_plane_at_target; then
      log "this control plane already runs $target"
      exit 0
    fi
    use_target_repository
    install_target kubeadm
    run_logged "$state/upgrade-node.log" "kubeadm upgrade node" kubeadm upgrade node --patches "$patches" "${ignored[@]}"
    control_plane_at_target || fail "after kubeadm upgrade node this control plane does not run $target"
    ;;
  worker)
    if [[ "$(package_version kubelet)" == "$KUBERNETES_PACKAGE_VERSION" ]]; then
      log "this worker already runs $target"
      exit 0
    fi
    use_target_repository
    install_target kubeadm
    run_logged "$state/upgrade-node.log" "kubeadm upgrade node" kubeadm upgrade node --patches "$patches" "${ignored[@]}"
    ;;
  *) fail "unknown role $ROLE" ;;
esac
log "kubeadm upgraded to $target ($ROLE)"
