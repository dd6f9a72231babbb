#!/usr/bin/env bash
# Starts the worker in the background and the API in the foreground; stopping one stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
node dist/apps/worker/src/main.js &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT INT TERM
node dist/apps/api/src/main.js
