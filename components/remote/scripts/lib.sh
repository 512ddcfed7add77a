# shellcheck shell=bash
# Helpers shared by every host script; the renderer places this after the generated inputs header.
# Every path goes through "$ROOT" (empty on real hosts, a sandbox directory in tests).

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# write_file PATH MODE CONTENT [CHECK...]: replaces PATH atomically when its content differs; returns 0 when it
# changed. With CHECK, the new file (its path appended to CHECK) must pass it first, or PATH stays as it was.
write_file() {
  local path=$1 mode=$2 content=$3 tmp
  shift 3
  if [[ -f $path ]] && [[ "$(cat "$path")" == "$content" ]]; then
    return 1
  fi
  # Called as a condition, this function runs without `set -e`: every command checks its own result.
  mkdir -p "$(dirname "$path")" || fail "cannot create the folder of ${path#"$ROOT"}"
  tmp=$(mktemp "$path.XXXXXX") || fail "cannot write next to ${path#"$ROOT"}"
  if ! printf '%s\n' "$content" >"$tmp" || ! chmod "$mode" "$tmp"; then
    rm -f "$tmp"
    fail "cannot write ${path#"$ROOT"}"
  fi
  if (($#)) && ! "$@" "$tmp" >&2; then
    rm -f "$tmp"
    fail "the new ${path#"$ROOT"} was rejected by $1; the running configuration is untouched"
  fi
  mv -f "$tmp" "$path" || fail "cannot replace ${path#"$ROOT"}"
  log "wrote ${path#"$ROOT"}"
  return 0
}

# package_version NAME: the installed version of a Debian package, empty when it is not installed. Held or not
# (dpkg abbreviates a held installed package "hi", not "ii"; its status word is "installed" either way).
package_version() {
  dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "installed" { print $2 }'
}

# etcd_image: the etcd image this control plane runs (kubeadm's choice for the cluster's version).
etcd_image() {
  local image
  image=$(awk '$1 == "image:" { print $2; exit }' "$ROOT/etc/kubernetes/manifests/etcd.yaml")
  [[ -n $image ]] || fail "no image in /etc/kubernetes/manifests/etcd.yaml"
  printf '%s\n' "$image"
}

# etcdctl_here [--mount SPEC]... ARGS...: etcdctl against this control plane's etcd, from the cluster's own etcd
# image through containerd (hosts have no etcdctl), with the etcd certificates and any extra mounts.
etcdctl_here() {
  local image mounts=()
  while [[ ${1:-} == --mount ]]; do
    mounts+=(--mount "$2")
    shift 2
  done
  image=$(etcd_image) || return 1
  # stdin from /dev/null: `ctr run` copies its stdin into the container, and a step's script arrives on bash's stdin
  # (`bash -s`): the real ctr swallowed the rest of the script, which then ended here with success, unseen.
  ctr --namespace k8s.io run --rm --net-host </dev/null \
    --mount "type=bind,src=$ROOT/etc/kubernetes/pki/etcd,dst=/etc/kubernetes/pki/etcd,options=rbind:ro" \
    "${mounts[@]}" "$image" "k8s-platform-etcdctl-$$" etcdctl --endpoints https://127.0.0.1:2379 \
    --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/peer.crt \
    --key /etc/kubernetes/pki/etcd/peer.key "$@"
}

# drain_node KUBECONFIG NODE TIMEOUT STAYS: cordons and drains NODE through the eviction API (PodDisruptionBudgets
# hold) within TIMEOUT; when it cannot finish, fails naming the pods still on it: the node stays cordoned and STAYS.
drain_node() {
  local kubeconfig=$1 node=$2 timeout=$3 stays=$4 pods
  if ! kubectl --kubeconfig "$kubeconfig" drain "$node" --ignore-daemonsets --delete-emptydir-data \
    --timeout "$timeout" >&2; then
    pods=$(kubectl --kubeconfig "$kubeconfig" get pods --all-namespaces --field-selector "spec.nodeName=$node" \
      -o 'jsonpath={range .items[*]}{.metadata.namespace}{"/"}{.metadata.name}{" "}{end}' || true)
    fail "node $node could not be drained within $timeout (pods still on it: ${pods:-unknown}); it stays cordoned and $stays: free it (PodDisruptionBudgets, stuck pods) and run pulumi up again"
  fi
}

# take_node_out KUBECONFIG NODE ROLE TIMEOUT STAYS: the order in which a node leaves the cluster, harmless when it
# has left already. Drains NODE (drain_node) when it is Ready, cordons it otherwise (a dead node's pods are
# rescheduled once its Node is gone); for a control plane removes its etcd member, but only when the members that
# stay hold a quorum of the smaller cluster on their own (NODE's may be dead), and not at all when it is the last
# one (the cluster goes with it); then deletes the Node.
take_node_out() {
  local kubeconfig=$1 node=$2 role=$3 timeout=$4 stays=$5 ready listed member client left healthy
  if kubectl --kubeconfig "$kubeconfig" get node "$node" >/dev/null 2>&1; then
    ready=$(kubectl --kubeconfig "$kubeconfig" get node "$node" \
      -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
    if [[ $ready == True ]]; then
      drain_node "$kubeconfig" "$node" "$timeout" "$stays"
    else
      kubectl --kubeconfig "$kubeconfig" cordon "$node" >&2
      log "node $node is not Ready (${ready:-unknown}): cordoned, not drained"
    fi
  fi
  if [[ $role == control-plane ]]; then
    # `member list` prints "id, status, name, peer URLs, client URLs, learner" per member.
    listed=$(etcdctl_here member list) || fail "cannot list the etcd members; nothing removed"
    read -r member client < <(awk -F', ' -v n="$node" '$3 == n { print $1, $5 }' <<<"$listed") || true
    # Counted only when NODE is a member: `grep -c` of no lines exits 1, which `set -e` would take for a failure.
    [[ -z ${member:-} ]] || left=$(($(grep -c . <<<"$listed") - 1))
    if [[ -n ${member:-} ]] && ((left == 0)); then
      # The cluster's last member (a destroy): there is no cluster left to keep a quorum for.
      log "etcd member $member ($node) is the cluster's last: it goes with the cluster"
    elif [[ -n ${member:-} ]]; then
      healthy=$(etcdctl_here endpoint health --cluster 2>&1 |
        awk -v c="$client" '$2 == "is" && $3 == "healthy:" && $1 != c' | grep -c . || true)
      ((healthy >= left / 2 + 1)) ||
        fail "only $healthy of the $left etcd members that would stay are healthy: $node's member stays"
      etcdctl_here member remove "$member" >&2
      log "etcd member $member ($node) removed; $left left, $healthy healthy"
    fi
  fi
  kubectl --kubeconfig "$kubeconfig" delete node "$node" --ignore-not-found >&2
  log "node $node removed from the cluster"
}

# packages_exclusive: our package changes on this host one at a time until this script exits (descriptor 7): two steps
# of ours may run on one host at once (a control plane that holds the API's virtual IP installs haproxy while its
# install step installs containerd), and dpkg refuses a second one outright. Anything else holding dpkg's lock (an
# unattended upgrade on a machine that just booted) is waited for up to 10 minutes by apt itself (DPkg::Lock::Timeout).
packages_exclusive() {
  local state="$ROOT/etc/kubernetes/k8s-platform"
  mkdir -p "$state"
  exec 7>"$state/packages.lock"
  flock -w 1200 7 || fail "another step of ours has changed packages on this host for 20 minutes"
  write_file "$ROOT/etc/apt/apt.conf.d/80-k8s-platform" 644 'DPkg::Lock::Timeout "600";' >/dev/null || true
}

# folder_has_content PATH: PATH holds something other than the kubelet package's own `.kubelet-keep` (the Debian
# package ships one in /etc/kubernetes/manifests and /var/lib/kubelet, dpkg keeping no empty folder): something a
# run of kubeadm left.
folder_has_content() {
  [[ -n "$(find "$1" -mindepth 1 -maxdepth 1 ! -name .kubelet-keep -print -quit 2>/dev/null)" ]]
}

require_ubuntu_or_debian() {
  local os_id=""
  [[ -r "$ROOT/etc/os-release" ]] || fail "cannot read /etc/os-release"
  os_id=$(awk -F= '$1 == "ID" { gsub(/"/, "", $2); print $2 }' "$ROOT/etc/os-release")
  case "$os_id" in
    ubuntu | debian) ;;
    *) fail "unsupported operating system '${os_id:-unknown}': hosts must run Ubuntu or Debian" ;;
  esac
}

# redact_kubeadm_output: copies stdin to stdout without any credential kubeadm prints. kubeadm names its bootstrap
# token on the line that holds it, prints the certificate key alone on the line after "Using certificate key:", and
# join commands over several lines, each but the last ending in a backslash. Dropped: every line that names a token,
# a certificate key or a CA certificate hash (the name of kubeadm's phase "bootstrap-token" aside), holds a bootstrap
# token (xxxxxx.yyyyyyyyyyyyyyyy) or a join command, or is nothing but hex digits; and every line that continues a
# dropped one (after a backslash) or that a dropped one announces (after a colon). A run of dropped lines becomes one
# "[redacted: N line(s)]". In the lines left, any run of 64 or more hex digits (a key, a hash) becomes [redacted].
redact_kubeadm_output() {
  local line lower named hex withheld=0 continued=0
  local names='token|certificate[-_ ]?key|ca-?cert-?hash|kubeadm join'
  local bootstrap_token='[a-z0-9]{6}\.[a-z0-9]{16}' only_hex='^[[:space:]]*[0-9a-f]{32,}[[:space:]]*$'
  local hex_run='[0-9A-Fa-f]{64,}' announces='[\:][[:space:]]*$'
  while IFS= read -r line || [[ -n $line ]]; do
    lower=${line,,}
    named=${lower//"[bootstrap-token]"/}
    named=${named//"phase bootstrap-token"/}
    if ((continued)) || [[ $named =~ $names || $lower =~ $bootstrap_token || $lower =~ $only_hex ]]; then
      withheld=$((withheld + 1))
      if [[ $line =~ $announces ]]; then continued=1; else continued=0; fi
      continue
    fi
    if ((withheld)); then
      printf '[redacted: %d line(s)]\n' "$withheld"
      withheld=0
    fi
    while [[ $line =~ $hex_run ]]; do
      hex=${BASH_REMATCH[0]}
      line=${line//"$hex"/"[redacted]"}
    done
    printf '%s\n' "$line"
  done
  if ((withheld)); then
    printf '[redacted: %d line(s)]\n' "$withheld"
  fi
}

# new_log LOG: an empty log only root can read (kubeadm's output holds credentials).
new_log() {
  : >"$1"
  chmod 600 "$1"
}

# show_log_and_fail LOG WHAT: LOG's last lines with every credential taken out (redact_kubeadm_output), then fails.
show_log_and_fail() {
  redact_kubeadm_output <"$1" | tail -n 20 >&2 || true
  fail "$2 failed; full log (root only): ${1#"$ROOT"}"
}

# run_logged LOG WHAT COMMAND...: runs COMMAND with all its output in LOG (kubeadm prints join commands with their
# tokens); on failure shows LOG's last lines without anything that looks like a credential, and fails.
run_logged() {
  local log_file=$1 what=$2
  shift 2
  new_log "$log_file"
  if ! "$@" >"$log_file" 2>&1; then
    show_log_and_fail "$log_file" "$what"
  fi
}

# run_logged_output LOG WHAT COMMAND...: run_logged for a command whose output is its result (a token, a key): the
# output goes to stdout, for the caller to capture, and only the command's messages to LOG.
run_logged_output() {
  local log_file=$1 what=$2
  shift 2
  new_log "$log_file"
  if ! "$@" 2>"$log_file"; then
    show_log_and_fail "$log_file" "$what"
  fi
}

# write_kubeadm_inputs STATE_DIR CONFIG_NAME: the kubeadm config (root only) and this node's kubelet patch.
write_kubeadm_inputs() {
  local state_dir=$1 config_name=$2
  umask 077
  mkdir -p "$state_dir" "$ROOT/etc/kubernetes/patches"
  write_file "$state_dir/$config_name" 600 "$KUBEADM_CONFIG" || true
  write_file "$ROOT/etc/kubernetes/patches/$PATCH_FILE" 600 "$KUBELET_PATCH" || true
}

# static_pods_lock: waits (15 minutes at most) until no other program of ours restarts or rewrites this control
# plane's static pods (the certificate renewal and its daily timer, an upgrade), then holds them until this script
# exits (file descriptor 9).
static_pods_lock() {
  local state="$ROOT/etc/kubernetes/k8s-platform"
  mkdir -p "$state"
  exec 9>"$state/static-pods.lock"
  flock -w 900 9 || fail "another program of ours holds $state/static-pods.lock (a certificate renewal?) for 15 minutes"
}


# static_pods_exclusive: static_pods_lock, then puts back a manifest a certificate renewal cut short left out of the
# kubelet's folder, so that what follows sees (and an upgrade rewrites) every component. Called as a condition
# nowhere: `set -e` holds.
static_pods_exclusive() {
  local held
  static_pods_lock
  for held in "$ROOT/etc/kubernetes/k8s-platform/held-manifests"/*.yaml; do
    [[ -f $held ]] || continue
    log "putting back $(basename "$held"), which a certificate renewal cut short left out"
    mv -f "$held" "$ROOT/etc/kubernetes/manifests/"
  done
}
