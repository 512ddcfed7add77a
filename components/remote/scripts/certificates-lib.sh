# shellcheck shell=bash
# Reading a control plane's certificates (certificates-check.sh, certificates-renew.sh): what kubeadm manages
# (`kubeadm certs check-expiration`) and the web hosts' serving certificates the cluster's own CA signed.
# Inputs (generated header): ROOT.

# certificate_lines LOG WEB_CA_DIR: one line per certificate, "KIND NAME EXPIRES RESIDUAL_SECONDS EXTERNAL MISSING",
# KIND one of certificate (kubeadm's, renewed by `kubeadm certs renew`), authority (kubeadm's CAs: ten years, never
# renewed here) and web (WEB_CA_DIR's host certificates, renewed by registry-ca.sh). kubeadm may print progress
# lines before the list: only lines of a known kind are kept; its messages go to LOG. Called in $(...), where bash
# drops `set -e`: every step checks its own result, and the caller checks the function's.
certificate_lines() {
  local log_file=$1 web_dir=$2 file name end expires now listed
  listed=$(run_logged_output "$log_file" "kubeadm certs check-expiration" kubeadm certs check-expiration -o 'jsonpath={range .certificates[*]}certificate {.name} {.expirationDate} {.residualTime} {.externallyManaged} {.missing}{"\n"}{end}{range .certificateAuthorities[*]}authority {.name} {.expirationDate} {.residualTime} {.externallyManaged} {.missing}{"\n"}{end}') || return 1
  awk '$1 == "certificate" || $1 == "authority"' <<<"$listed"
  [[ -d $web_dir ]] || return 0
  now=$(date -u +%s)
  for file in "$web_dir"/*.crt; do
    name=$(basename "$file" .crt)
    [[ -f $file && $name != ca ]] || continue
    end=$(openssl x509 -in "$file" -noout -enddate) || return 1
    end=$(date -u -d "${end#notAfter=}" +%s) || return 1
    expires=$(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ) || return 1
    printf 'web %s %s %s false false\n' "$name" "$expires" "$((end - now))"
  done
}

# certificate_report LINES RENEWED: the lines as JSON, {"certificates": {name: expires}, "authorities": {...},
# "web": {...}, "renewed": RENEWED}, without externally managed certificates; the program reads it
# (components/bootstrap/certificates.py).
certificate_report() {
  local lines=$1 renewed=$2 kind name expires missing
  local -A parts=([certificate]="" [authority]="" [web]="")
  while read -r kind name expires _ external missing; do
    # Certificates kubeadm does not manage (an external CA's) are neither renewed here nor reported as due.
    [[ -n $kind && $missing != true && ($kind != certificate || $external != true) ]] || continue
    parts[$kind]+="${parts[$kind]:+, }\"$name\": \"$expires\""
  done <<<"$lines"
  printf '{"certificates": {%s}, "authorities": {%s}, "web": {%s}, "renewed": "%s"}\n' \
    "${parts[certificate]}" "${parts[authority]}" "${parts[web]}" "$renewed"
}

# running_container NAME: the ID of the running container of static pod NAME, empty when none runs.
running_container() {
  crictl ps --quiet --state running --name "^$1\$" 2>/dev/null | head -n 1 || true
}

# restart_static_pod NAME ATTEMPTS: the upstream way (kubeadm's manual certificate renewal): the manifest leaves
# the kubelet's folder until the container has stopped, then comes back until a new container runs; ATTEMPTS tries
# 2 s apart for each wait (the kubelet looks at the folder every 20 s). A manifest a run cut short left out is put
# back; a pod this control plane does not run (no manifest) is skipped.
restart_static_pod() {
  local name=$1 attempts=$2 manifests="$ROOT/etc/kubernetes/manifests" held before="" attempt now
  held="$ROOT/etc/kubernetes/k8s-platform/held-manifests"
  mkdir -p "$held"
  if [[ -f $manifests/$name.yaml ]]; then
    before=$(running_container "$name")
    mv "$manifests/$name.yaml" "$held/$name.yaml"
    for ((attempt = 1; attempt <= attempts; attempt++)); do
      [[ -n $(running_container "$name") ]] || break
      sleep 2
    done
    if [[ -n $(running_container "$name") ]]; then
      mv "$held/$name.yaml" "$manifests/$name.yaml"
      fail "$name did not stop within $((attempts * 2)) s of its manifest leaving $manifests; it is back in place"
    fi
  fi
  [[ -f $held/$name.yaml ]] || return 0
  mv "$held/$name.yaml" "$manifests/$name.yaml"
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    now=$(running_container "$name")
    if [[ -n $now && $now != "$before" ]]; then
      log "$name restarted with the renewed certificates"
      return 0
    fi
    sleep 2
  done
  fail "$name did not start again within $((attempts * 2)) s: see journalctl -u kubelet and crictl ps -a --name $name"
}
