#!/usr/bin/env bash
# Runs on the machine that runs Pulumi, at every preview and update (the command provider's local.run, an invoke):
# runs a read-only script (REMOTE_SCRIPT) as root on a host over SSH and prints what it prints. The private key
# comes on stdin and stays in memory: an ssh-agent of this run holds it and is killed on exit. The host keys are
# pinned when known, as the remote steps pin them. A host that cannot be read is no error here (a dead control plane
# must not stop the update that replaces it): the output is then {"unavailable": "<reason>"}. A read that takes
# longer than READ_TIMEOUT seconds is one; the agent forgets the key after that long, should this run be killed.
# Inputs (generated header): ROOT, HOST, PORT, USER, HOST_KEY, PROXY_HOST, PROXY_PORT, PROXY_USER, PROXY_HOST_KEY, REMOTE_SCRIPT, CONNECT_TIMEOUT, READ_TIMEOUT.
# shellcheck disable=SC2154
set -euo pipefail

unavailable() {
  local reason
  reason=$(printf '%s' "$1" | tr -d '"\\' | tr -s '[:cntrl:]' ' ' | cut -c1-300)
  printf '{"unavailable": "%s"}\n' "$reason"
  exit 0
}
for tool in ssh ssh-agent ssh-add timeout; do
  command -v "$tool" >/dev/null || unavailable "$tool is not installed on the machine running Pulumi (OpenSSH client)"
done
work=$(mktemp -d)
agent=""
cleanup() {
  [[ -z $agent ]] || kill "$agent" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
agent_env=$(ssh-agent -s -a "$work/agent") || unavailable "ssh-agent did not start"
eval "$agent_env" >/dev/null
agent=${SSH_AGENT_PID:-}
[[ -n $agent ]] || unavailable "ssh-agent did not start"
# `pulumi config set ... < key` strips the key's last newline, without which ssh-add refuses it: one is added.
{ cat; echo; } | ssh-add -q -t "$((READ_TIMEOUT + 30))" - 2>"$work/add.err" || unavailable "ssh-add refused the SSH private key: $(cat "$work/add.err")"

# known_hosts_line HOST PORT KEY: OpenSSH writes the default port's hosts bare, any other port as [host]:port.
known_hosts_line() {
  if [[ $2 == 22 ]]; then printf '%s %s\n' "$1" "$3"; else printf '[%s]:%s %s\n' "$1" "$2" "$3"; fi
}
hop_options() {
  local key=$1 known=$2
  printf '%s\n' -F /dev/null -o BatchMode=yes -o LogLevel=ERROR -o "ConnectTimeout=$CONNECT_TIMEOUT" \
    -o ServerAliveInterval=10 -o ServerAliveCountMax=3
  if [[ -n $key ]]; then
    printf '%s\n' -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$known"
  else # as the remote steps do without a pinned key: any key is accepted
    printf '%s\n' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  fi
}
[[ -z $HOST_KEY ]] || known_hosts_line "$HOST" "$PORT" "$HOST_KEY" >"$work/target.known_hosts"
mapfile -t options < <(hop_options "$HOST_KEY" "$work/target.known_hosts")
if [[ -n $PROXY_HOST ]]; then
  [[ -z $PROXY_HOST_KEY ]] || known_hosts_line "$PROXY_HOST" "$PROXY_PORT" "$PROXY_HOST_KEY" >"$work/proxy.known_hosts"
  mapfile -t proxy < <(hop_options "$PROXY_HOST_KEY" "$work/proxy.known_hosts")
  printf -v hop '%q ' ssh "${proxy[@]}" -p "$PROXY_PORT" -W %h:%p "$PROXY_USER@$PROXY_HOST"
  options+=(-o "ProxyCommand=$hop")
fi
status=0
timeout --kill-after=10 "$READ_TIMEOUT" ssh "${options[@]}" -p "$PORT" "$USER@$HOST" "sudo bash -s" \
  <<<"$REMOTE_SCRIPT" >"$work/out" 2>"$work/err" || status=$?
if ((status == 124 || status == 137)); then
  unavailable "no answer within $READ_TIMEOUT s"
elif ((status != 0)); then
  unavailable "$(tail -n 3 "$work/err")"
fi
cat "$work/out"
