#!/usr/bin/env bash
# Restores the cluster's etcd from one snapshot the upstream way (etcd's disaster recovery, kubeadm's "Restoring
# an etcd cluster"): every API server and etcd member stops first, every member is restored from the same snapshot
# with the same member list, then every etcd starts, then every API server. Restoring one member while the others
# keep quorum and take writes would join a stale member to a live cluster, or lose those writes. So it runs in
# three phases, each on every control plane before the next (docs/backup-restore.md, "Restoring etcd"):
#   etcd-restore.sh stop                                  the controller-manager and scheduler, the API server, then
#                                                         etcd stop (manifests parked)
#   etcd-restore.sh restore SNAPSHOT [INITIAL_CLUSTER]    this member's data from the snapshot (old data kept)
#   etcd-restore.sh start                                 etcd starts, then the API server, the controller-manager
#                                                         and scheduler, then the kubelet restarts
# INITIAL_CLUSTER: name=peer-url,... of every member (default: this member alone). The restore uses etcdutl (etcd
# 3.5 and later; etcd 3.6's etcdctl has no restore): the host's, else the one in the cluster's own etcd image (which
# has no shell; run through containerd). Without one it stops before touching anything. It bumps every revision by
# BUMP_REVISION and marks them compacted (etcd's recovery guide for Kubernetes, etcd#16028): revisions never go
# backwards, so every watcher (the controllers, the kubelets) lists the restored state again instead of missing it.
# The controllers are parked too (Kubernetes' restore procedure), so that none acts on a half-restored cluster, and
# each kubelet restarts to drop what it cached; workers' kubelets are restarted by hand (docs/backup-restore.md).
# Every phase can be run again: a member already restored from this snapshot is left alone, and a phase that
# stopped halfway picks up where it stopped.
# Installed on every control plane as /usr/local/sbin/k8s-platform-etcd-restore; ROOT (tests) prefixes every path.
set -euo pipefail

