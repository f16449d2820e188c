#!/usr/bin/env bash
# `make demo`: makes Groth16 proofs with the project's test circuits (circom2 + snarkjs,
# DEVELOPMENT-ONLY ceremony) and checks them with proofgate: a valid proof, a proof whose public
# signal was changed, a coordinate >= p (which snarkjs silently reduces), a key with no phase-2
# contribution, and the timing of one verification. Then a claim end to end: the age_over_18
# circuit, a new holder, a sandbox MOHA credential, a proof request, the wallet's proof and
# proofgate's verdict.
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

# A claim end to end: holder, credential, request, wallet proof, proofgate verification.
demo=build/release/demo
artifacts=build/release/artifacts
mkdir -p "$demo"
echo
echo "# the claim circuits (DEVELOPMENT-ONLY ceremony; the first build takes about 4 minutes)"
node scripts/build-circuits.mjs "$artifacts" | tail -n 1
rm -f "$demo/holder.json"
echo
echo "\$ wallet init --out $demo/holder.json"
node clients/wallet/bin/wallet.mjs init --out "$demo/holder.json"
node scripts/demo-credential.mjs "$demo/holder.json" "$demo/credential.json"
today=$(date -u +%Y%m%d)
nonce=$(node -e "console.log(require('crypto').randomBytes(16).toString('base64url'))")
cat > "$demo/request.json" <<JSON
{"nonce":"$nonce","verifier_domain":"bank.example","claim_type":"age_over_18","circuit_version":"1.0.0","params":{"today":$today}}
JSON
echo "\$ wallet prove --holder holder.json --credential credential.json --request request.json > verify-body.json"
node clients/wallet/bin/wallet.mjs prove --holder "$demo/holder.json" --credential "$demo/credential.json" \
  --request "$demo/request.json" --artifacts "$artifacts" > "$demo/verify-body.json"
node -e '
  const fs = require("fs"); const d = process.argv[1];
  const body = JSON.parse(fs.readFileSync(d + "/verify-body.json", "utf8"));
  fs.writeFileSync(d + "/proof.json", JSON.stringify(body.proof));
  fs.writeFileSync(d + "/public.json", JSON.stringify(body.public_signals));
  console.log("public signals (nullifier, root, binding, scope, today):", body.public_signals.map((s) => s.length > 14 ? s.slice(0, 12) + "…" : s).join(", "));
' "$demo"
echo "\$ proofgate verify --vkey age_over_18/1.0.0/verification_key.json --proof proof.json --public public.json"
"$bin" verify --vkey "$artifacts/age_over_18/1.0.0/verification_key.json" --proof "$demo/proof.json" \
  --public "$demo/public.json"
echo "exit $?"
