#!/usr/bin/env bash
# `make demo`: makes Groth16 proofs with the project's test circuits (circom2 + snarkjs,
# DEVELOPMENT-ONLY ceremony) and checks them with proofgate: a valid proof, a proof whose public
# signal was changed, a coordinate >= p (which snarkjs silently reduces), a key with no phase-2
# contribution, and the timing of one verification. Then the service end to end: `proofgate serve
# --demo` (demo partner, holder, sandbox issuer trees) and the three commands it prints — create a
# proof request, prove it with the wallet, verify it — run exactly as printed. Last, the real
# issuers (scripts/demo-issuers.mjs): three sandbox authorities, three issuer nodes and the verifier
# following their signed root feeds; a wallet enrolment with the code from the sandbox's SMS file, a
# proof `verified`, a revocation, and after the grace window STALE_ROOT on the old root.
#
# First it builds only what it needs, all at once: the `proofgate` target (not the test suites),
# the claim circuits and the verify command's test vectors (circom2 + snarkjs), each logging to
# build/release/demo-logs/. If one fails, the others are stopped and the demo fails with its log.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/proofgate
vectors=build/release/e2e-vectors
artifacts=build/release/artifacts
logs=build/release/demo-logs
jobs=${JOBS:-$(nproc)}

cmake --preset release >/dev/null
mkdir -p "$logs"
declare -A step_name step_log step_start
start_step() {  # start_step NAME LOG COMMAND...: in the background, in its own process group
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  step_name[$!]=$name
  step_log[$!]=$log
  step_start[$!]=$SECONDS
}
stop_steps() {
  local pid
  for pid in "${!step_name[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap stop_steps EXIT
echo "# building, in parallel (logs in $logs/)"
start_step "the proofgate binary" "$logs/proofgate.log" \
  cmake --build build/release -j"$jobs" --target proofgate
start_step "the claim circuits (DEVELOPMENT-ONLY ceremony)" "$logs/circuits.log" \
  node scripts/build-circuits.mjs "$artifacts"
start_step "the test vectors" "$logs/vectors.log" node scripts/gen-e2e-vectors.mjs "$vectors"
while ((${#step_name[@]})); do
  status=0
  wait -n -p finished "${!step_name[@]}" || status=$?
  name=${step_name[$finished]}
  log=${step_log[$finished]}
  took=$((SECONDS - step_start[$finished]))
  unset "step_name[$finished]"
  if ((status != 0)); then
    echo "demo: building $name failed (exit $status) after ${took} s; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  echo "built $name in ${took} s: $(tail -n 1 "$log")"
done
trap - EXIT

dir=$vectors/mixed_3pub
cases=$dir/cases

verify() {  # verify TITLE VKEY PROOF PUBLIC
  echo
  echo "# $1"
  echo "\$ proofgate verify --vkey ${2#"$vectors"/} --proof ${3#"$vectors"/} --public ${4#"$vectors"/}"
  set +e
  "$bin" verify --vkey "$2" --proof "$3" --public "$4" 2>&1
  local code=$?
  set -e
  echo "exit $code"
}

verify "a valid proof (exit 0)" "$dir/verification_key.json" "$dir/proof.json" "$dir/public.json"
verify "the same proof with a public signal changed (exit 1)" "$dir/verification_key.json" \
  "$dir/proof.json" "$cases/tampered_public_first.public.json"
verify "pi_a's x plus p: snarkjs reduces it and says valid; proofgate refuses (exit 2)" \
  "$dir/verification_key.json" "$cases/pi_a_x_plus_p.proof.json" "$dir/public.json"
verify "a key whose delta equals gamma, with a proof forged for it (exit 2)" \
  "$cases/vk_delta_equal_to_gamma_forged_proof.vkey.json" \
  "$cases/vk_delta_equal_to_gamma_forged_proof.proof.json" "$dir/public.json"
echo
echo "# one verification, timed"
"$bin" bench --vkey "$dir/verification_key.json" --proof "$dir/proof.json" --public "$dir/public.json" \
  --iterations 200 --batch 64

# The service end to end: `proofgate serve --demo` sets up a demo partner, holder and sandbox
# issuer trees and prints three commands; they are run here exactly as printed.
data=build/release/demo-data
rm -rf "$data"
mkdir -p "$data"
echo
echo "\$ proofgate serve --listen 127.0.0.1:0 --data-dir $data --artifacts-dir $artifacts --demo"
"$bin" serve --listen 127.0.0.1:0 --data-dir "$data" --artifacts-dir "$artifacts" --demo \
  > "$data/requests.log" 2> "$data/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '/api/v1/verify$' "$data/server.log" 2>/dev/null && break
  sleep 0.1
done
grep -v '"level"' "$data/server.log"
commands=$(sed -n '/^Try it/,$p' "$data/server.log" | tail -n +2)
echo "# running the three commands"
bash -euo pipefail -c "$commands"
echo
echo "request: $(node -p 'const r = require(process.argv[1]); `${r.claim_type} ${r.circuit_version} nonce ${r.nonce} today ${r.params.today}`' "$PWD/$data/demo/request.json")"
echo
kill -TERM "$server"
wait "$server"
echo "server stopped (SIGTERM); its request log: $data/requests.log"

# The operators' console: an approver account on the same data directory, enrolled from a one-time
# link (valid 24 h) once the server runs again on port 8080 (docs/admin.md, "The web console").
echo
echo "\$ proofgate admin create-admin --email demo-admin@proofgate.example --role approver --data-dir $data --public-url http://127.0.0.1:8080"
enrolment=$("$bin" admin create-admin --email demo-admin@proofgate.example --role approver \
  --data-dir "$data" --public-url http://127.0.0.1:8080)
echo "$enrolment"
echo "console: http://127.0.0.1:8080/console — start the server again with"
echo "  $bin serve --listen 127.0.0.1:8080 --data-dir $data --artifacts-dir $artifacts --demo"
echo "then open the enrolment link: $(node -p 'JSON.parse(process.argv[1]).enrolment_link' "$enrolment")"

# The real thing: the issuers as separate processes, enrolment, verify, revocation (docs/issuers.md).
echo
echo "# the issuers end to end: node scripts/demo-issuers.mjs build/release/demo-issuers"
PROOFGATE_BIN="$bin" PROOFGATE_ARTIFACTS="$artifacts" node scripts/demo-issuers.mjs build/release/demo-issuers
