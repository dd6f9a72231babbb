#!/usr/bin/env bash
# Starts AgentAuth. With DATABASE_URL and REDIS_URL set (environment or .env): the worker in the background
# and the API in the foreground; stopping one stops both. With either unset: the embedded mode — the API
# alone (PGlite and/or in-process Redis; it runs the jobs itself), no separate worker (docs/dev-mode.md).
set -euo pipefail
cd "$(dirname "$0")/.."
is_set() {
  local name=$1
  if [ -n "${!name:-}" ]; then return 0; fi
  [ -f .env ] && grep -Eq "^[[:space:]]*${name}[[:space:]]*=[[:space:]]*[^[:space:]#]" .env
}
if ! is_set DATABASE_URL || ! is_set REDIS_URL; then
  exec node dist/apps/api/src/main.js
fi
node dist/apps/worker/src/main.js &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT INT TERM
node dist/apps/api/src/main.js
