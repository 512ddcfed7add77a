#!/usr/bin/env bash
# Runs on the machine that runs Pulumi before the first step on a host (the command provider's local Command
# <host>-reachable): waits until the host answers over SSH, as a machine that is still booting does after a while,
# and fails at once, naming the host and the cause, when waiting cannot help: a host key other than the pinned one,
# or the key refused. The remote steps' own dials are few (components/remote/runner.py): the provider retries every
# failure alike, a wrong host key as long as a refused port, so patience lives here, where the two differ.
# ANSWER_SECONDS bounds the wait for an answer; KEY_SECONDS gives a machine that answers that long to accept the key
# (cloud-init installs it while the machine boots; 0 on hosts that are up already). Each try is bounded by
# CONNECT_TIMEOUT and runs `true`; tries are TRY_INTERVAL seconds apart. The client's setup is ssh-client-lib.sh's.
# Inputs (generated header): NODE_NAME, ANSWER_SECONDS, KEY_SECONDS, TRY_INTERVAL.
# shellcheck disable=SC2154
set -euo pipefail

ssh_client_start "$((ANSWER_SECONDS + 60))" || fail "$ssh_client_problem"
via=""
[[ -z $PROXY_HOST ]] || via=" through the bastion $PROXY_USER@$PROXY_HOST:$PROXY_PORT"
target="$NODE_NAME ($USER@$HOST:$PORT$via)"
started=$SECONDS
answered=""
last=""
while true; do
  if timeout --kill-after=5 "$((CONNECT_TIMEOUT + 30))" ssh "${ssh_options[@]}" "$USER@$HOST" true \
    </dev/null 2>"$ssh_client_work/err"; then
    log "$target answers over SSH after $((SECONDS - started)) s"
    exit 0
  fi
  last=$(grep -v '^Warning: Permanently added' "$ssh_client_work/err" | tail -n 3 | tr '\n' ' ')
  if grep -q "REMOTE HOST IDENTIFICATION HAS CHANGED\|Host key verification failed" "$ssh_client_work/err"; then
    fail "$target offers an SSH host key other than the one pinned for it (hostKey in the stack's settings): another machine, or this one re-imaged; check it, then pin the key it offers (ssh-keyscan). ssh said: $last"
  fi
  if grep -q "Permission denied" "$ssh_client_work/err"; then
    [[ -n $answered ]] || answered=$SECONDS
    if ((SECONDS - answered >= KEY_SECONDS)); then
      fail "$target refuses the SSH key (the stack's sshPrivateKey) for user $USER: authorize its public key there, or set the key it accepts. ssh said: $last"
    fi
  fi
  if ((SECONDS - started + TRY_INTERVAL > ANSWER_SECONDS)); then
    fail "$target did not answer over SSH within $ANSWER_SECONDS s. ssh said: $last"
  fi
  sleep "$TRY_INTERVAL"
done
