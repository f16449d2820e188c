#!/usr/bin/env bash
# `make demo`: makes Groth16 proofs with the project's development circuits (circom2 + snarkjs,
# DEVELOPMENT-ONLY ceremony) and checks them with proofgate: a valid proof, a proof whose public
# signal was changed, a public signal >= r (which snarkjs silently reduces), a key with no
# phase-2 contribution, and the timing of one verification.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/proofgate
vectors=build/release/e2e-vectors
node scripts/gen-e2e-vectors.mjs "$vectors" | tail -n 1
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
