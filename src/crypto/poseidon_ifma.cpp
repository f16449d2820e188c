// Poseidon(2) on 8 (or 16) independent pairs at once with AVX-512 IFMA: radix-2^52 Montgomery
// arithmetic, one field element per 64-bit lane, in the optimized round structure of
// poseidon_hash2 (poseidon.cpp). Compiled alone with -mavx512f -mavx512vl -mavx512ifma and only
// called after a CPU check (poseidon_batch.cpp); uses nothing but intrinsics and its own
// internal-linkage helpers (see poseidon_ifma.hpp for why).
//
// Arithmetic: elements are x * 2^260 mod r in five 52-bit limbs, multiplied by vpmadd52luq /
// vpmadd52huq (the low and high 52 bits of a 52 x 52-bit product added to a 64-bit lane) and
// reduced word by word (Montgomery REDC in radix 2^52, as in Gueron and Krasnov, "Accelerating
// big integer arithmetic using Intel IFMA extensions", ARITH 2016: interleaved with the rows of
// the products, and after all ten columns for squares, whose doubled cross products follow
// Drucker and Gueron, "Fast modular squaring with AVX512IFMA", ITNG 2019).
// No reduction ends in a conditional subtraction: because r < 2^254 and R = 2^260 > 84 r, a REDC
// of T < k r^2 lands below (k / 84 + 1) r, so every value below stays under 4r, which is all a
// multiplication operand needs; the bounds are given at each step. Only the partial rounds'
// running sums (state[1], state[2] += ...) would grow, so those subtract 2r when they reach it,
// by mask, and the output is brought below r the same way. No data-dependent branch anywhere.
#include "crypto/poseidon_ifma.hpp"

#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__AVX512IFMA__)

// GCC 12's AVX-512 shift intrinsics read a self-initialised `__Y` that -W(maybe-)uninitialized
// reports at every call (GCC bug 105593, fixed in GCC 13); the warning is about the header, not our
// code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

namespace pg::crypto::detail {
namespace {

using V = __m512i;
constexpr int kL = static_cast<int>(kIfmaLimbs);

/// One element per lane.
struct Fe {
  V l[kIfmaLimbs];
};

/// K vectors of 8 lanes processed together, so that K independent dependency chains interleave.
template <int K>
struct Group {
  Fe v[K];
};

/// The constants the arithmetic needs on every call, broadcast once per batch.
struct Arith {
  V mask;
  V neg_inv;
  Fe modulus;
  Fe twice_modulus;
};

inline V lo(V acc, V a, V b) noexcept {
  return _mm512_madd52lo_epu64(acc, a, b);
}
inline V hi(V acc, V a, V b) noexcept {
  return _mm512_madd52hi_epu64(acc, a, b);
}

inline Fe broadcast(const IfmaElement& e) noexcept {
  Fe r;
  for (int j = 0; j < kL; ++j) r.l[j] = _mm512_set1_epi64(static_cast<long long>(e.limb[j]));
  return r;
}

/// An accumulator of 10 columns of partial products: column j weighs 2^(52 j). Columns hold up to
/// 2^64; the callers stay far below (at most 40 terms below 2^52 each, plus carries).
template <int K>
struct Acc {
  V t[K][2 * kIfmaLimbs];
};

template <int K>
inline void clear(Acc<K>& a) noexcept {
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < 2 * kL; ++j) a.t[k][j] = _mm512_setzero_si512();
}

/// acc = a^2 from a cleared accumulator: the 10 cross products once, doubled, then the 5 squares
/// (15 products instead of 25, as in Drucker-Gueron).
template <int K>
inline void sqr_into(Acc<K>& acc, const Group<K>& a) noexcept {
  clear(acc);
  for (int i = 0; i < kL; ++i)
    for (int j = i + 1; j < kL; ++j)
      for (int k = 0; k < K; ++k) {
        acc.t[k][i + j] = lo(acc.t[k][i + j], a.v[k].l[i], a.v[k].l[j]);
        acc.t[k][i + j + 1] = hi(acc.t[k][i + j + 1], a.v[k].l[i], a.v[k].l[j]);
      }
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < 2 * kL; ++j) acc.t[k][j] = _mm512_add_epi64(acc.t[k][j], acc.t[k][j]);
  for (int i = 0; i < kL; ++i)
    for (int k = 0; k < K; ++k) {
      acc.t[k][2 * i] = lo(acc.t[k][2 * i], a.v[k].l[i], a.v[k].l[i]);
      acc.t[k][2 * i + 1] = hi(acc.t[k][2 * i + 1], a.v[k].l[i], a.v[k].l[i]);
    }
}

