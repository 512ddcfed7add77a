#!/usr/bin/env bash
# Daily on every node, from a systemd timer the upgrade-kubelet step installs: keeps the kubelet's serving
# certificate from expiring. It is the self-signed one the kubelet makes at its start when it has none (kubeadm's
# default; the API server does not verify it), valid a year and never renewed by the kubelet. Within
# RENEW_WITHIN_DAYS of its expiry it is moved aside and the kubelet restarted, which makes a new one; running pods are
# not touched. Should the kubelet not answer its health check or make no new certificate, the old one is put back.
# Writes the expiry date for node-exporter's textfile collector (METRICS_FILE).
# Inputs (generated header): ROOT, RENEW_WITHIN_DAYS, HEALTH_ATTEMPTS, METRICS_FILE.
# shellcheck disable=SC2154
set -euo pipefail

pki="$ROOT/var/lib/kubelet/pki"
crt="$pki/kubelet.crt" key="$pki/kubelet.key"
# A run cut short between moving the certificate aside and the kubelet's restart left only the .expiring copy:
# this run restarts the kubelet (it makes its certificate only at its start).
resume=false
[[ -f $crt || ! -f $crt.expiring ]] || resume=true
if [[ ! -f $crt && $resume != true ]]; then
  log "no self-signed serving certificate: the kubelet makes one at its start"
  exit 0
fi
if [[ $resume == true ]] || ! openssl x509 -in "$crt" -noout -checkend $((RENEW_WITHIN_DAYS * 86400)) >/dev/null; then
  log "the kubelet's serving certificate expires within $RENEW_WITHIN_DAYS days: the kubelet makes a new one"
  [[ ! -f $crt ]] || mv -f "$crt" "$crt.expiring"
  [[ ! -f $key ]] || mv -f "$key" "$key.expiring"
  systemctl restart kubelet
  healthy=false
  for ((attempt = 1; attempt <= HEALTH_ATTEMPTS; attempt++)); do
    if curl --silent --fail --max-time 5 http://127.0.0.1:10248/healthz >/dev/null && [[ -s $crt ]]; then
      healthy=true
      break
    fi
    sleep 5
  done
  if [[ $healthy != true ]]; then
    mv -f "$crt.expiring" "$crt"
    [[ ! -f $key.expiring ]] || mv -f "$key.expiring" "$key"
    systemctl restart kubelet
    fail "the kubelet made no new serving certificate or is not healthy: the old one is back; see journalctl -u kubelet"
  fi
  rm -f "$crt.expiring" "$key.expiring"
  log "the kubelet serves a new certificate"
fi
end=$(openssl x509 -in "$crt" -noout -enddate)
metrics="# HELP k8s_platform_certificate_expiry_timestamp_seconds When a certificate of this node expires.
# TYPE k8s_platform_certificate_expiry_timestamp_seconds gauge
k8s_platform_certificate_expiry_timestamp_seconds{kind=\"kubelet-serving\",certificate=\"kubelet.crt\"} $(date -u -d "${end#notAfter=}" +%s)"
write_file "$ROOT$METRICS_FILE" 644 "$metrics" || true
