// Poseidon over Fr in the optimized form circomlib's poseidon.circom and circomlibjs's
// poseidon_opt.js use (the "sparse partial rounds" of filecoin-project/neptune, spec §A of
// eprint 2019/458): full rounds with the MDS matrix M, one full round mixed with the pre-sparse
// matrix P, partial rounds that each cost 2t - 1 multiplications with the sparse matrices S, and
// a last round that only computes the output word. Constants: poseidon_constants.cpp.
#include "crypto/poseidon.hpp"

#include <array>
#include <cassert>

#include "crypto/poseidon_constants.hpp"

namespace pg::crypto {
namespace {

static_assert(detail::kPoseidonMaxInputs == kPoseidonMaxInputs);

constexpr std::size_t kMaxWidth = kPoseidonMaxInputs + 1;
constexpr std::size_t kHalfFull = detail::kPoseidonFullRounds / 2;

using State = std::array<Fr, kMaxWidth>;

inline Fr constant(const Limbs& l) noexcept {
  return Fr::from_montgomery(l);
}

inline Fr pow5(const Fr& x) noexcept {
  const Fr x2 = x.square();
  return x2.square() * x;
}

/// state[i] = state[i]^5 + c[i] for i < t.
inline void sbox_full_add(State& state, std::size_t t, const Limbs* c) noexcept {
  for (std::size_t i = 0; i < t; ++i) state[i] = pow5(state[i]) + constant(c[i]);
}

/// state = state * m, i.e. state'[i] = sum_j m[j][i] * state[j] (circomlib's Mix).
inline void mix(State& state, std::size_t t, const Limbs* m) noexcept {
  State out;
  for (std::size_t i = 0; i < t; ++i) out[i] = constant(m[i]) * state[0];
  for (std::size_t j = 1; j < t; ++j) {
    const Limbs* row = m + j * t;
    for (std::size_t i = 0; i < t; ++i) out[i] += constant(row[i]) * state[j];
  }
  for (std::size_t i = 0; i < t; ++i) state[i] = out[i];
}

}  // namespace

Fr poseidon_hash(std::span<const Fr> inputs) noexcept {
  assert(!inputs.empty() && inputs.size() <= kPoseidonMaxInputs);
  const detail::PoseidonParams& prm = detail::kPoseidonParams[inputs.size() - 1];
  const std::size_t t = prm.t;
  const std::size_t np = prm.partial_rounds;
  const Limbs* c = prm.c;

  // Initial state [0, inputs...] plus the first round constants (circomlib's ark[0]).
  State state;
  state[0] = constant(c[0]);
  for (std::size_t i = 1; i < t; ++i) state[i] = inputs[i - 1] + constant(c[i]);
  c += t;

  // First half of the full rounds; the last of them mixes with P instead of M.
  for (std::size_t r = 0; r + 1 < kHalfFull; ++r, c += t) {
    sbox_full_add(state, t, c);
    mix(state, t, prm.m);
  }
  sbox_full_add(state, t, c);
  c += t;
  mix(state, t, prm.p);

  // Partial rounds: S-box on state[0] only, then the sparse matrix of this round, whose first
  // row (t entries) gives the new state[0] and whose next t - 1 entries update the rest.
  const Limbs* s = prm.s;
  for (std::size_t r = 0; r < np; ++r, s += 2 * t - 1) {
    const Fr x0 = pow5(state[0]) + constant(c[r]);
    Fr acc = constant(s[0]) * x0;
    for (std::size_t j = 1; j < t; ++j) acc += constant(s[j]) * state[j];
    for (std::size_t k = 1; k < t; ++k) state[k] += x0 * constant(s[t + k - 1]);
    state[0] = acc;
  }
  c += np;

  // Second half of the full rounds; the last adds no constant and only state[0] is kept.
  for (std::size_t r = 0; r + 1 < kHalfFull; ++r, c += t) {
    sbox_full_add(state, t, c);
    mix(state, t, prm.m);
  }
  Fr out = constant(prm.m[0]) * pow5(state[0]);
  for (std::size_t j = 1; j < t; ++j) out += constant(prm.m[j * t]) * pow5(state[j]);
  return out;
}

std::optional<Fr> poseidon_hash_checked(std::span<const Fr> inputs) noexcept {
  if (inputs.empty() || inputs.size() > kPoseidonMaxInputs) return std::nullopt;
  return poseidon_hash(inputs);
}

}  // namespace pg::crypto
