#!/usr/bin/env bash
# Runs the libFuzzer target for a bounded time, seeded with the end-to-end vectors.
# Usage: scripts/run-fuzz.sh FUZZ_BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/fuzz}
seconds=${2:-60}
vectors=build/release/e2e-vectors
[ -f "$vectors/cases.json" ] || node scripts/gen-e2e-vectors.mjs "$vectors" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
i=0
for dir in "$vectors"/*/; do
  [ -f "$dir/verification_key.json" ] || continue
  i=$((i + 1))
  { cat "$dir/verification_key.json"; printf '\0'; cat "$dir/proof.json"; printf '\0'; cat "$dir/public.json"; } \
    > "$work/corpus/seed$i"
  [ -n "${PROOFGATE_FUZZ_VKEY:-}" ] || export PROOFGATE_FUZZ_VKEY="$dir/verification_key.json"
done
echo "fuzz: ${seconds}s of snarkjs_verify_fuzz from $i seeds"
"$build/fuzz/snarkjs_verify_fuzz" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
  -print_final_stats=1 "$work/corpus" 2>&1 | tail -n 12
echo "fuzz: no crash in ${seconds}s"
