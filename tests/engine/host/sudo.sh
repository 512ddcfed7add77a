#!/usr/bin/env bash
# `sudo` on an engine test host: runs a host step against the host's sandbox root. The step sees that root through
# its ROOT input (the rendered `readonly ROOT=''` line, empty on real hosts, points at it) and the sandbox's stub
# system commands come first on PATH. Each call is recorded: its command line, and when its step started and ended.
set -euo pipefail
host_dir=$(cd "$(dirname "$0")/.." && pwd)
if [[ ${1:-} != bash || ! ${2:-} =~ ^-(s|c)$ ]]; then
  echo "confined sudo: only 'bash -s' and 'bash -c SCRIPT'" >&2
  exit 2
fi
printf '%s\n' "$*" >>"$host_dir/command-lines.log"
if [[ $2 == -s ]]; then
  script=$(cat)
else
  script=$3
fi
name=$(sed -n "s/^readonly SCRIPT_NAME=//p" <<<"$script" | head -n 1)
node=$(sed -n "s/^readonly NODE_NAME=//p" <<<"$script" | head -n 1)
if [[ -n $node && $node != "$(basename "$host_dir")" ]]; then
  name="$name:$node" # a step run here for another node (a drain on the first control plane)
fi
name=${name:-unnamed}
script=${script/"readonly ROOT=''"/"readonly ROOT='$host_dir/root'"}
printf '%s start %s %s\n' "$(date +%s.%N)" "$name" "$2" >>"$host_dir/steps.log"
status=0
if [[ $2 == -s ]]; then
  bash -s <<<"$script" || status=$?
else
  bash -c "$script" || status=$?
fi
printf '%s end %s %s %s\n' "$(date +%s.%N)" "$name" "$2" "$status" >>"$host_dir/steps.log"
exit "$status"