ROOT=${ROOT:-}
ATTEMPTS=${ETCD_RESTORE_ATTEMPTS:-60}
# A billion revisions: more than a cluster writes between its snapshot and a restore (etcd's guide's figure).
BUMP_REVISION=1000000000
# The static pods besides etcd and the API server, parked first and started last.
CONTROLLERS=(kube-controller-manager kube-scheduler)
log() { printf 'etcd-restore: %s\n' "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }
usage="usage: etcd-restore.sh stop | restore SNAPSHOT [INITIAL_CLUSTER] | start"

[[ $# -ge 1 ]] || fail "$usage"
phase=$1
manifests=$ROOT/etc/kubernetes/manifests
parked=$ROOT/etc/kubernetes/manifests-parked-by-etcd-restore
data=$ROOT/var/lib/etcd
marker=$data/.k8s-platform-restored-from

etcd_manifest=$manifests/etcd.yaml
[[ -f $etcd_manifest ]] || etcd_manifest=$parked/etcd.yaml
[[ -f $etcd_manifest ]] || fail "no etcd manifest in $manifests or $parked: is this a control plane?"
image=$(awk '$1 == "image:" { print $2; exit }' "$etcd_manifest")
flag() { grep -o -- "--$1=[^ \"]*" "$etcd_manifest" | head -n 1 | cut -d= -f2-; }
name=$(flag name)
peer_url=$(flag initial-advertise-peer-urls)
[[ -n $name && -n $peer_url ]] || fail "cannot read --name and the peer URL from $etcd_manifest"

# running NAME...: whether a container of one of these static pods runs (the kubelet stops a pod whose manifest
# leaves its folder, and starts it when it comes back).
running() {
  local pattern
  pattern="^($(IFS='|'; echo "$*"))\$"
  [[ -n "$(crictl ps --quiet --name "$pattern" 2>/dev/null || true)" ]]
}

# wait_for WANT NAME...: until the pods run (WANT=running) or none of them does (WANT=stopped), 2 s apart.
wait_for() {
  local want=$1 attempt
  shift
  for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    if running "$@"; then [[ $want == running ]] && return 0; else [[ $want == stopped ]] && return 0; fi
    sleep 2
  done
  fail "$* not $want after $((ATTEMPTS * 2)) s; manifests parked: $(ls "$parked" 2>/dev/null | tr '\n' ' ')"
}

park() {
  mkdir -p "$parked"
  [[ ! -f $manifests/$1 ]] || mv "$manifests/$1" "$parked/$1"
}

unpark() {
  [[ ! -f $parked/$1 ]] || mv "$parked/$1" "$manifests/$1"
}

# restore_tool: the first restore tool found (host-etcdutl or image-etcdutl), or a failure. etcd 3.4's etcdctl
# restored too, but cannot bump revisions: a Kubernetes cluster restored with it has watchers miss changes.
restore_tool() {
  if command -v etcdutl >/dev/null; then
    echo host-etcdutl
  elif command -v ctr >/dev/null && [[ -n $image ]] &&
    ctr --namespace k8s.io run --rm "$image" "etcd-restore-check-$$" etcdutl version </dev/null >/dev/null 2>&1; then
    echo image-etcdutl
  else
    return 1
  fi
}

no_tool="no etcdutl on this host or in the etcd image ${image:-(none)}: install etcdutl (etcd 3.5 or later, for \
--bump-revision) and run this phase again"

# restore_with TOOL SNAPSHOT INITIAL_CLUSTER: this member's data directory from the snapshot, with TOOL.
restore_with() {
  local tool=$1 snapshot=$2 members=$3
  local args=(--name "$name" --initial-cluster "$members" --initial-advertise-peer-urls "$peer_url"
    --bump-revision "$BUMP_REVISION" --mark-compacted)
  case $tool in
    host-etcdutl) etcdutl snapshot restore "$snapshot" --data-dir "$data" "${args[@]}" ;;
    image-etcdutl)
      ctr --namespace k8s.io run --rm --net-host </dev/null \
        --mount "type=bind,src=$(dirname "$snapshot"),dst=/snapshot,options=rbind:ro" \
        --mount "type=bind,src=$ROOT/var/lib,dst=/var/lib,options=rbind:rw" \
        "$image" "etcd-restore-$$" \
        etcdutl snapshot restore "/snapshot/$(basename "$snapshot")" --data-dir /var/lib/etcd "${args[@]}"
      ;;
  esac
  log "restored with $tool, revisions bumped by $BUMP_REVISION and marked compacted"
}

case $phase in
  stop)
    # The controllers first (none acts on what it sees while the cluster goes back in time), then the API server:
    # nothing writes to etcd while it stops.
    for controller in "${CONTROLLERS[@]}"; do park "$controller.yaml"; done
    wait_for stopped "${CONTROLLERS[@]}"
    park kube-apiserver.yaml
    wait_for stopped kube-apiserver
    park etcd.yaml
    wait_for stopped etcd
    log "member $name stopped; run 'stop' on every control plane, then 'restore'"
    ;;
  restore)
    [[ $# -ge 2 ]] || fail "$usage"
    snapshot=$(readlink -f "$2")
    members=${3:-$name=$peer_url}
    [[ -s $snapshot ]] || fail "snapshot $snapshot is missing or empty"
    [[ -f $parked/etcd.yaml ]] || fail "etcd still has its manifest in $manifests: run 'stop' on every control plane first"
    running etcd kube-apiserver && fail "etcd or the API server still runs: run 'stop' again"
    checksum=$(sha256sum "$snapshot" | cut -d' ' -f1)
    if [[ -f $marker && "$(cat "$marker")" == "$checksum" ]]; then
      log "member $name is already restored from this snapshot; run 'start' on every control plane"
      exit 0
    fi
    tool=$(restore_tool) || fail "$no_tool" # before any data moves
    # The current data is moved aside (kept, never deleted); a restore cut short leaves a partial directory, which
    # goes aside too.
    if [[ -d $data ]]; then
      aside="$data.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
      mv "$data" "$aside"
      log "previous data kept in $aside"
    fi
    restore_with "$tool" "$snapshot" "$members"
    printf '%s\n' "$checksum" >"$marker"
    log "member $name restored from $snapshot; run 'restore' on every control plane, then 'start'"
    ;;
  start)
    [[ -f $marker || ! -f $parked/etcd.yaml ]] || fail "member $name is not restored: run 'restore' first"
    unpark etcd.yaml
    wait_for running etcd
    unpark kube-apiserver.yaml
    for controller in "${CONTROLLERS[@]}"; do unpark "$controller.yaml"; done
    rmdir "$parked" 2>/dev/null || true
    # The kubelet drops what it cached of the old state and lists the restored one (Kubernetes' restore procedure).
    systemctl restart kubelet || fail "cannot restart the kubelet: run 'systemctl restart kubelet' here"
    log "member $name started; its API server answers once etcd has a quorum (every member started); restart the kubelet on every worker"
    ;;
  *) fail "$usage" ;;
esac
