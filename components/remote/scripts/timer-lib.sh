# shellcheck shell=bash
# Installing a program that a daily systemd timer runs on the host (certificates-timer.sh, upgrade-kubelet.sh).
# Inputs (generated header): ROOT.

# install_timed_program UNIT PATH PROGRAM_BASE64 CALENDAR DESCRIPTION [TIMER_LINE...]: the program (rendered by the
# program, carried base64 so that its own header stays out of this step's) at PATH, mode 700, starting where this
# step does (ROOT: empty on a host, a sandbox in tests); UNIT.service runs it, UNIT.timer daily at CALENDAR with
# any extra [Timer] lines. Unchanged files are left alone; systemd reloads only for a change; the timer is enabled
# once. Called as a condition nowhere: `set -e` holds.
install_timed_program() {
  local unit=$1 path=$2 encoded=$3 calendar=$4 description=$5 units="$ROOT/etc/systemd/system" program changed=false
  shift 5
  program=$(base64 -d <<<"$encoded")
  program=${program/"readonly ROOT=''"/"readonly ROOT=$(printf %q "$ROOT")"}
  write_file "$ROOT$path" 700 "$program" && changed=true
  write_file "$units/$unit.service" 644 "[Unit]
Description=$description (k8s-platform)
After=kubelet.service

[Service]
Type=oneshot
ExecStart=/bin/bash $path" && changed=true
  write_file "$units/$unit.timer" 644 "[Unit]
Description=Daily: $description (k8s-platform)

[Timer]
OnCalendar=$calendar
AccuracySec=1min$(printf '\n%s' "$@")

[Install]
WantedBy=timers.target" && changed=true
  if [[ $changed == true ]]; then
    systemctl daemon-reload
  fi
  systemctl is-enabled "$unit.timer" >/dev/null 2>&1 || systemctl enable --now "$unit.timer"
}

# remove_timed_programs: every timer, service and program install_timed_program put on this host (their units are
# named k8s-platform-*), and the metrics they wrote, so that a reset host runs none of them (the kubelet serving
# certificate's would otherwise restart a kubelet the reset disabled). Harmless when there are none.
remove_timed_programs() {
  local units="$ROOT/etc/systemd/system" timer unit removed=false
  for timer in "$units"/k8s-platform-*.timer; do
    [[ -f $timer ]] || continue
    unit=$(basename "$timer" .timer)
    systemctl disable --now "$unit.timer" || true
    rm -f "$timer" "$units/$unit.service"
    removed=true
  done
  rm -rf "$ROOT/usr/local/lib/k8s-platform" "$ROOT/var/lib/k8s-platform/metrics"
  if [[ $removed == true ]]; then
    systemctl daemon-reload
  fi
}
