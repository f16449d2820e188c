// Generators, the twist endomorphism and the G2 subgroup tests.
#include "crypto/curve.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace pg::crypto {

namespace {

Fp fp_from_decimal(std::string_view s) {
  Limbs l{};
  limbs_from_decimal(s, l);
  return Fp::from_canonical(l);
}

}  // namespace

const G1Affine& g1_generator() noexcept {
  static const G1Affine g = G1Affine::from_xy(Fp::from_u64(1), Fp::from_u64(2));
  return g;
}

const G2Affine& g2_generator() noexcept {
  // EIP-197: x = x_im * i + x_re, y = y_im * i + y_re.
  static const G2Affine g = G2Affine::from_xy(
      Fp2{fp_from_decimal("1085704699902305713594457076223282948137075635957851808699051999328"
                          "5655852781"),
          fp_from_decimal("1155973203298638710799100402139228578392581286182119253091740315145"
                          "2391805634")},
      Fp2{fp_from_decimal("8495653923123431417604973247489272438418190587263600148770280649306"
                          "958101930"),
          fp_from_decimal("4082367875863433681332203403145435568316851327593401208105741076214"
                          "120093531")});
  return g;
}

G2 g2_psi(const G2& q) noexcept {
  const auto& g = tower_constants().gamma[1];
  // xi^((p-1)/3) = gamma[1][2], xi^((p-1)/2) = gamma[1][3].
  return {q.x.conjugate() * g[2], q.y.conjugate() * g[3], q.z.conjugate()};
}

namespace {

/// The non-adjacent form of x, least significant digit first (63 digits, 24 nonzero).
struct XNaf {
  std::int8_t digits[64]{};
  int length = 0;
};

constexpr XNaf kXNaf = [] {
  XNaf naf;
  std::uint64_t n = kBnX;
  while (n != 0) {
    std::int8_t d = 0;
    if (n & 1) {
      d = static_cast<std::int8_t>(2 - static_cast<int>(n & 3));
      n = d == 1 ? n - 1 : n + 1;
    }
    naf.digits[naf.length++] = d;
    n >>= 1;
  }
  return naf;
}();

/// x * q by double-and-add over the NAF of x with mixed additions of the affine q or -q.
G2 g2_mul_by_x(const G2Affine& q) noexcept {
  const G2Affine neg = q.negate();
  G2 r = G2::from_affine(q);  // the top digit is 1
  for (int i = kXNaf.length - 2; i >= 0; --i) {
    r = r.dbl();
    if (kXNaf.digits[i] == 1) r = r.add_mixed(q);
    if (kXNaf.digits[i] == -1) r = r.add_mixed(neg);
  }
  return r;
}

}  // namespace

bool g2_in_subgroup_vartime(const G2Affine& q) noexcept {
  if (q.infinity) return true;
  const G2 p = G2::from_affine(q);
  const G2 xp = g2_mul_by_x(q);
  const G2 lhs = xp.add(p).add(g2_psi(xp)).add(g2_psi(g2_psi(xp)));
  const G2 rhs = g2_psi(g2_psi(g2_psi(xp.dbl())));
  return lhs == rhs;
}

bool g2_in_subgroup_slow_vartime(const G2Affine& q) noexcept {
  return G2::from_affine(q).mul_vartime(Fr::kModulus).is_identity();
}

