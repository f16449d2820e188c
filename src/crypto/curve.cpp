// Generators, the twist endomorphism and the G2 subgroup tests.
#include "crypto/curve.hpp"

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

/// acc += d T for a width-5 NAF digit d, with T's odd multiples at `odd`.
void add_digit(G1& acc, int d, const G1Affine* odd) noexcept {
  if (d > 0) acc = acc.add_mixed(odd[d / 2]);
  if (d < 0) acc = acc.add_mixed(odd[-d / 2].negate());
}

}  // namespace

const G1Endomorphism& g1_endomorphism() noexcept {
  static const G1Endomorphism e = [] {
    const Fp beta = primitive_cube_root<Fp>();
    const Fr root = primitive_cube_root<Fr>();
    // phi is multiplication by one of the two primitive cube roots, root or root^2.
    const G1Affine& g = g1_generator();
    const G1 phi_g = G1::from_affine(G1Affine::from_xy(beta * g.x, g.y));
    const bool first = G1::from_affine(g).mul_vartime(root.to_canonical()) == phi_g;
    return G1Endomorphism{beta, first ? root : root * root};
  }();
  return e;
}

std::vector<G1> g1_glv_mul_each_vartime(std::span<const G1Affine> points,
                                        std::span<const GlvScalar> scalars) {
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
