#!/usr/bin/env bash
# Renews this control plane's kubeadm certificates when one of them expires within RENEW_WITHIN_DAYS days, or when
# certificates.renewal was raised to RENEWAL (a value this host has not renewed for), then restarts its static pods
# one after another (etcd, kube-apiserver, kube-controller-manager, kube-scheduler: not all of them reload
# certificates) and waits for the API server. `kubeadm certs renew all` renews admin.conf and the other kubeconfigs
# of the control plane too; the CAs (ten years) stay. Runs from the `<node>-certificates` step of `pulumi up` and
# daily from a systemd timer (certificates-timer.sh), so renewal never waits for an update; a lock keeps the two
# (and the upgrades) apart. Writes the expiry dates for node-exporter's textfile collector (METRICS_FILE; Prometheus
# alerts on them) and prints them as JSON (certificate_report). A run cut short after the renewal restarts on the
# next run.
# Inputs (generated header): ROOT, RENEW_WITHIN_DAYS, RENEWAL, WEB_CA_DIR, METRICS_FILE, RESTART_ATTEMPTS.
# shellcheck disable=SC2154
set -euo pipefail

state="$ROOT/etc/kubernetes/k8s-platform"
mkdir -p "$state"
[[ -f $ROOT/etc/kubernetes/admin.conf ]] || fail "no /etc/kubernetes/admin.conf: this host is not a control plane"
pending="$state/certificates-restart-pending"
# A manifest a run cut short left out goes back only when no restart is pending: a pending one puts it back itself.
if [[ -f $pending ]]; then
  static_pods_lock
else
  static_pods_exclusive
fi

renewal_file="$state/certificates-renewal"
lines=$(certificate_lines "$state/certificates-check.log" "$ROOT$WEB_CA_DIR") || fail "the certificates could not be read"
due=()
# The residual time kubeadm prints goes through JSON as a float ("3.1535999e+07"): the expiry date is what counts.
now=$(date -u +%s)
while read -r kind name expires _ external missing; do
  [[ $kind == certificate && $external != true && $missing != true ]] || continue
  end=$(date -u -d "$expires" +%s) || fail "kubeadm gave $name the expiry date '$expires'"
  ((end - now < RENEW_WITHIN_DAYS * 86400)) && due+=("$name")
done <<<"$lines"
reason=""
if ((${#due[@]})); then
  reason="expiring within $RENEW_WITHIN_DAYS days: ${due[*]}"
fi
# A control plane that never ran this program has the certificates its init or join just made: it records the
# setting's value instead of renewing them again.
if [[ ! -f $renewal_file ]]; then
  printf '%s\n' "$RENEWAL" >"$renewal_file"
elif [[ "$(cat "$renewal_file")" != "$RENEWAL" ]]; then
  reason="certificates.renewal is $RENEWAL"
fi
if [[ -n $reason ]]; then
  log "renewing this control plane's certificates ($reason)"
  touch "$pending" # before the renewal: a run cut short after it still restarts the static pods
  run_logged "$state/certificates-renew.log" "kubeadm certs renew all" kubeadm certs renew all
  printf '%s\n' "$RENEWAL" >"$renewal_file"
  lines=$(certificate_lines "$state/certificates-check.log" "$ROOT$WEB_CA_DIR") || fail "the certificates could not be read"
fi
if [[ -f $pending ]]; then
  for pod in etcd kube-apiserver kube-controller-manager kube-scheduler; do
    restart_static_pod "$pod" "$RESTART_ATTEMPTS"
  done
  for ((attempt = 1; attempt <= RESTART_ATTEMPTS; attempt++)); do
    curl --insecure --silent --fail --max-time 5 https://127.0.0.1:6443/readyz >/dev/null && break
    ((attempt < RESTART_ATTEMPTS)) || fail "the API server is not ready after its restart: see crictl logs"
    sleep 2
  done
  rm -f "$pending"
fi

now=$(date -u +%s)
metrics="# HELP k8s_platform_certificate_expiry_timestamp_seconds When a certificate of this node expires.
# TYPE k8s_platform_certificate_expiry_timestamp_seconds gauge"
while read -r kind name expires _ _ missing; do
  [[ -n $kind && $missing != true ]] || continue
  metrics+=$'\n'"k8s_platform_certificate_expiry_timestamp_seconds{kind=\"$kind\",certificate=\"$name\"} $(date -u -d "$expires" +%s)"
done <<<"$lines"
metrics+="
# HELP k8s_platform_certificate_check_timestamp_seconds When this control plane's certificates were last checked.
# TYPE k8s_platform_certificate_check_timestamp_seconds gauge
k8s_platform_certificate_check_timestamp_seconds $now"
write_file "$ROOT$METRICS_FILE" 644 "$metrics" || true
certificate_report "$lines" "$reason"
