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

}  // namespace pg::crypto
