#!/usr/bin/env bash
# Installs haproxy and keepalived for the API's virtual IP. A new config is checked by the binary itself
# (haproxy -c, keepalived -t) before it replaces the running one, so a bad config never takes a working load
# balancer down; a config that did not change causes no reload.
# Inputs (generated header): ROOT, HAPROXY_PACKAGE, HAPROXY_VERSION_PREFIX, KEEPALIVED_PACKAGE, KEEPALIVED_VERSION_PREFIX, HAPROXY_CONFIG, KEEPALIVED_CONFIG.
# shellcheck disable=SC2154
set -euo pipefail

require_ubuntu_or_debian
packages_exclusive

# install_package NAME VERSION_PREFIX: from the distribution's archive, held, of the pinned major.minor.
install_package() {
  local name=$1 prefix=$2 installed
  if [[ -z "$(package_version "$name")" ]]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$name"
  fi
  installed=$(package_version "$name")
  [[ $installed == "$prefix"* ]] || fail "$name $installed is installed; this platform needs $prefix*"
  if ! apt-mark showhold | grep -qx "$name"; then
    apt-mark hold "$name" >/dev/null
  fi
}

# keepalived_config_ok FILE: `keepalived -t` says nothing about a good config. keepalived 2.2.7 (Debian 12) ends
# every config test that has a vrrp_script by killing itself (exit 143, fixed in 2.2.8), so silence is the test.
keepalived_config_ok() {
  local output status=0
  output=$(keepalived --config-test --use-file "$1" 2>&1) || status=$?
  output=${output//Terminated/}
  if [[ -n ${output//[[:space:]]/} ]] || ((status != 0 && status != 143)); then
    printf '%s\n' "$output" >&2
    return 1
  fi
}

# start_or_reload SERVICE CHANGED: a running service reloads a changed config without dropping connections.
start_or_reload() {
  local service=$1 changed=$2
  if ! systemctl is-enabled --quiet "$service"; then
    systemctl enable "$service"
  fi
  if ! systemctl is-active --quiet "$service"; then
    systemctl start "$service"
  elif [[ $changed == true ]]; then
    systemctl reload "$service"
  fi
}

install_package "$HAPROXY_PACKAGE" "$HAPROXY_VERSION_PREFIX"
install_package "$KEEPALIVED_PACKAGE" "$KEEPALIVED_VERSION_PREFIX"
if ! command -v curl >/dev/null; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl
fi

haproxy_changed=false
write_file "$ROOT/etc/haproxy/haproxy.cfg" 644 "$HAPROXY_CONFIG" haproxy -c -f && haproxy_changed=true
start_or_reload haproxy "$haproxy_changed"

# keepalived.conf holds the VRRP authentication secret: root only.
keepalived_changed=false
write_file "$ROOT/etc/keepalived/keepalived.conf" 600 "$KEEPALIVED_CONFIG" keepalived_config_ok &&
  keepalived_changed=true
start_or_reload keepalived "$keepalived_changed"
log "haproxy and keepalived ready"
