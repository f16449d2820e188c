// The tower's out-of-line parts: constants derived from xi, Frobenius maps, cyclotomic squaring
// and the Fp2 square root.
#include "crypto/tower.hpp"

namespace pg::crypto {

namespace {

Limbs sub_small(const Limbs& a, std::uint64_t s) {
  std::uint64_t borrow = 0;
  return sub_limbs(a, Limbs{s, 0, 0, 0}, borrow);
}

/// floor(a / d) for a small divisor d.
Limbs div_small(const Limbs& a, std::uint64_t d) {
  Limbs q{};
  u128 rem = 0;
  for (int i = 3; i >= 0; --i) {
    const u128 cur = (rem << 64) | a[i];
    q[i] = static_cast<std::uint64_t>(cur / d);
    rem = cur % d;
  }
  return q;
}

TowerConstants make_tower_constants() {
  TowerConstants c{};
  const Fp2 xi{Fp::from_u64(9), Fp::one()};
  // g = xi^((p-1)/6); gamma[1][i] = g^i, gamma[2][i] = gamma[1][i]^(p+1),
  // gamma[3][i] = gamma[1][i]^(p^2+p+1) (elements of Fp2 are fixed by the p^2-power map).
  const Fp2 g = xi.pow_vartime(div_small(sub_small(Fp::kModulus, 1), 6));
  Fp2 gi = Fp2::one();
  for (int i = 0; i < 6; ++i) {
    c.gamma[0][i] = Fp2::one();
    c.gamma[1][i] = gi;
    c.gamma[2][i] = gi.conjugate() * gi;
    c.gamma[3][i] = c.gamma[2][i] * gi;
    gi *= g;
  }
  c.twist_b = Fp2{Fp::from_u64(3), Fp::zero()} * xi.inverse();
  c.two_inv = Fp::from_u64(2).inverse();
  return c;
}

}  // namespace

const TowerConstants& tower_constants() noexcept {
  static const TowerConstants constants = make_tower_constants();
  return constants;
}

std::optional<Fp2> Fp2::sqrt_vartime() const noexcept {
  const Limbs p = Fp::kModulus;
  const Fp2 a1 = pow_vartime(shr1_limbs(shr1_limbs(sub_small(p, 3))));
  const Fp2 alpha = a1.square() * *this;
  const Fp2 a0 = alpha.conjugate() * alpha;
  const Fp2 minus_one{-Fp::one(), Fp::zero()};
  if (a0 == minus_one) return std::nullopt;
  const Fp2 x0 = a1 * *this;
  Fp2 x;
  if (alpha == minus_one) {
    x = Fp2{-x0.c1, x0.c0};  // u * x0
  } else {
    const Fp2 b = (Fp2::one() + alpha).pow_vartime(shr1_limbs(sub_small(p, 1)));
    x = b * x0;
  }
  if (!(x.square() == *this)) return std::nullopt;
  return x;
}

Fp12 Fp12::frobenius(int k) const noexcept {
  const auto& g = tower_constants().gamma[k];
  const bool odd = (k & 1) != 0;
  auto f = [odd](const Fp2& a) { return odd ? a.conjugate() : a; };
  // Coefficient of w^i: c0 holds w^0, w^2, w^4; c1 holds w^1, w^3, w^5.
  return {Fp6{f(c0.c0), f(c0.c1) * g[2], f(c0.c2) * g[4]},
          Fp6{f(c1.c0) * g[1], f(c1.c1) * g[3], f(c1.c2) * g[5]}};
}

Fp12 Fp12::cyclotomic_square() const noexcept {
  // Granger–Scott: Fp12 as Fp4^3 with Fp4 = Fp2[y]/(y^2 - xi); pairs (z0,z1), (z2,z3), (z4,z5).
  const Fp2& z0 = c0.c0;
  const Fp2& z4 = c0.c1;
  const Fp2& z3 = c0.c2;
  const Fp2& z2 = c1.c0;
  const Fp2& z1 = c1.c1;
  const Fp2& z5 = c1.c2;
  // (a + b y)^2 = (a^2 + xi b^2) + 2ab y.
  auto fp4_square = [](const Fp2& a, const Fp2& b, Fp2& lo, Fp2& hi) {
    const Fp2 t = a * b;
    lo = (a + b) * (b.mul_by_xi() + a) - t - t.mul_by_xi();
    hi = t.dbl();
  };
  Fp2 t0, t1, t2, t3, t4, t5;
  fp4_square(z0, z1, t0, t1);
  fp4_square(z2, z3, t2, t3);
  fp4_square(z4, z5, t4, t5);
  const Fp2 xt5 = t5.mul_by_xi();
  Fp12 r;
  r.c0.c0 = (t0 - z0).dbl() + t0;    // 3 t0 - 2 z0
  r.c1.c1 = (t1 + z1).dbl() + t1;    // 3 t1 + 2 z1
  r.c1.c0 = (xt5 + z2).dbl() + xt5;  // 3 xi t5 + 2 z2
  r.c0.c2 = (t4 - z3).dbl() + t4;    // 3 t4 - 2 z3
  r.c0.c1 = (t2 - z4).dbl() + t2;    // 3 t2 - 2 z4
  r.c1.c2 = (t3 + z5).dbl() + t3;    // 3 t3 + 2 z5
  return r;
}

}  // namespace pg::crypto
