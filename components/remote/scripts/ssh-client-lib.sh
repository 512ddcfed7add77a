# shellcheck shell=bash
# The OpenSSH client as the machine running Pulumi uses it to reach a host (ssh-read.sh, wait-for-ssh.sh): the
# private key from stdin held by an ssh-agent of this run (killed on exit, forgetting the key after
# AGENT_SECONDS), the host keys pinned when known (as the remote steps pin them), a bastion as ProxyCommand.
# ssh_client_start runs first (in the script's own shell, not a subshell); it fills `ssh_options` with everything
# `ssh ... "$USER@$HOST"` needs, or returns 1 with the reason in `ssh_client_problem`.
# Inputs (generated header): ROOT, HOST, PORT, USER, HOST_KEY, PROXY_HOST, PROXY_PORT, PROXY_USER, PROXY_HOST_KEY, CONNECT_TIMEOUT.
# ssh_client_problem and ssh_options are read by the scripts that come after this library.
# shellcheck disable=SC2154,SC2034

ssh_client_work=""
ssh_client_agent=""
ssh_client_problem=""
ssh_options=()
ssh_client_cleanup() {
  [[ -z $ssh_client_agent ]] || kill "$ssh_client_agent" 2>/dev/null || true
  [[ -z $ssh_client_work ]] || rm -rf "$ssh_client_work"
}

# known_hosts_line HOST PORT KEY: OpenSSH writes the default port's hosts bare, any other port as [host]:port.
known_hosts_line() {
  if [[ $2 == 22 ]]; then printf '%s %s\n' "$1" "$3"; else printf '[%s]:%s %s\n' "$1" "$2" "$3"; fi
}

ssh_hop_options() {
  local key=$1 known=$2
  printf '%s\n' -F /dev/null -o BatchMode=yes -o LogLevel=ERROR -o "ConnectTimeout=$CONNECT_TIMEOUT" \
    -o ServerAliveInterval=10 -o ServerAliveCountMax=3
  if [[ -n $key ]]; then
    printf '%s\n' -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$known"
  else # as the remote steps do without a pinned key: any key is accepted
    printf '%s\n' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  fi
}

# ssh_client_start AGENT_SECONDS: the agent holds the key read from stdin.
ssh_client_start() {
  local agent_env hop tool proxy=()
  for tool in ssh ssh-agent ssh-add timeout; do
    command -v "$tool" >/dev/null || {
      ssh_client_problem="$tool is not installed on the machine running Pulumi (OpenSSH client)"
      return 1
    }
  done
  trap ssh_client_cleanup EXIT
  ssh_client_work=$(mktemp -d)
  agent_env=$(ssh-agent -s -a "$ssh_client_work/agent") || { ssh_client_problem="ssh-agent did not start"; return 1; }
  eval "$agent_env" >/dev/null
  ssh_client_agent=${SSH_AGENT_PID:-}
  [[ -n $ssh_client_agent ]] || { ssh_client_problem="ssh-agent did not start"; return 1; }
  # `pulumi config set ... < key` strips the key's last newline, without which ssh-add refuses it: one is added.
  { cat; echo; } | ssh-add -q -t "$1" - 2>"$ssh_client_work/add.err" ||
    { ssh_client_problem="ssh-add refused the SSH private key: $(cat "$ssh_client_work/add.err")"; return 1; }
  [[ -z $HOST_KEY ]] || known_hosts_line "$HOST" "$PORT" "$HOST_KEY" >"$ssh_client_work/target.known_hosts"
  mapfile -t ssh_options < <(ssh_hop_options "$HOST_KEY" "$ssh_client_work/target.known_hosts")
  if [[ -n $PROXY_HOST ]]; then
    [[ -z $PROXY_HOST_KEY ]] ||
      known_hosts_line "$PROXY_HOST" "$PROXY_PORT" "$PROXY_HOST_KEY" >"$ssh_client_work/proxy.known_hosts"
    mapfile -t proxy < <(ssh_hop_options "$PROXY_HOST_KEY" "$ssh_client_work/proxy.known_hosts")
    printf -v hop '%q ' ssh "${proxy[@]}" -p "$PROXY_PORT" -W %h:%p "$PROXY_USER@$PROXY_HOST"
    ssh_options+=(-o "ProxyCommand=$hop")
  fi
  ssh_options+=(-p "$PORT")
}
