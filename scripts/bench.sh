#!/usr/bin/env bash
# `make bench`: see scripts/bench.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node scripts/bench.mjs "$@"
