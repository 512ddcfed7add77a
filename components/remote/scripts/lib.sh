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
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  if (($#)) && ! "$@" "$tmp" >&2; then
    rm -f "$tmp"
    fail "the new ${path#"$ROOT"} was rejected by $1; the running configuration is untouched"
  fi
  mv -f "$tmp" "$path"
  log "wrote ${path#"$ROOT"}"
  return 0
}

# package_version NAME: the installed version of a Debian package, empty when it is not installed.
package_version() {
  dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "ii" { print $2 }'
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

# run_logged LOG WHAT COMMAND...: runs COMMAND with all its output in LOG (kubeadm prints join commands with their
# tokens); on failure shows LOG's last lines without anything that looks like a credential, and fails.
run_logged() {
  local log_file=$1 what=$2
  shift 2
  if ! "$@" >"$log_file" 2>&1; then
    grep -v -i -E 'token|certificate-key|discovery' "$log_file" | tail -n 20 >&2 || true
    fail "$what failed; full log (root only): ${log_file#"$ROOT"}"
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
