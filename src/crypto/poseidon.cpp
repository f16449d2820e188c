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

// --- t = 3, the Merkle tree's node hash ---

/// a + b for 512-bit values. The callers' sums stay below 3p^2 < 2^512, so no carry leaves.
inline Wide add_wide(const Wide& a, const Wide& b) noexcept {
  Wide r;
  unsigned __int128 carry = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    carry += static_cast<unsigned __int128>(a[i]) + b[i];
    r[i] = static_cast<std::uint64_t>(carry);
    carry >>= 64;
  }
  return r;
}

/// x0 * y0 + x1 * y1 + x2 * y2 with one Montgomery reduction: each product of reduced elements is
/// below p^2, the sum below 3p^2 < p * 2^256 (p < 2^254), which is what Fr::reduce accepts.
inline Fr dot3(const Fr& x0, const Fr& y0, const Fr& x1, const Fr& y1, const Fr& x2,
               const Fr& y2) noexcept {
  return Fr::reduce(
      add_wide(add_wide(Fr::mul_wide(x0, y0), Fr::mul_wide(x1, y1)), Fr::mul_wide(x2, y2)));
}

using State3 = std::array<Fr, 3>;

/// state = state * m (circomlib's Mix), three lazily reduced dot products.
inline void mix3(State3& s, const Limbs* m) noexcept {
  const State3 in = s;
  for (std::size_t i = 0; i < 3; ++i)
    s[i] = dot3(in[0], constant(m[i]), in[1], constant(m[3 + i]), in[2], constant(m[6 + i]));
}

inline void sbox_full_add3(State3& s, const Limbs* c) noexcept {
  for (std::size_t i = 0; i < 3; ++i) s[i] = pow5(s[i]) + constant(c[i]);
}

const detail::PoseidonParams& params3() noexcept {
  return detail::kPoseidonParams[1];
}

/// The first round's S-box on state[0], which starts as the constant c[0] for every input:
/// pow5(c[0]) + c[3], computed once.
const Fr& first_word_after_sbox() noexcept {
  static const Fr v = pow5(constant(params3().c[0])) + constant(params3().c[3]);
  return v;
}

}  // namespace

Fr poseidon_hash2(const Fr& left, const Fr& right) noexcept {
  const detail::PoseidonParams& prm = params3();
  const Limbs* c = prm.c;
  // The same steps as Permutation<3>::hash, in its order.
  State3 s{first_word_after_sbox(), pow5(left + constant(c[1])) + constant(c[4]),
           pow5(right + constant(c[2])) + constant(c[5])};
  c += 6;
  mix3(s, prm.m);
  for (std::size_t r = 1; r + 1 < kHalfFull; ++r, c += 3) {
    sbox_full_add3(s, c);
    mix3(s, prm.m);
  }
  sbox_full_add3(s, c);
  c += 3;
  mix3(s, prm.p);

  const Limbs* sp = prm.s;
  for (std::size_t r = 0; r < prm.partial_rounds; ++r, sp += 5) {
    const Fr x0 = pow5(s[0]) + constant(c[r]);
    const Fr acc = dot3(constant(sp[0]), x0, constant(sp[1]), s[1], constant(sp[2]), s[2]);
    s[1] += x0 * constant(sp[3]);
    s[2] += x0 * constant(sp[4]);
    s[0] = acc;
  }
  c += prm.partial_rounds;

  for (std::size_t r = 0; r + 1 < kHalfFull; ++r, c += 3) {
    sbox_full_add3(s, c);
    mix3(s, prm.m);
  }
  return dot3(constant(prm.m[0]), pow5(s[0]), constant(prm.m[3]), pow5(s[1]), constant(prm.m[6]),
              pow5(s[2]));
}

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
