#!/usr/bin/env bash
# Checks that a host is fit for its role before anything changes on it. Read-only: it installs, writes and starts
# nothing, so it can run any number of times. Every failed check is reported (host, check, found, required) and
# the script exits non-zero; on success its last output line is the host's identity as JSON, which the program
# compares across hosts (hostnames, machine ids and product UUIDs must be unique), and whether it has been a
# cluster member.
# Memory and disk may fall short of the nominal size by TOLERANCE_PERCENT: firmware, the kernel and the
# filesystem take their share (an 8 GiB machine reports about 7.6 GiB). A host that is a container (CONTAINER_HOST
# yes: hostSystem.containers) has its machine's clock and product UUID: neither is its own, neither is checked.
# Inputs (generated header): ROOT, HOST_NAME, ROLE, TIER, MIN_VCPU, MIN_MEMORY_GIB, MIN_DISK_GIB, DECLARED_VCPU, DECLARED_MEMORY_GIB, DECLARED_DISK_GIB, TOLERANCE_PERCENT, SUPPORTED_OS (space-separated id:version), REQUIRED_PORTS (space-separated port:owner), DATA_PATH, CLOCK_WAIT_SECONDS, CONTAINER_HOST (yes or no).
# shellcheck disable=SC2154
set -euo pipefail

failures=()
failed() { failures+=("$1: found $2, required $3"); }

# check_size CHECK FOUND_MIB MINIMUM_GIB DECLARED_GIB: against the tier minimum first, then the declaration.
check_size() {
  local check=$1 found_mib=$2 minimum_gib=$3 declared_gib=$4 found_text
  found_text="$((found_mib / 1024)).$(((found_mib % 1024) * 10 / 1024)) GiB"
  if ((found_mib * 100 < minimum_gib * 1024 * (100 - TOLERANCE_PERCENT))); then
    failed "$check" "$found_text" "$minimum_gib GiB (tier $TIER minimum for $ROLE hosts)"
  elif ((found_mib * 100 < declared_gib * 1024 * (100 - TOLERANCE_PERCENT))); then
    failed "$check" "$found_text" "$declared_gib GiB (declared in the inventory)"
  fi
}

# Operating system.
os_id="" os_version=""
if [[ -r "$ROOT/etc/os-release" ]]; then
  os_id=$(awk -F= '$1 == "ID" { gsub(/"/, "", $2); print $2 }' "$ROOT/etc/os-release")
  os_version=$(awk -F= '$1 == "VERSION_ID" { gsub(/"/, "", $2); print $2 }' "$ROOT/etc/os-release")
fi
if [[ " $SUPPORTED_OS " != *" $os_id:$os_version "* ]]; then
  failed "operating system" "'${os_id:-unknown} ${os_version:-unknown}'" "one of ${SUPPORTED_OS// /, }"
fi

# CPUs.
vcpu=$(nproc)
if ((vcpu < MIN_VCPU)); then
  failed "cpu" "$vcpu vCPU" "$MIN_VCPU vCPU (tier $TIER minimum for $ROLE hosts)"
elif ((vcpu < DECLARED_VCPU)); then
  failed "cpu" "$vcpu vCPU" "$DECLARED_VCPU vCPU (declared in the inventory)"
fi

# Memory (MemTotal, in KiB).
memory_kib=$(awk '$1 == "MemTotal:" { print $2 }' "$ROOT/proc/meminfo")
memory_mib=$((${memory_kib:-0} / 1024))
check_size "memory" "$memory_mib" "$MIN_MEMORY_GIB" "$DECLARED_MEMORY_GIB"

# Disk: the filesystem that will hold container images, etcd and logs.
disk_kib=$(df -P -k "$ROOT$DATA_PATH" | awk 'NR == 2 { print $2 }')
disk_mib=$((${disk_kib:-0} / 1024))
check_size "disk $DATA_PATH" "$disk_mib" "$MIN_DISK_GIB" "$DECLARED_DISK_GIB"

# Clock: TLS between nodes fails with skew. A host that just booted may need a few seconds to synchronise.
synchronised=no
clock_wait=$CLOCK_WAIT_SECONDS
if [[ $CONTAINER_HOST == yes ]]; then
  synchronised=yes clock_wait=-1
fi
for ((waited = 0; waited <= clock_wait; waited += 5)); do
  synchronised=$(timedatectl show --property=NTPSynchronized --value 2>/dev/null || echo unknown)
  [[ $synchronised == yes ]] && break
  ((waited + 5 <= clock_wait)) || break
  sleep 5
done
if [[ $synchronised != yes ]]; then
  failed "clock" "NTPSynchronized=$synchronised after ${CLOCK_WAIT_SECONDS}s" \
    "a synchronised clock (chrony or systemd-timesyncd running with a reachable time server)"
fi

# Ports: free, or already held by the component that will use them (a second run on a bootstrapped host).
listeners=$(ss -H -l -t -n -p 2>/dev/null || true)
for entry in $REQUIRED_PORTS; do
  port=${entry%%:*} owner=${entry#*:}
  holders=$(awk -v port="$port" '{ n = split($4, a, ":"); if (a[n] == port) print $0 }' <<<"$listeners" |
    grep -o '(("[^"]*"' | tr -d '("' | sort -u | paste -s -d, - || true)
  if [[ -n $holders && $holders != "$owner" ]]; then
    failed "port $port" "in use by $holders" "free for $owner"
  fi
done

# Identity, for the comparison across hosts.
hostname=$(hostname)
machine_id=$(tr -d '[:space:]' <"$ROOT/etc/machine-id" 2>/dev/null || true)
product_uuid=""
[[ $CONTAINER_HOST == yes ]] || product_uuid=$(tr -d '[:space:]' <"$ROOT/sys/class/dmi/id/product_uuid" 2>/dev/null || true)
[[ -n $machine_id ]] || failed "machine-id" "an empty /etc/machine-id" "a unique machine id (systemd-machine-id-setup)"

if ((${#failures[@]})); then
  {
    printf 'preflight failed on %s (%s, tier %s):\n' "$HOST_NAME" "$ROLE" "$TIER"
    printf '  - %s\n' "${failures[@]}"
  } >&2
  exit 1
fi
log "host fit for $ROLE (tier $TIER): $vcpu vCPU, $memory_mib MiB memory, $disk_mib MiB on $DATA_PATH, $os_id $os_version"
# Whether this install has been a member of a cluster (its init or join finished): a node's credentials step takes
# the old Node of a changed machine identity out only for a fresh install.
member=no
if [[ -f "$ROOT/etc/kubernetes/k8s-platform/init.done" || -f "$ROOT/etc/kubernetes/k8s-platform/join.done" ]]; then
  member=yes
fi
printf '{"host": "%s", "hostname": "%s", "machineId": "%s", "productUuid": "%s", "member": "%s"}\n' \
  "$HOST_NAME" "$hostname" "$machine_id" "$product_uuid" "$member"