/// Montgomery REDC: T / 2^260 mod r for the accumulated T, as (T + q r) / 2^260 with q < 2^260
/// chosen limb by limb, so below T / 2^260 + r; limbs normalised to 52 bits. T < 2^260 r * 2^4
/// keeps the result below 2^260.
template <int K>
inline Group<K> redc(Acc<K>& acc, const Arith& ar) noexcept {
  const V zero = _mm512_setzero_si512();
  for (int i = 0; i < kL; ++i) {
    V q[K];
    // q = (t_i mod 2^52) * (-r^-1) mod 2^52: vpmadd52luq reads only the low 52 bits of t_i.
    for (int k = 0; k < K; ++k) q[k] = lo(zero, acc.t[k][i], ar.neg_inv);
    for (int j = 0; j < kL; ++j)
      for (int k = 0; k < K; ++k) {
        acc.t[k][i + j] = lo(acc.t[k][i + j], q[k], ar.modulus.l[j]);
        acc.t[k][i + j + 1] = hi(acc.t[k][i + j + 1], q[k], ar.modulus.l[j]);
      }
    // Column i is now 0 mod 2^52; its carry goes up.
    for (int k = 0; k < K; ++k)
      acc.t[k][i + 1] = _mm512_add_epi64(acc.t[k][i + 1], _mm512_srli_epi64(acc.t[k][i], 52));
  }
  Group<K> r;
  for (int k = 0; k < K; ++k) {
    for (int j = kL; j + 1 < 2 * kL; ++j) {
      acc.t[k][j + 1] = _mm512_add_epi64(acc.t[k][j + 1], _mm512_srli_epi64(acc.t[k][j], 52));
      acc.t[k][j] = _mm512_and_si512(acc.t[k][j], ar.mask);
    }
    for (int j = 0; j < kL; ++j) r.v[k].l[j] = acc.t[k][kL + j];
  }
  return r;
}

/// Montgomery multiplication with the reduction interleaved row by row (operand scanning, the
/// word-by-word loop of Gueron-Krasnov): for each limb i of the left
/// operands, add row i of the products (`row(i, t)`), then q_i r, then shift down by one limb.
/// Only six columns are live instead of ten, which keeps two vectors' worth in registers.
/// Result: (sum of products) / 2^260 + addend, below (sum / 2^260) + r + addend; limbs normalised.
template <int K, class Row>
inline Group<K> mont_rows(const Row& row, const Arith& ar, const Group<K>* addend = nullptr,
                          const Fe* addend_const = nullptr) noexcept {
  const V zero = _mm512_setzero_si512();
  V t[K][kIfmaLimbs + 1];
  for (int k = 0; k < K; ++k)
    for (int j = 0; j <= kL; ++j) t[k][j] = zero;
  for (int i = 0; i < kL; ++i) {
    row(i, t);
    V q[K];
    for (int k = 0; k < K; ++k) q[k] = lo(zero, t[k][0], ar.neg_inv);
    for (int j = 0; j < kL; ++j)
      for (int k = 0; k < K; ++k) {
        t[k][j] = lo(t[k][j], q[k], ar.modulus.l[j]);
        t[k][j + 1] = hi(t[k][j + 1], q[k], ar.modulus.l[j]);
      }
    // Column 0 is now 0 mod 2^52: its carry goes up and the columns move down one limb.
    for (int k = 0; k < K; ++k) {
      t[k][1] = _mm512_add_epi64(t[k][1], _mm512_srli_epi64(t[k][0], 52));
      for (int j = 0; j < kL; ++j) t[k][j] = t[k][j + 1];
      t[k][kL] = zero;
    }
  }
  Group<K> r;
  for (int k = 0; k < K; ++k) {
    if (addend != nullptr)
      for (int j = 0; j < kL; ++j) t[k][j] = _mm512_add_epi64(t[k][j], addend->v[k].l[j]);
    if (addend_const != nullptr)
      for (int j = 0; j < kL; ++j) t[k][j] = _mm512_add_epi64(t[k][j], addend_const->l[j]);
    for (int j = 0; j + 1 < kL; ++j) {
      t[k][j + 1] = _mm512_add_epi64(t[k][j + 1], _mm512_srli_epi64(t[k][j], 52));
      t[k][j] = _mm512_and_si512(t[k][j], ar.mask);
    }
    for (int j = 0; j < kL; ++j) r.v[k].l[j] = t[k][j];
  }
  return r;
}

