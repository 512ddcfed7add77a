# Helpers shared by every host script; the renderer places this after the generated inputs header.
# Every path goes through "$ROOT" (empty on real hosts, a sandbox directory in tests).

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# write_file PATH MODE CONTENT: replaces PATH atomically when its content differs; returns 0 when it changed.
write_file() {
  local path=$1 mode=$2 content=$3 tmp
  if [[ -f $path ]] && [[ "$(cat "$path")" == "$content" ]]; then
    return 1
  fi
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
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
