#!/usr/bin/env bash
# Prints the cluster's admin kubeconfig; the program keeps it as a secret and points it at the API endpoint. Runs
# again when ADMIN_CONF_EXPIRES (its certificate's expiry, as the certificate read saw it) moves: after a renewal.
# Inputs (generated header): ROOT, ADMIN_CONF_EXPIRES.
# shellcheck disable=SC2154
set -euo pipefail

admin="$ROOT/etc/kubernetes/admin.conf"
[[ -f $admin ]] || fail "no admin.conf: kubeadm init has not run on this host"
log "admin.conf expected to expire $ADMIN_CONF_EXPIRES"
cat "$admin"
