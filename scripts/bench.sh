#!/usr/bin/env bash
# `make bench`: see scripts/bench.mjs (the verifier against snarkjs, the arithmetic, proving) and
# scripts/bench-api.mjs (POST /api/v1/verify under load); both write build/bench/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/bench.mjs "$@"
node scripts/bench-store.mjs     # group commit on SQLite against one transaction per write (build/bench/report.md)
node scripts/bench-api.mjs
node scripts/bench-cpu.mjs       # server CPU per verification split into the verify path's spans, and what tracing costs (build/bench/report.md)
node scripts/bench-webhooks.mjs  # webhook delivery latency and worker throughput (build/bench/report.md)
node scripts/bench-scale.mjs     # production topology (3 instances, haproxy, PostgreSQL, Redis) and 10 M proofs rows (build/bench/report.md)
node scripts/bench-tree.mjs       # the issuer's Merkle tree against circomlibjs's Poseidon (build/bench/report.md)
node scripts/bench-issuers.mjs    # revoke → refused at the verifier, and the enrolment round trip, on loopback (build/bench/report.md)
node bench/chain_gas.mjs          # verifyProof gas on anvil: our verifier, snarkjs's and the EVM floor (build/bench/report.md)
