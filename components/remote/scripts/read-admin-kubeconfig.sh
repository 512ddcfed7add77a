#!/usr/bin/env bash
# Prints the cluster's admin kubeconfig; the program keeps it as a secret and points it at the API endpoint.
# Inputs (generated header): ROOT.
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
[[ -f $admin ]] || fail "no admin.conf: kubeadm init has not run on this host"
cat "$admin"