/// Adds row i of a * c (c the same in every lane) to the six live columns.
template <int K>
inline void row_const(int i, V (&t)[K][kIfmaLimbs + 1], const Group<K>& a, const Fe& c) noexcept {
  for (int j = 0; j < kL; ++j)
    for (int k = 0; k < K; ++k) {
      t[k][j] = lo(t[k][j], a.v[k].l[i], c.l[j]);
      t[k][j + 1] = hi(t[k][j + 1], a.v[k].l[i], c.l[j]);
    }
}

/// Adds row i of a * b to the six live columns.
template <int K>
inline void row_vec(int i, V (&t)[K][kIfmaLimbs + 1], const Group<K>& a,
                    const Group<K>& b) noexcept {
  for (int j = 0; j < kL; ++j)
    for (int k = 0; k < K; ++k) {
      t[k][j] = lo(t[k][j], a.v[k].l[i], b.v[k].l[j]);
      t[k][j + 1] = hi(t[k][j + 1], a.v[k].l[i], b.v[k].l[j]);
    }
}

/// v - q if v >= q, else v (q = r or 2r; v, q < 2^260), by the sign of the subtraction.
template <int K>
inline void cond_sub(Group<K>& v, const Fe& q, const Arith& ar) noexcept {
  for (int k = 0; k < K; ++k) {
    V d[kIfmaLimbs];
    for (int j = 0; j < kL; ++j) d[j] = _mm512_sub_epi64(v.v[k].l[j], q.l[j]);
    for (int j = 0; j + 1 < kL; ++j) {
      d[j + 1] = _mm512_add_epi64(d[j + 1], _mm512_srai_epi64(d[j], 52));
      d[j] = _mm512_and_si512(d[j], ar.mask);
    }
    const __mmask8 negative = _mm512_cmplt_epi64_mask(d[kL - 1], _mm512_setzero_si512());
    for (int j = 0; j < kL; ++j) v.v[k].l[j] = _mm512_mask_blend_epi64(negative, d[j], v.v[k].l[j]);
  }
}

/// a + b with the limbs' carries propagated (a + b < 2^260).
template <int K>
inline Group<K> add(const Group<K>& a, const Fe& b, const Arith& ar) noexcept {
  Group<K> r;
  for (int k = 0; k < K; ++k) {
    for (int j = 0; j < kL; ++j) r.v[k].l[j] = _mm512_add_epi64(a.v[k].l[j], b.l[j]);
    for (int j = 0; j + 1 < kL; ++j) {
      r.v[k].l[j + 1] = _mm512_add_epi64(r.v[k].l[j + 1], _mm512_srli_epi64(r.v[k].l[j], 52));
      r.v[k].l[j] = _mm512_and_si512(r.v[k].l[j], ar.mask);
    }
  }
  return r;
}

template <int K>
inline Group<K> mul_const(const Group<K>& a, const Fe& c, const Arith& ar) noexcept {
  return mont_rows<K>([&](int i, V(&t)[K][kIfmaLimbs + 1]) { row_const(i, t, a, c); }, ar);
}

/// x^5 (+ c when given) for x < 4r: x^2, x^4 < 1.2r, the product (+ c) < 2.1r.
template <int K>
inline Group<K> pow5(const Group<K>& x, const Arith& ar, const Fe* c = nullptr) noexcept {
  Acc<K> acc;
  sqr_into(acc, x);
  const Group<K> x2 = redc(acc, ar);
  sqr_into(acc, x2);
  const Group<K> x4 = redc(acc, ar);
  return mont_rows<K>([&](int i, V(&t)[K][kIfmaLimbs + 1]) { row_vec(i, t, x4, x); }, ar, nullptr,
                      c);
}

/// x0 * m0 + x1 * m1 + x2 * m2 with one REDC, for x_i < 4r and constants m_i < r: below 1.15 r.
template <int K>
inline Group<K> dot3(const Group<K>& x0, const Fe& m0, const Group<K>& x1, const Fe& m1,
                     const Group<K>& x2, const Fe& m2, const Arith& ar) noexcept {
  return mont_rows<K>(
      [&](int i, V(&t)[K][kIfmaLimbs + 1]) {
        row_const(i, t, x0, m0);
        row_const(i, t, x1, m1);
        row_const(i, t, x2, m2);
      },
      ar);
}

