// Poseidon over Fr in the optimized form circomlib's poseidon.circom and circomlibjs's
// poseidon_opt.js use (the sparse partial rounds of eprint 2019/458's appendix on efficient
// implementation, as in filecoin-project/neptune): full rounds with the MDS matrix M, one full
// round mixed with the pre-sparse matrix P, partial rounds that each cost 2t - 1 multiplications
// with the sparse matrices S, and a last round that only computes the output word. Constants:
// poseidon_constants.cpp.
#include "crypto/poseidon.hpp"

#include <array>
#include <cassert>
#include <utility>

#include "crypto/poseidon_constants.hpp"

namespace pg::crypto {
namespace {

static_assert(detail::kPoseidonMaxInputs == kPoseidonMaxInputs);

constexpr std::size_t kHalfFull = detail::kPoseidonFullRounds / 2;

inline Fr constant(const Limbs& l) noexcept {
  return Fr::from_montgomery(l);
}

inline Fr pow5(const Fr& x) noexcept {
  const Fr x2 = x.square();
  return x2.square() * x;
}

/// The permutation for one width, written for a compile-time T so that the loops over the state
/// unroll (15-20% faster than one loop over a run-time width in bench/poseidon_bench.cpp).
template <std::size_t T>
class Permutation {
 public:
  using State = std::array<Fr, T>;

  /// Poseidon of the T - 1 values at `inputs` with the tables `prm` (prm.t == T).
  static Fr hash(const Fr* inputs, const detail::PoseidonParams& prm) noexcept {
    assert(prm.t == T);
    const Limbs* c = prm.c;

    // Initial state [0, inputs...] plus the first round constants (circomlib's ark[0]).
    State state;
    state[0] = constant(c[0]);
    for (std::size_t i = 1; i < T; ++i) state[i] = inputs[i - 1] + constant(c[i]);
    c += T;

    // First half of the full rounds; the last of them mixes with P instead of M.
    for (std::size_t r = 0; r + 1 < kHalfFull; ++r, c += T) {
      sbox_full_add(state, c);
      mix(state, prm.m);
    }
    sbox_full_add(state, c);
    c += T;
    mix(state, prm.p);

    // Partial rounds: S-box on state[0] only, then the sparse matrix of this round, whose first
    // row (T entries) gives the new state[0] and whose next T - 1 entries update the rest.
    const Limbs* s = prm.s;
    for (std::size_t r = 0; r < prm.partial_rounds; ++r, s += 2 * T - 1) {
      const Fr x0 = pow5(state[0]) + constant(c[r]);
      Fr acc = constant(s[0]) * x0;
      for (std::size_t j = 1; j < T; ++j) acc += constant(s[j]) * state[j];
      for (std::size_t k = 1; k < T; ++k) state[k] += x0 * constant(s[T + k - 1]);
      state[0] = acc;
    }
    c += prm.partial_rounds;

    // Second half of the full rounds; the last adds no constant and only state[0] is kept.
    for (std::size_t r = 0; r + 1 < kHalfFull; ++r, c += T) {
      sbox_full_add(state, c);
      mix(state, prm.m);
    }
    Fr out = constant(prm.m[0]) * pow5(state[0]);
    for (std::size_t j = 1; j < T; ++j) out += constant(prm.m[j * T]) * pow5(state[j]);
    return out;
  }

 private:
  /// state[i] = state[i]^5 + c[i].
  static void sbox_full_add(State& state, const Limbs* c) noexcept {
    for (std::size_t i = 0; i < T; ++i) state[i] = pow5(state[i]) + constant(c[i]);
  }

  /// state = state * m, i.e. state'[i] = sum_j m[j][i] * state[j] (circomlib's Mix).
  static void mix(State& state, const Limbs* m) noexcept {
    State out;
    for (std::size_t i = 0; i < T; ++i) out[i] = constant(m[i]) * state[0];
    for (std::size_t j = 1; j < T; ++j) {
      const Limbs* row = m + j * T;
      for (std::size_t i = 0; i < T; ++i) out[i] += constant(row[i]) * state[j];
    }
    state = out;
  }
};

using HashFn = Fr (*)(const Fr*, const detail::PoseidonParams&) noexcept;

/// kHashByInputs[n - 1] hashes n inputs.
template <std::size_t... N>
constexpr std::array<HashFn, sizeof...(N)> make_dispatch(std::index_sequence<N...>) {
  return {&Permutation<N + 2>::hash...};
}
constexpr auto kHashByInputs = make_dispatch(std::make_index_sequence<kPoseidonMaxInputs>{});

}  // namespace

Fr poseidon_hash(std::span<const Fr> inputs) noexcept {
  assert(!inputs.empty() && inputs.size() <= kPoseidonMaxInputs);
  const std::size_t i = inputs.size() - 1;
  return kHashByInputs[i](inputs.data(), detail::kPoseidonParams[i]);
}

std::optional<Fr> poseidon_hash_checked(std::span<const Fr> inputs) noexcept {
  if (inputs.empty() || inputs.size() > kPoseidonMaxInputs) return std::nullopt;
  return poseidon_hash(inputs);
}

}  // namespace pg::crypto
