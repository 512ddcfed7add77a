#!/usr/bin/env bash
# Read only: when this control plane's certificates expire, as JSON (certificate_report). Run at every preview and
# update from the machine running Pulumi (components/bootstrap/certificate_check.py); a host that is not a control
# plane of a cluster yet says so instead.
# Inputs (generated header): ROOT, WEB_CA_DIR.
# shellcheck disable=SC2154
set -euo pipefail

if [[ ! -f $ROOT/etc/kubernetes/admin.conf ]]; then
  printf '{"unavailable": "no /etc/kubernetes/admin.conf: not a control plane of a cluster yet"}\n'
  exit 0
fi
log_file=$(mktemp)
trap 'rm -f "$log_file"' EXIT
lines=$(certificate_lines "$log_file" "$ROOT$WEB_CA_DIR") || exit 1
certificate_report "$lines" ""
