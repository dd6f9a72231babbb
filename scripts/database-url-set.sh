#!/usr/bin/env bash
# Prints "yes" when DATABASE_URL is set (environment first, then .env), "no" otherwise: the embedded mode.
cd "$(dirname "$0")/.."
if [ -n "${DATABASE_URL:-}" ]; then echo yes; exit 0; fi
if [ -f .env ] && grep -Eq '^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*[^[:space:]#]' .env; then echo yes; exit 0; fi
echo no