namespace {

/// (m - 1) / 3 for a modulus m = 1 (mod 3).
Limbs third_of_predecessor(const Limbs& m) noexcept {
  Limbs n = m;
  n[0] -= 1;  // m is odd: no borrow
  Limbs q{};
  unsigned __int128 rem = 0;
  for (int i = 3; i >= 0; --i) {
    const unsigned __int128 cur = (rem << 64) | n[i];
    q[i] = static_cast<std::uint64_t>(cur / 3);
    rem = cur % 3;
  }
  return q;
}

/// A primitive cube root of unity g^((m - 1) / 3) for the first g that gives one other than 1.
template <class F>
F primitive_cube_root() noexcept {
  const Limbs e = third_of_predecessor(F::kModulus);
  for (std::uint64_t g = 2;; ++g) {
    const F c = F::from_u64(g).pow_vartime(e);
    if (!(c == F::one())) return c;
  }
}

// The GLV lattice's short vectors from the BN parameter x: 2x + 1 (64 bits), 6x^2 + 2x and
// 6x^2 + 4x + 1 (127 bits each).
constexpr unsigned __int128 kGlvShort = 2 * static_cast<unsigned __int128>(kBnX) + 1;
constexpr unsigned __int128 kGlvLongLow =
    6 * static_cast<unsigned __int128>(kBnX) * kBnX + 2 * static_cast<unsigned __int128>(kBnX);
constexpr unsigned __int128 kGlvLongHigh = kGlvLongLow + kGlvShort;

Fr fr_from_u128(unsigned __int128 v) noexcept {
  return Fr::from_canonical(
      Limbs{static_cast<std::uint64_t>(v), static_cast<std::uint64_t>(v >> 64), 0, 0});
}

/// The 384-bit product k m (six words, least significant first).
std::array<std::uint64_t, 6> mul_by_u128(const Limbs& k, unsigned __int128 m) noexcept {
  std::array<std::uint64_t, 6> out{};
  const std::uint64_t mw[2] = {static_cast<std::uint64_t>(m), static_cast<std::uint64_t>(m >> 64)};
  for (int j = 0; j < 2; ++j) {
    std::uint64_t carry = 0;
    for (int i = 0; i < 4; ++i) {
      const unsigned __int128 t = static_cast<unsigned __int128>(k[i]) * mw[j] + out[i + j] + carry;
      out[i + j] = static_cast<std::uint64_t>(t);
      carry = static_cast<std::uint64_t>(t >> 64);
    }
    out[4 + j] = carry;
  }
  return out;
}

/// floor(n / r) for n < r 2^128, by binary long division. The top 253 bits of n are below r and
/// go into the remainder at once; the rest one bit at a time.
unsigned __int128 floor_div_r(const std::array<std::uint64_t, 6>& n) noexcept {
  int length = 0;
  for (int w = 5; w >= 0; --w) {
    if (n[w] != 0) {
      length = 64 * w + 64 - __builtin_clzll(n[w]);
      break;
    }
  }
  const int start = std::max(length - 253, 0);
  auto word_at = [&n](int bit) -> std::uint64_t {  // the 64 bits of n from `bit` upwards
    const int w = bit / 64, sh = bit % 64;
    if (w >= 6) return 0;
    const std::uint64_t high = w + 1 < 6 && sh != 0 ? n[w + 1] << (64 - sh) : 0;
    return (n[w] >> sh) | high;
  };
  Limbs rem{word_at(start), word_at(start + 64), word_at(start + 128), word_at(start + 192)};
  unsigned __int128 q = 0;
  for (int bit = start - 1; bit >= 0; --bit) {
    // rem = 2 rem + bit of n; rem < r < 2^254 keeps the doubling inside 256 bits.
    for (int w = 3; w > 0; --w) rem[w] = (rem[w] << 1) | (rem[w - 1] >> 63);
    rem[0] = (rem[0] << 1) | ((n[bit / 64] >> (bit % 64)) & 1);
    q <<= 1;
    if (compare_limbs(rem, Fr::kModulus) >= 0) {
      std::uint64_t borrow = 0;
      rem = sub_limbs(rem, Fr::kModulus, borrow);
      q |= 1;
    }
  }
  return q;
}

/// The 256-bit product of two 128-bit integers.
Limbs u128_product(unsigned __int128 a, unsigned __int128 b) noexcept {
  const std::array<std::uint64_t, 6> p = mul_by_u128(
      Limbs{static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(a >> 64), 0, 0}, b);
  return Limbs{p[0], p[1], p[2], p[3]};
}

constexpr int kOddMultiples = 8;  // P, 3P, ..., 15P: the digits of a width-5 NAF

/// For each point its odd multiples P, 3P, ..., 15P and then their images under phi, affine
/// (2 * kOddMultiples entries per point), normalised together with one inversion.
std::vector<G1Affine> glv_tables(std::span<const G1Affine> points) {
  std::vector<G1> odd;
  odd.reserve(points.size() * kOddMultiples);
  for (const G1Affine& p : points) {
    G1 acc = G1::from_affine(p);
    const G1 twice = acc.dbl();
    for (int d = 0; d < kOddMultiples; ++d) {
      odd.push_back(acc);
      acc = acc.add(twice);
    }
  }
  const std::vector<G1Affine> affine = batch_to_affine<G1Params>(odd);
  const Fp& beta = g1_endomorphism().beta;
  std::vector<G1Affine> table(points.size() * 2 * kOddMultiples);
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (int d = 0; d < kOddMultiples; ++d) {
      const G1Affine& m = affine[i * kOddMultiples + d];
      table[i * 2 * kOddMultiples + d] = m;
      table[i * 2 * kOddMultiples + kOddMultiples + d] =
          m.infinity ? m : G1Affine::from_xy(beta * m.x, m.y);
    }
  }
  return table;
}

