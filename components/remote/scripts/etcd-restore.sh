#!/usr/bin/env bash
# Restores this control plane's etcd member from a snapshot, as the operations brief prescribes: the apiserver and
# etcd stop (their static-pod manifests are moved out), /var/lib/etcd is moved aside, the snapshot is restored
# into /var/lib/etcd, and the manifests go back. The host has no etcdctl: etcdutl runs from the cluster's own etcd
# image (the one the manifest names) through containerd.
# Run it on every control plane with the same snapshot and the same INITIAL_CLUSTER (README, "Restoring etcd").
# Re-running it is safe: a member already restored from this snapshot is left alone, and a run that stopped
# halfway picks up where it stopped.
# Usage: etcd-restore.sh SNAPSHOT [INITIAL_CLUSTER]   (INITIAL_CLUSTER: name=https://ip:2380,... of every member;
#        default: this member alone)
set -euo pipefail

ROOT=${ROOT:-}
log() { printf 'etcd-restore: %s\n' "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

[[ $# -ge 1 ]] || fail "usage: etcd-restore.sh SNAPSHOT [INITIAL_CLUSTER]"
snapshot=$(readlink -f "$1")
initial_cluster=${2:-}
manifests=$ROOT/etc/kubernetes/manifests
parked=$ROOT/etc/kubernetes/manifests-parked-by-etcd-restore
data=$ROOT/var/lib/etcd
marker=$data/.k8s-platform-restored-from
[[ -s $snapshot ]] || fail "snapshot $snapshot is missing or empty"

etcd_manifest=$manifests/etcd.yaml
[[ -f $etcd_manifest ]] || etcd_manifest=$parked/etcd.yaml
[[ -f $etcd_manifest ]] || fail "no etcd manifest in $manifests or $parked: is this a control plane?"
image=$(awk '$1 == "image:" { print $2; exit }' "$etcd_manifest")
flag() { grep -o -- "--$1=[^ \"]*" "$etcd_manifest" | head -n 1 | cut -d= -f2-; }
name=$(flag name)
peer_url=$(flag initial-advertise-peer-urls)
[[ -n $image && -n $name && -n $peer_url ]] || fail "cannot read image, --name and peer URL from $etcd_manifest"
initial_cluster=${initial_cluster:-$name=$peer_url}
checksum=$(sha256sum "$snapshot" | cut -d' ' -f1)

if [[ -f $marker && "$(cat "$marker")" == "$checksum" && ! -d $parked ]]; then
  log "member $name is already restored from this snapshot; nothing to do"
  exit 0
fi

# 1. Stop the apiserver and etcd: the kubelet stops static pods whose manifests disappear.
mkdir -p "$parked"
for manifest in kube-apiserver.yaml etcd.yaml; do
  if [[ -f $manifests/$manifest ]]; then
    mv "$manifests/$manifest" "$parked/$manifest"
  fi
done
for ((attempt = 1; ; attempt++)); do
  running=$(crictl ps --quiet --name '^(etcd|kube-apiserver)$' 2>/dev/null || true)
  [[ -z $running ]] && break
  ((attempt < 60)) || fail "etcd or the apiserver still runs after 120 s; manifests are in $parked"
  sleep 2
done

# 2. Move the current data aside (kept, never deleted), unless it is this snapshot's restore already.
if [[ -d $data && ! ( -f $marker && "$(cat "$marker")" == "$checksum" ) ]]; then
  aside="$data.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$data" "$aside"
  log "previous data kept in $aside"
fi

# 3. Restore the snapshot with the cluster's own etcdutl.
if [[ ! -d $data/member ]]; then
  ctr --namespace k8s.io run --rm --net-host \
    --mount "type=bind,src=$(dirname "$snapshot"),dst=/snapshot,options=rbind:ro" \
    --mount "type=bind,src=$ROOT/var/lib,dst=/var/lib,options=rbind:rw" \
    "$image" "etcd-restore-$$" \
    etcdutl snapshot restore "/snapshot/$(basename "$snapshot")" --data-dir /var/lib/etcd \
    --name "$name" --initial-cluster "$initial_cluster" --initial-advertise-peer-urls "$peer_url"
  printf '%s\n' "$checksum" >"$marker"
fi

# 4. Start etcd, then the apiserver.
for manifest in etcd.yaml kube-apiserver.yaml; do
  if [[ -f $parked/$manifest ]]; then
    mv "$parked/$manifest" "$manifests/$manifest"
  fi
done
rmdir "$parked"
log "member $name restored from $snapshot; etcd and the apiserver start again within a minute"
