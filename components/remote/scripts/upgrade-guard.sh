#!/usr/bin/env bash
# Runs on the first control plane before any upgrade step: reads the version the cluster runs (kubeadm's
# ClusterConfiguration, not whichever API server answers) and the version of every kubelet, and refuses a target that skips a minor, goes back, or that some node cannot reach (a kubelet still
# behind the API server from an earlier upgrade). Changes nothing; a cluster not initialized yet passes.
# Inputs (generated header): ROOT.
# shellcheck disable=SC2154
set -euo pipefail

if [[ ! -f $admin_conf ]]; then
  log "no cluster on this host yet: nothing to compare"
  exit 0
fi
current=$(cluster_version)
[[ $current =~ ^v1\.[0-9]+\.[0-9]+$ ]] || fail "cannot read the cluster's version from kubeadm's ClusterConfiguration"
allowed="the allowed next versions are a later ${current%.*} patch or v1.$(($(minor_of "$current") + 1)).x"
newest=$(printf '%s\n%s\n' "${current#v}" "$TARGET_VERSION" | sort -V | tail -n 1)
if [[ $current != "$target" && $newest != "$TARGET_VERSION" ]]; then
  fail "kubernetesVersion $TARGET_VERSION is older than the cluster's ${current#v}: kubeadm does not downgrade (restore an etcd snapshot to go back); $allowed"
fi
if (($(minor_of "$target") > $(minor_of "$current") + 1)); then
  fail "kubernetesVersion $TARGET_VERSION skips a minor: upgrade one minor at a time; from ${current#v} $allowed"
fi
behind=$(kubectl --kubeconfig "$admin_conf" get nodes \
  -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{.status.nodeInfo.kubeletVersion}{"\n"}{end}' |
  awk -v minor="$(minor_of "$current")" 'NF == 2 { split($2, v, "."); if (v[2] + 0 < minor + 0) print $1 " (" $2 ")" }')
if [[ -n $behind && $current != "$target" ]]; then
  fail "kubernetesVersion $TARGET_VERSION: these kubelets are still behind the API server ${current}: $(tr '\n' ' ' <<<"$behind")- finish the upgrade to ${current#v} first"
fi
log "cluster at $current, target $target: allowed"