void require_same_size(std::span<const G1Affine> points, std::span<const GlvScalar> scalars) {
  if (points.size() != scalars.size()) {
    throw std::invalid_argument("GLV multiplication: " + std::to_string(points.size()) +
                                " points but " + std::to_string(scalars.size()) + " scalars");
  }
}

/// acc += d T for a width-5 NAF digit d, with T's odd multiples at `odd`.
void add_digit(G1& acc, int d, const G1Affine* odd) noexcept {
  if (d > 0) acc = acc.add_mixed(odd[d / 2]);
  if (d < 0) acc = acc.add_mixed(odd[-d / 2].negate());
}

/// P, 3P, ..., 15P in Jacobian form (one inversion to normalise them would cost more than the
/// mixed additions save for a single product).
template <class J>
void odd_multiples(const J& p, J (&odd)[kOddMultiples]) noexcept {
  const J twice = p.dbl();
  odd[0] = p;
  for (int d = 1; d < kOddMultiples; ++d) odd[d] = odd[d - 1].add(twice);
}

/// a P + b Q from the width-5 NAFs of a and b and the odd multiples of P and Q, the doublings
/// shared.
template <class J>
J interleave_two(const WNaf& a, const J* odd_p, const WNaf& b, const J* odd_q) noexcept {
  auto add = [](J& acc, int digit, const J* multiples) {
    if (digit > 0) acc = acc.add(multiples[digit / 2]);
    if (digit < 0) acc = acc.add(multiples[-digit / 2].negate());
  };
  J acc = J::identity();
  for (int i = std::max(a.length, b.length) - 1; i >= 0; --i) {
    acc = acc.dbl();
    if (i < a.length) add(acc, a.digits[i], odd_p);
    if (i < b.length) add(acc, b.digits[i], odd_q);
  }
  return acc;
}

}  // namespace

const G1Endomorphism& g1_endomorphism() noexcept {
  static const G1Endomorphism e = [] {
    // lambda is the cube root of unity for which (-(2x + 1), 6x^2 + 2x) is in the lattice
    // {(a, b) : a + b lambda = 0 mod r} (the short basis glv_split uses); beta is then whichever
    // primitive cube root of unity in Fp makes phi(G) = lambda G.
    const Fr lambda = fr_from_u128(kGlvShort) * fr_from_u128(kGlvLongLow).inverse();
    const Fp root = primitive_cube_root<Fp>();
    const G1Affine& g = g1_generator();
    const G1 lambda_g = G1::from_affine(g).mul_vartime(lambda.to_canonical());
    const bool first = G1::from_affine(G1Affine::from_xy(root * g.x, g.y)) == lambda_g;
    return G1Endomorphism{first ? root : root * root, lambda};
  }();
  return e;
}

GlvSplit glv_split(const Limbs& scalar) noexcept {
  Limbs k = scalar;
  std::uint64_t borrow = 0;
  while (compare_limbs(k, Fr::kModulus) >= 0) k = sub_limbs(k, Fr::kModulus, borrow);
  // Babai rounding (floor) against the basis v1 = (-(2x + 1), 6x^2 + 2x),
  // v2 = (6x^2 + 4x + 1, 2x + 1): with c1 = floor(k (2x + 1) / r), c2 = floor(k (6x^2 + 2x) / r),
  // k1 = k - c1 (2x + 1) - c2 (6x^2 + 4x + 1) and k2 = c1 (6x^2 + 2x) - c2 (2x + 1), so that
  // k1 + k2 lambda = k (mod r) and |k1|, |k2| < |v1| + |v2| < 2^129.
  const unsigned __int128 c1 = floor_div_r(mul_by_u128(k, kGlvShort));
  const unsigned __int128 c2 = floor_div_r(mul_by_u128(k, kGlvLongLow));
  std::uint64_t unused = 0;
  const Limbs k1 = sub_limbs(sub_limbs(k, u128_product(c1, kGlvShort), unused),
                             u128_product(c2, kGlvLongHigh), unused);
  const Limbs k2 = sub_limbs(u128_product(c1, kGlvLongLow), u128_product(c2, kGlvShort), unused);
  // Both are small in magnitude: the top bit of the 256-bit difference is the sign.
  auto signed_part = [](const Limbs& v, Limbs& magnitude, bool& negative) {
    negative = (v[3] >> 63) != 0;
    std::uint64_t b = 0;
    magnitude = negative ? sub_limbs(Limbs{}, v, b) : v;
  };
  GlvSplit out;
  signed_part(k1, out.k1, out.k1_negative);
  signed_part(k2, out.k2, out.k2_negative);
  return out;
}

