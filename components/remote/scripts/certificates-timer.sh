#!/usr/bin/env bash
# The `<node>-certificates` step of a control plane: installs the renewal program (PROGRAM_BASE64, rendered from
# certificates-renew.sh) at PROGRAM_PATH with a daily systemd timer at TIMER_CALENDAR (control planes are staggered
# half an hour apart, so that two never restart their static pods at once), then runs it once now and prints its
# report. REQUEST is what the read before this update found ("nothing due", or what is due): a new one runs this
# step again.
# Inputs (generated header): ROOT, PROGRAM_BASE64, PROGRAM_PATH, TIMER_CALENDAR, UNIT, REQUEST.
# shellcheck disable=SC2154
set -euo pipefail

log "the read before this update: $REQUEST"
install_timed_program "$UNIT" "$PROGRAM_PATH" "$PROGRAM_BASE64" "$TIMER_CALENDAR" \
  "renew this control plane's kubeadm certificates when they near expiry"
bash "$ROOT$PROGRAM_PATH" 9>&-
