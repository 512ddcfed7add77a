#!/usr/bin/env bash
# Waits until the API answers /readyz through the load-balanced endpoint, within a bounded number of attempts.
# Inputs (generated header): ROOT, ENDPOINT (host:port), ATTEMPTS, INTERVAL_SECONDS.
# shellcheck disable=SC2154
set -euo pipefail

for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  if curl -fsSk --max-time 5 "https://$ENDPOINT/readyz" >/dev/null; then
    log "API ready at $ENDPOINT after $attempt attempt(s)"
    exit 0
  fi
  sleep "$INTERVAL_SECONDS"
done
fail "API at $ENDPOINT not ready after $ATTEMPTS attempts"
