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
# Three targets share the time: the snarkjs documents through verification (1/2), the
# POST /api/v1/verify body decoder (1/4), seeded with bodies built from the same vectors, and the
# upload parsers (1/4: multipart bodies, the zkey's key and contribution record), seeded with a
# multipart body and the vectors' zkeys.
first=$((seconds / 2))
second=$((seconds / 4))
third=$((seconds - first - second))
echo "fuzz: ${first}s of snarkjs_verify_fuzz from $i seeds"
"$build/fuzz/snarkjs_verify_fuzz" -max_total_time="$first" -max_len=16384 -timeout=10 \
  -print_final_stats=1 "$work/corpus" 2>&1 | tail -n 12
mkdir -p "$work/bodies"
j=0
for dir in "$vectors"/*/; do
  [ -f "$dir/proof.json" ] || continue
  j=$((j + 1))
  { printf '{"claim_type":"age_over_18","circuit_version":"1.0.0","proof":'; cat "$dir/proof.json"
    printf ',"public_signals":'; cat "$dir/public.json"
    printf ',"request":{"nonce":"AAAAAAAAAAAAAAAAAAAAAA","verifier_domain":"bank.example"}}'; } > "$work/bodies/seed$j"
done
echo "fuzz: ${second}s of verify_request_fuzz from $j seeds"
"$build/fuzz/verify_request_fuzz" -max_total_time="$second" -max_len=16384 -timeout=10 \
  -print_final_stats=1 "$work/bodies" 2>&1 | tail -n 12
mkdir -p "$work/uploads"
k=0
for zkey in "$vectors"/*/build/*.zkey; do
  [ -f "$zkey" ] || continue
  k=$((k + 1))
  { printf '\001'; cat "$zkey"; } > "$work/uploads/key$k"
  { printf '\002'; cat "$zkey"; } > "$work/uploads/record$k"
done
printf '\000--b\r\nContent-Disposition: form-data; name="manifest.json"; filename="m"\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--b--\r\n' \
  > "$work/uploads/multipart"
echo "fuzz: ${third}s of upload_parsers_fuzz from $((2 * k + 1)) seeds"
"$build/fuzz/upload_parsers_fuzz" -max_total_time="$third" -max_len=16384 -timeout=10 \
  -print_final_stats=1 "$work/uploads" 2>&1 | tail -n 12
echo "fuzz: no crash in ${seconds}s"