G1 g1_mul_vartime(const G1& p, const Limbs& k) noexcept {
  if (p.is_identity()) return p;
  const GlvSplit split = glv_split(k);
  // The odd multiples of p, and their images (beta X : Y : Z) under phi, signed as k1 and k2.
  G1 odd[kOddMultiples], odd_phi[kOddMultiples];
  odd_multiples(p, odd);
  const Fp& beta = g1_endomorphism().beta;
  for (int d = 0; d < kOddMultiples; ++d) {
    if (split.k1_negative) odd[d] = odd[d].negate();
    odd_phi[d] = G1{beta * odd[d].x, odd[d].y, odd[d].z};
    if (split.k1_negative != split.k2_negative) odd_phi[d] = odd_phi[d].negate();
  }
  return interleave_two(wnaf5(split.k1), odd, wnaf5(split.k2), odd_phi);
}

G2 g2_mul_vartime(const G2& q, const Limbs& scalar) noexcept {
  if (q.is_identity()) return q;
  Limbs k = scalar;
  std::uint64_t borrow = 0;
  while (compare_limbs(k, Fr::kModulus) >= 0) k = sub_limbs(k, Fr::kModulus, borrow);
  // psi acts on G2 as multiplication by p = 6x^2 (mod r) (p - r = 6x^2 for BN curves), so with
  // k = k0 + k1 6x^2, k0 < 6x^2 < 2^127 and k1 = floor(k / 6x^2) < 2^127:
  // k q = k0 q + k1 psi(q), two interleaved 127-bit multiplications.
  constexpr unsigned __int128 t = 6 * static_cast<unsigned __int128>(kBnX) * kBnX;
  unsigned __int128 rem = 0, quotient = 0;
  for (int bit = bit_length(k) - 1; bit >= 0; --bit) {
    rem = (rem << 1) | static_cast<unsigned __int128>(bit_of(k, bit));  // rem < t < 2^127
    quotient <<= 1;
    if (rem >= t) {
      rem -= t;
      quotient |= 1;
    }
  }
  auto limbs = [](unsigned __int128 v) {
    return Limbs{static_cast<std::uint64_t>(v), static_cast<std::uint64_t>(v >> 64), 0, 0};
  };
  G2 odd[kOddMultiples], odd_psi[kOddMultiples];
  odd_multiples(q, odd);
  for (int d = 0; d < kOddMultiples; ++d) odd_psi[d] = g2_psi(odd[d]);
  return interleave_two(wnaf5(limbs(rem)), odd, wnaf5(limbs(quotient)), odd_psi);
}

std::vector<G1> g1_glv_mul_each_vartime(std::span<const G1Affine> points,
                                        std::span<const GlvScalar> scalars) {
  require_same_size(points, scalars);
  const std::vector<G1Affine> table = glv_tables(points);
  std::vector<G1> out;
  out.reserve(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    const WNaf a = wnaf5(scalars[i].a);
    const WNaf b = wnaf5(scalars[i].b);
    const G1Affine* odd = &table[i * 2 * kOddMultiples];
    G1 acc = G1::identity();
    for (int k = std::max(a.length, b.length) - 1; k >= 0; --k) {
      acc = acc.dbl();
      if (k < a.length) add_digit(acc, a.digits[k], odd);
      if (k < b.length) add_digit(acc, b.digits[k], odd + kOddMultiples);
    }
    out.push_back(acc);
  }
  return out;
}

G1 g1_glv_msm_vartime(std::span<const G1Affine> points, std::span<const GlvScalar> scalars) {
  require_same_size(points, scalars);
  const std::vector<G1Affine> table = glv_tables(points);
  std::vector<WNaf> nafs;
  nafs.reserve(2 * points.size());
  int length = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    nafs.push_back(wnaf5(scalars[i].a));
    nafs.push_back(wnaf5(scalars[i].b));
    length = std::max({length, nafs[2 * i].length, nafs[2 * i + 1].length});
  }
  G1 acc = G1::identity();
  for (int k = length - 1; k >= 0; --k) {
    acc = acc.dbl();
    for (std::size_t j = 0; j < nafs.size(); ++j) {
      // nafs[2i] goes with P_i's multiples, nafs[2i + 1] with phi(P_i)'s.
      if (k < nafs[j].length) add_digit(acc, nafs[j].digits[k], &table[j * kOddMultiples]);
    }
  }
  return acc;
}

}  // namespace pg::crypto
