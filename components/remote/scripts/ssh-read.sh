#!/usr/bin/env bash
# Runs on the machine that runs Pulumi, at every preview and update (the command provider's local.run, an invoke):
# runs a read-only script (REMOTE_SCRIPT) as root on a host over SSH and prints what it prints. The private key
# comes on stdin and stays in memory: an ssh-agent of this run holds it and is killed on exit. The host keys are
# pinned when known, as the remote steps pin them. A host that cannot be read is no error here (a dead control plane
# must not stop the update that replaces it): the output is then {"unavailable": "<reason>"}. A read that takes
# longer than READ_TIMEOUT seconds is one. The client's setup is ssh-client-lib.sh's.
# Inputs (generated header): REMOTE_SCRIPT, READ_TIMEOUT.
# shellcheck disable=SC2154
set -euo pipefail

unavailable() {
  local reason
  reason=$(printf '%s' "$1" | tr -d '"\\' | tr -s '[:cntrl:]' ' ' | cut -c1-300)
  printf '{"unavailable": "%s"}\n' "$reason"
  exit 0
}
# The agent forgets the key after the read's time and a margin, should this run be killed.
ssh_client_start "$((READ_TIMEOUT + 30))" || unavailable "$ssh_client_problem"
status=0
# As root: directly when the user is root (a minimal Debian host has no sudo), else through sudo.
as_root='if [ "$(id -u)" = 0 ]; then exec bash -s; else exec sudo bash -s; fi'
timeout --kill-after=10 "$READ_TIMEOUT" ssh "${ssh_options[@]}" "$USER@$HOST" "$as_root" \
  <<<"$REMOTE_SCRIPT" >"$ssh_client_work/out" 2>"$ssh_client_work/err" || status=$?
if ((status == 124 || status == 137)); then
  unavailable "no answer within $READ_TIMEOUT s"
elif ((status != 0)); then
  unavailable "$(tail -n 3 "$ssh_client_work/err")"
fi
cat "$ssh_client_work/out"
