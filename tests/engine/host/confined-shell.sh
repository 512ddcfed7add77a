#!/usr/bin/env bash
# ForceCommand of an engine test host's sshd (tests/engine/hosts.py): what the engine sent runs with the host's
# stub commands first on PATH and nothing else of the caller's environment.
#   ForceCommand /usr/bin/env bash confined-shell.sh HOST_DIR
set -euo pipefail
host_dir=$1
exec env -i PATH="$host_dir/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$host_dir/home" LANG=C.UTF-8 \
  bash -c "$SSH_ORIGINAL_COMMAND"
