#!/usr/bin/env bash
# Starts AgentAuth. With DATABASE_URL and REDIS_URL set (environment or .env): the worker and the API side by
# side; stopping one stops both. If either exits on its own (a crash, a kill), the other is stopped
# gracefully and the script exits non-zero. Ctrl-C (or SIGTERM to this script) stops both gracefully: each
# finishes what it is doing (running jobs, in-flight requests). With either URL unset: the embedded mode —
# the API alone (PGlite and/or in-process Redis; it runs the jobs itself), no separate worker
# (docs/dev-mode.md).
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

worker=
api=
# SIGTERM to whichever still runs, then wait for both (a Ctrl-C reached them too; each closes once and exits
# 0 when it closed cleanly). stopped_status: 0 when both stopped cleanly, else the first failure.
stopped_status=0
stop_both() {
  for pid in $worker $api; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $worker $api; do
    local code=0
    wait "$pid" 2>/dev/null || code=$?
    # 127: already reaped; 130/143: ended by the very signal that asked for the stop (a Ctrl-C that reached it
    # before its handler ran, or a `wait` cut short by the signal) — still the stop that was asked for.
    case "$code" in 0 | 127 | 130 | 143) ;; *) [ "$stopped_status" -eq 0 ] && stopped_status=$code ;; esac
  done
}
# A requested stop that went cleanly is a success: `make run` then ends without "make: *** [run] Error 130".
# (A process already stopping after the Ctrl-C ignores the SIGTERM: stopOnSignals in libs/core.)
trap 'stop_both; exit $stopped_status' INT TERM

node dist/apps/worker/src/main.js &
worker=$!
node dist/apps/api/src/main.js &
api=$!

# Portable stand-in for `wait -n` (bash 3.2): a background sleep keeps the traps responsive.
while kill -0 "$worker" 2>/dev/null && kill -0 "$api" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done

if kill -0 "$worker" 2>/dev/null; then exited=api; gone=$api; else exited=worker; gone=$worker; fi
status=0
wait "$gone" || status=$?
echo "run-all: the $exited exited (status $status); stopping the other process" >&2
stop_both
if [ "$status" -eq 0 ]; then status=1; fi
exit "$status"
