#!/usr/bin/env bash
# Helpers of the upgrade steps, placed before each of them: the target's package repository and packages, and the
# versions a node and the cluster run now, which every step compares before it changes anything.
# Inputs (generated header): ROOT, TARGET_VERSION, KUBERNETES_PACKAGE_VERSION, CONTAINERD_VERSION, CONTAINERD_2_FROM_MINOR.
# shellcheck disable=SC2154
set -euo pipefail

admin_conf="$ROOT/etc/kubernetes/admin.conf"
# shellcheck disable=SC2034  # read by the step this file is placed before
target="v$TARGET_VERSION"

# use_target_repository: the package repository of the target's minor (kubernetes-packages-lib.sh), its key
# fetched again when the minor changes.
use_target_repository() {
  packages_exclusive
  use_kubernetes_repository || true
}

# install_target PACKAGE...: each PACKAGE at the target's package version, held from upgrades again. The package
# lists are refreshed first whenever something is to be installed (a patch release of the same minor changes no
# source). Every failure fails the step: callers test the result, and bash ignores `set -e` inside such a call.
install_target() {
  local package wanted=()
  for package in "$@"; do
    [[ "$(package_version "$package")" == "$KUBERNETES_PACKAGE_VERSION" ]] ||
      wanted+=("$package=$KUBERNETES_PACKAGE_VERSION")
  done
  if ((${#wanted[@]})); then
    apt-get update -q >&2 || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-change-held-packages "${wanted[@]}" >&2 ||
      fail "could not install ${wanted[*]}"
  fi
  for package in "$@"; do
    [[ "$(package_version "$package")" == "$KUBERNETES_PACKAGE_VERSION" ]] ||
      fail "$package is at '$(package_version "$package")', not $KUBERNETES_PACKAGE_VERSION"
    apt-mark showhold | grep -qx "$package" || apt-mark hold "$package" >/dev/null || fail "cannot hold $package"
  done
}

# control_plane_at_target: the API server, controller manager and scheduler of this host all run the target (an
# upgrade interrupted between two of them is not done).
control_plane_at_target() {
  local component image
  for component in kube-apiserver kube-controller-manager kube-scheduler; do
    image=$(awk -v c="$component" '$1 == "image:" && $2 ~ c ":" { print $2; exit }' \
      "$ROOT/etc/kubernetes/manifests/$component.yaml" 2>/dev/null || true)
    [[ ${image##*:} == "$target" ]] || return 1
  done
}

# cluster_version: the version kubeadm's ClusterConfiguration records (written by `kubeadm upgrade apply`'s
# upload-config phase, before its kubelet-config, bootstrap-token and addon phases);
# read from the cluster, not from whichever API server the load balancer picks.
cluster_version() {
  kubectl --kubeconfig "$admin_conf" -n kube-system get configmap kubeadm-config \
    -o 'jsonpath={.data.ClusterConfiguration}' | sed -n 's/^kubernetesVersion: *"\{0,1\}\(v[0-9.]*\)"\{0,1\}$/\1/p'
}

# kube_proxy_version: the tag of the image kube-proxy's DaemonSet runs, which `kubeadm upgrade apply` sets in its
# addon phase, after upload-config (the cluster's version), kubelet-config and bootstrap-token: an apply cut short
# before it shows here, and is run again.
kube_proxy_version() {
  local image
  image=$(kubectl --kubeconfig "$admin_conf" -n kube-system get daemonset kube-proxy \
    -o 'jsonpath={.spec.template.spec.containers[0].image}')
  echo "${image##*:}"
}

# apiserver_version: the kube-apiserver this control plane runs (its static-pod manifest's image tag), or empty.
apiserver_version() {
  local manifest="$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml"
  [[ -f $manifest ]] || return 0
  awk '$1 == "image:" && $2 ~ /kube-apiserver:/ { n = split($2, part, ":"); print part[n]; exit }' "$manifest"
}

# node_kubelet_version NODE: the kubelet version the API reports for NODE (run where admin.conf is).
node_kubelet_version() {
  kubectl --kubeconfig "$admin_conf" get node "$1" -o 'jsonpath={.status.nodeInfo.kubeletVersion}'
}

# node_containerd_version NODE: the containerd version the API reports for NODE ("2.3.7"; run where admin.conf is).
node_containerd_version() {
  local runtime
  runtime=$(kubectl --kubeconfig "$admin_conf" get node "$1" -o 'jsonpath={.status.nodeInfo.containerRuntimeVersion}')
  printf '%s\n' "${runtime#containerd://}"
}

# containerd_stays VERSION: a node on containerd VERSION keeps it through this upgrade: containerd 1.7 until the
# upgrade to 1.CONTAINERD_2_FROM_MINOR (the drain and the containerd step decide by the same rule).
containerd_stays() {
  [[ $1 == 1.* ]] && (($(minor_of "$target") < CONTAINERD_2_FROM_MINOR))
}

# minor_of vX.Y.Z: Y
minor_of() {
  local version=${1#v}
  version=${version#*.}
  printf '%s\n' "${version%%.*}"
}
