#!/usr/bin/env bash
# Prepares a host for kubeadm: hostname, name resolution, time sync, swap off, kernel modules and sysctls,
# now and at boot. Each step changes the host only when it differs from the wanted state.
# NODE_DOMAIN is the DNS zone that holds every node's name (searched for short names), or empty. On a host that is a
# container (CONTAINER_HOST yes: hostSystem.containers) the clock and the kernel are the machine's below it: no
# time service is installed, and only what is this host's own (its network namespace's sysctls) is set.
# Inputs (generated header): ROOT, NODE_NAME, HOSTS_BLOCK ("address name" lines), NODE_DOMAIN, CONTAINER_HOST (yes or no).
# shellcheck disable=SC2154
set -euo pipefail

require_ubuntu_or_debian

if [[ "$(hostname)" != "$NODE_NAME" ]]; then
  hostnamectl set-hostname "$NODE_NAME"
  log "hostname set to $NODE_NAME"
fi

# /etc/hosts: our block between markers, everything else untouched.
hosts_file="$ROOT/etc/hosts"
touch "$hosts_file"
kept=$(awk '/^# BEGIN k8s-platform/{skip=1} !skip{print} /^# END k8s-platform/{skip=0}' "$hosts_file")
write_file "$hosts_file" 644 "$kept
# BEGIN k8s-platform
$HOSTS_BLOCK
# END k8s-platform" || true

# Every node resolvable by its short name through the cluster's DNS zone (same setting on every host, so adding a
# node changes nothing here).
if [[ -n $NODE_DOMAIN ]]; then
  if write_file "$ROOT/etc/systemd/resolved.conf.d/k8s-platform.conf" 644 "[Resolve]
Domains=$NODE_DOMAIN"; then
    systemctl restart systemd-resolved
  fi
fi

# Time: TLS between nodes fails with clock skew, so chrony must run and be synchronised (a container's clock is its
# machine's). The package lists of a fresh or long-unused bare-metal host are empty or stale: they are read first.
if [[ $CONTAINER_HOST != yes ]]; then
  if [[ -z "$(package_version chrony)" ]]; then
    packages_exclusive
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chrony
  fi
  if ! systemctl is-active --quiet chrony; then
    systemctl enable --now chrony
  fi
  chronyc -n waitsync 60 0.5 0 1 >/dev/null || fail "clock not synchronised after 60 s (chronyc waitsync)"
fi

# Swap off now and after reboot.
if [[ -n "$(swapon --show --noheadings)" ]]; then
  swapoff -a
  log "swap turned off"
fi
if [[ -f "$ROOT/etc/fstab" ]]; then
  without_swap=$(awk '!/^[[:space:]]*#/ && $3 == "swap" { print "#" $0; next } { print }' "$ROOT/etc/fstab")
  write_file "$ROOT/etc/fstab" 644 "$without_swap" || true
fi

# Kernel modules for container networking, now and at boot; a kernel with them built in has nothing to load (its
# /sys/module may not list a built-in module: what the module provides is looked for instead).
write_file "$ROOT/etc/modules-load.d/k8s-platform.conf" 644 "overlay
br_netfilter" || true
grep -qw overlay "$ROOT/proc/filesystems" || modprobe overlay
[[ -d "$ROOT/proc/sys/net/bridge" ]] || modprobe br_netfilter

# Bridged traffic through iptables, and forwarding: in the file for every boot, and now each one that differs (only
# those: a host that is a container may not write even a value it already has).
sysctls="net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1"
write_file "$ROOT/etc/sysctl.d/99-k8s-platform.conf" 644 "$sysctls" || true
for key in net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward; do
  if [[ "$(cat "$ROOT/proc/sys/${key//.//}" 2>/dev/null)" != 1 ]]; then
    sysctl -q -w "$key=1" >/dev/null || fail "cannot set $key to 1"
  fi
done
log "host prepared"
