// The layout of the generated Poseidon tables (src/crypto/poseidon_constants.cpp, written by
// scripts/gen-poseidon-constants.mjs from circomlibjs). Internal to the Poseidon implementation.
#pragma once

#include <cstddef>

#include "crypto/uint256.hpp"

namespace pg::crypto::detail {

/// circomlib's Poseidon takes 1..16 inputs (state width t = inputs + 1 = 2..17).
inline constexpr std::size_t kPoseidonMaxInputs = 16;
inline constexpr std::size_t kPoseidonFullRounds = 8;

/// The optimized constants of one width, all in Montgomery form (see poseidon.circom's
/// PoseidonEx for how each table is used).
struct PoseidonParams {
  std::size_t t;               ///< state width, 2..17
  std::size_t partial_rounds;  ///< N_ROUNDS_P[t - 2]
  const Limbs* c;              ///< round constants, 8t + partial_rounds entries
  const Limbs* s;              ///< sparse partial-round matrices, partial_rounds * (2t - 1)
  const Limbs* m;              ///< MDS matrix, t * t, m[j * t + i] = M[j][i]
  const Limbs* p;              ///< pre-sparse matrix for the middle full round, t * t
};

/// Index t - 2 holds width t.
extern const PoseidonParams kPoseidonParams[kPoseidonMaxInputs];

}  // namespace pg::crypto::detail