template <int K>
struct State {
  Group<K> s[kIfmaWidth];
};

/// state = state * M (circomlib's Mix), each word a lazily reduced dot product: below 1.15 r.
template <int K>
inline void mix(State<K>& st, const IfmaElement* m, const Arith& ar) noexcept {
  const State<K> in = st;
  for (std::size_t i = 0; i < kIfmaWidth; ++i)
    st.s[i] = dot3(in.s[0], broadcast(m[i]), in.s[1], broadcast(m[3 + i]), in.s[2],
                   broadcast(m[6 + i]), ar);
}

/// state[i] = state[i]^5 + c[i]: below 2.1 r.
template <int K>
inline void sbox_full_add(State<K>& st, const IfmaElement* c, const Arith& ar) noexcept {
  for (std::size_t i = 0; i < kIfmaWidth; ++i) {
    const Fe ci = broadcast(c[i]);
    st.s[i] = pow5(st.s[i], ar, &ci);
  }
}

/// Loads K * 8 values of four 64-bit limbs (lane-major) as radix-2^52 limbs.
template <int K>
inline Group<K> load(const std::uint64_t* in, const Arith& ar) noexcept {
  Group<K> g;
  for (int k = 0; k < K; ++k) {
    alignas(64) std::uint64_t w[4][kIfmaLanes];
    for (std::size_t lane = 0; lane < kIfmaLanes; ++lane)
      for (std::size_t j = 0; j < 4; ++j) w[j][lane] = in[(k * kIfmaLanes + lane) * 4 + j];
    const V a0 = _mm512_load_si512(w[0]), a1 = _mm512_load_si512(w[1]);
    const V a2 = _mm512_load_si512(w[2]), a3 = _mm512_load_si512(w[3]);
    Fe& e = g.v[k];
    e.l[0] = _mm512_and_si512(a0, ar.mask);
    e.l[1] = _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(a0, 52), _mm512_slli_epi64(a1, 12)),
                              ar.mask);
    e.l[2] = _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(a1, 40), _mm512_slli_epi64(a2, 24)),
                              ar.mask);
    e.l[3] = _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(a2, 28), _mm512_slli_epi64(a3, 36)),
                              ar.mask);
    e.l[4] = _mm512_srli_epi64(a3, 16);
  }
  return g;
}

/// The inverse of load, for values below 2^256.
template <int K>
inline void store(const Group<K>& g, std::uint64_t* out) noexcept {
  for (int k = 0; k < K; ++k) {
    const Fe& e = g.v[k];
    alignas(64) std::uint64_t w[4][kIfmaLanes];
    _mm512_store_si512(w[0], _mm512_or_si512(e.l[0], _mm512_slli_epi64(e.l[1], 52)));
    _mm512_store_si512(
        w[1], _mm512_or_si512(_mm512_srli_epi64(e.l[1], 12), _mm512_slli_epi64(e.l[2], 40)));
    _mm512_store_si512(
        w[2], _mm512_or_si512(_mm512_srli_epi64(e.l[2], 24), _mm512_slli_epi64(e.l[3], 28)));
    _mm512_store_si512(
        w[3], _mm512_or_si512(_mm512_srli_epi64(e.l[3], 36), _mm512_slli_epi64(e.l[4], 16)));
    for (std::size_t lane = 0; lane < kIfmaLanes; ++lane)
      for (std::size_t j = 0; j < 4; ++j) out[(k * kIfmaLanes + lane) * 4 + j] = w[j][lane];
  }
}

