# shellcheck shell=bash
# quietly LOGS NAME COMMAND...: runs a slow build with its own output (the go command prints a line per module it
# downloads) in LOGS/NAME.log, and prints a line at least every QUIET_INTERVAL (30) seconds saying it still
# works, so that a cold build is never silent for minutes; on failure the log's end is shown and its status returned.
# COMMAND may be a shell function (it runs in a subshell). Sourced by scripts/engine-tools.
quietly() {
  local name=$2 log=$1/$2.log start=$SECONDS pid rc=0 waited interval=${QUIET_INTERVAL:-30}
  mkdir -p "$1"
  shift 2
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    # Short sleeps: a build that ends is noticed within a second.
    for ((waited = 0; waited < interval; waited++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    ! kill -0 "$pid" 2>/dev/null || echo "    ... $name: still building ($((SECONDS - start)) s; log $log)"
  done
  wait "$pid" || rc=$?
  if ((rc != 0)); then
    echo "$name: the build failed (exit $rc); the end of $log:" >&2
    tail -n 40 "$log" >&2
  fi
  return "$rc"
}
