// TESTS AND BENCHMARKS ONLY: a Groth16 verification key whose trapdoor is derived from a seed, and
// proofs forged with it for any public signals. Whoever knows alpha, beta, gamma, delta and the
// k_i behind a key can make a valid proof for any public signals (Groth, ePrint 2016/260 §3.2):
//   vk = (alpha G1, beta G2, gamma G2, delta G2, IC_i = k_i G1)
//   A = a G1, B = b G2, C = ((a b - alpha beta - gamma sum_i x_i k_i) / delta) G1   (x_0 = 1)
//   => e(A, B) = e(alpha, beta) e(sum_i x_i IC_i, gamma) e(C, delta).
// The verifier's work on such a proof is the same as on an honest one. Such a key must never be
// deployed: the server refuses the benchmarks' key by its digest (core/known_keys.hpp).
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/groth16.hpp"

namespace pg::testing {

/// A nonzero element of Fr derived from the seed: SHA-256("proofgate.bench.v1" 0 seed 0 label 0
/// context 0 counter), big-endian, the top three bits cleared (so below 2^253 < r); the counter
/// moves on in the (never seen) case of zero.
crypto::Fr derive(const std::string& seed, std::string_view label, std::string_view context);

/// The trapdoor of the key for `n` public signals, and the key.
struct Trapdoor {
  crypto::Fr alpha, beta, gamma, delta;
  std::vector<crypto::Fr> k;  // k[0..n]
  crypto::VerifyingKey vk;
};
Trapdoor make_trapdoor(const std::string& seed, std::size_t n);

/// A valid proof of `publics` under `t`'s key, from the prover's randomness a and b; with
/// `g1_table` (a fixed-base table of the G1 generator) the G1 multiplications use it.
crypto::Proof forge(const Trapdoor& t, const std::vector<crypto::Fr>& publics, const crypto::Fr& a,
                    const crypto::Fr& b, const crypto::FixedBaseTable* g1_table = nullptr);

/// snarkjs JSON: the verification key (with a `benchmark_only` label member) and a proof.
std::string verification_key_json(const Trapdoor& t, std::string_view label);
boost::json::object proof_json(const crypto::Proof& proof);
/// A canonical decimal.
std::string decimal(const crypto::Fr& x);

}  // namespace pg::testing