/// The steps of poseidon_hash2 (poseidon.cpp), in its order, on K * 8 lanes.
template <int K>
void hash(const PoseidonIfmaTables& tb, const std::uint64_t* left, const std::uint64_t* right,
          std::uint64_t* out) noexcept {
  Arith ar;
  ar.mask = _mm512_set1_epi64((std::int64_t{1} << 52) - 1);
  ar.neg_inv = _mm512_set1_epi64(static_cast<long long>(tb.neg_inv));
  ar.modulus = broadcast(tb.modulus);
  ar.twice_modulus = broadcast(tb.twice_modulus);

  // Fr's x * 2^256 (< r) times 2^264, REDC: x * 2^260, below 1.01 r.
  const Fe into = broadcast(tb.into);
  const Group<K> l = mul_const(load<K>(left, ar), into, ar);
  const Group<K> rr = mul_const(load<K>(right, ar), into, ar);

  const IfmaElement* c = tb.c;
  State<K> st;
  const Fe first = broadcast(tb.first_word);
  for (int k = 0; k < K; ++k) st.s[0].v[k] = first;
  const Fe c4 = broadcast(c[4]), c5 = broadcast(c[5]);
  st.s[1] = pow5(add(l, broadcast(c[1]), ar), ar, &c4);  // input + c < 2.01 r
  st.s[2] = pow5(add(rr, broadcast(c[2]), ar), ar, &c5);
  c += 2 * kIfmaWidth;
  mix(st, tb.m, ar);
  constexpr std::size_t kHalf = kIfmaFullRounds / 2;
  for (std::size_t r = 1; r + 1 < kHalf; ++r, c += kIfmaWidth) {
    sbox_full_add(st, c, ar);
    mix(st, tb.m, ar);
  }
  sbox_full_add(st, c, ar);
  c += kIfmaWidth;
  mix(st, tb.p, ar);

  // Partial rounds. state[0] stays below 1.15 r (a dot product), x0 below 2.1 r, state[1] and
  // state[2] below 2r: s + x0 * sp (one REDC of x0 * sp + s * 2^260) < 2r + 1.03 r, then
  // 2r is subtracted when reached. (Without the subtraction they would grow by 1.03 r a round,
  // to 60 r < 2^260 after the 57 rounds: still correct, but with little margin; the subtraction
  // costs nothing measurable in bench/poseidon_bench.)
  const IfmaElement* sp = tb.s;
  for (std::size_t r = 0; r < kIfmaPartialRounds; ++r, sp += 2 * kIfmaWidth - 1) {
    const Fe cr = broadcast(c[r]);
    const Group<K> x0 = pow5(st.s[0], ar, &cr);
    const Group<K> s0 =
        dot3(x0, broadcast(sp[0]), st.s[1], broadcast(sp[1]), st.s[2], broadcast(sp[2]), ar);
    for (std::size_t w = 1; w < kIfmaWidth; ++w) {
      const Fe spw = broadcast(sp[kIfmaWidth + w - 1]);
      const Group<K> sw = st.s[w];
      st.s[w] =
          mont_rows<K>([&](int i, V(&t)[K][kIfmaLimbs + 1]) { row_const(i, t, x0, spw); }, ar, &sw);
      cond_sub(st.s[w], ar.twice_modulus, ar);
    }
    st.s[0] = s0;
  }
  c += kIfmaPartialRounds;

  for (std::size_t r = 0; r + 1 < kHalf; ++r, c += kIfmaWidth) {
    sbox_full_add(st, c, ar);
    mix(st, tb.m, ar);
  }
  Group<K> o = dot3(pow5(st.s[0], ar), broadcast(tb.m[0]), pow5(st.s[1], ar), broadcast(tb.m[3]),
                    pow5(st.s[2], ar), broadcast(tb.m[6]), ar);
  // x * 2^260 (< 1.15 r) times 2^256, REDC: x * 2^256 below 1.02 r, then below r.
  o = mul_const(o, broadcast(tb.out_of), ar);
  cond_sub(o, ar.modulus, ar);
  store(o, out);
}

}  // namespace

const bool kIfmaKernelCompiled = true;

void poseidon2_ifma_x8(const PoseidonIfmaTables& tables, const std::uint64_t* left,
                       const std::uint64_t* right, std::uint64_t* out) noexcept {
  hash<1>(tables, left, right, out);
}

void poseidon2_ifma_x16(const PoseidonIfmaTables& tables, const std::uint64_t* left,
                        const std::uint64_t* right, std::uint64_t* out) noexcept {
  hash<2>(tables, left, right, out);
}

}  // namespace pg::crypto::detail

#else  // no AVX-512 IFMA from this compiler or target: the dispatcher keeps the scalar loop

namespace pg::crypto::detail {

const bool kIfmaKernelCompiled = false;

void poseidon2_ifma_x8(const PoseidonIfmaTables&, const std::uint64_t*, const std::uint64_t*,
                       std::uint64_t*) noexcept {}
void poseidon2_ifma_x16(const PoseidonIfmaTables&, const std::uint64_t*, const std::uint64_t*,
                        std::uint64_t*) noexcept {}

}  // namespace pg::crypto::detail

#endif
