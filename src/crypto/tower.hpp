// The BN254 extension tower: Fp2 = Fp[u]/(u^2 + 1), Fp6 = Fp2[v]/(v^3 - xi) with xi = 9 + u,
// Fp12 = Fp6[w]/(w^2 - v). Multiplication and squaring formulas from Devegili, O hEigeartaigh,
// Scott, Dahab, "Multiplication and Squaring on Pairing-Friendly Fields" (ePrint 2006/471);
// cyclotomic squaring from Granger–Scott (ePrint 2009/565, §3.2).
#pragma once

#include <optional>

#include "crypto/bn254.hpp"

namespace pg::crypto {

// [[gnu::flatten]] on the Fp2 product and the Fp6-level products: each is an inline function of
// which the linker keeps one copy from whichever translation unit comes first, and copies from
// different units inlined differently (a proofgate binary kept an Fp6 product calling its Fp2
// products out of line, ≈ 15 % slower than the copy the benchmarks kept). Flattening makes every
// copy the same: the Fp2 arithmetic inlined into the Fp6 level, the Fp12 level calling it.
struct Fp2 {
  Fp c0, c1;  // c0 + c1*u

  static Fp2 zero() noexcept { return {}; }
  static Fp2 one() noexcept { return {Fp::one(), Fp::zero()}; }
  bool is_zero() const noexcept { return c0.is_zero() && c1.is_zero(); }
  friend bool operator==(const Fp2& a, const Fp2& b) noexcept {
    return a.c0 == b.c0 && a.c1 == b.c1;
  }

  friend Fp2 operator+(const Fp2& a, const Fp2& b) noexcept { return {a.c0 + b.c0, a.c1 + b.c1}; }
  friend Fp2 operator-(const Fp2& a, const Fp2& b) noexcept { return {a.c0 - b.c0, a.c1 - b.c1}; }
  friend Fp2 operator-(const Fp2& a) noexcept { return {-a.c0, -a.c1}; }
  [[gnu::flatten]] friend Fp2 operator*(const Fp2& a, const Fp2& b) noexcept {
    if (cpu_has_adx()) [[likely]] {
      // Two sums of products, one reduction each: c0 = a0 b0 + (-a1) b1, c1 = a0 b1 + a1 b0.
      return {Fp::sum_of_products(a.c0, b.c0, -a.c1, b.c1),
              Fp::sum_of_products(a.c0, b.c1, a.c1, b.c0)};
    }
    return mul_portable(a, b);
  }
  /// The product without ADX (kept out of line so that flattened callers stay small).
  [[gnu::noinline]] static Fp2 mul_portable(const Fp2& a, const Fp2& b) noexcept {
    // Karatsuba with lazy reduction: three 512-bit products, two Montgomery reductions.
    // c0 = a0 b0 - a1 b1 (plus p 2^256 when negative, so it stays in [0, p 2^256));
    // c1 = (a0 + a1)(b0 + b1) - a0 b0 - a1 b1 = a0 b1 + a1 b0 < 2p^2 < p 2^256.
    const Wide t0 = Fp::mul_wide(a.c0, b.c0);
    const Wide t1 = Fp::mul_wide(a.c1, b.c1);
    const Wide t2 = Fp::mul_wide(Fp::add_unreduced(a.c0, a.c1), Fp::add_unreduced(b.c0, b.c1));
    std::uint64_t borrow = 0, unused = 0;
    const Wide d0 = sub_wide(t0, t1, borrow);
    const Wide c0 = add_high_masked(d0, Fp::kModulus, 0 - borrow);
    const Wide c1 = sub_wide(sub_wide(t2, t0, unused), t1, unused);
    return {Fp::reduce(c0), Fp::reduce(c1)};
  }
  Fp2& operator+=(const Fp2& b) noexcept { return *this = *this + b; }
  Fp2& operator-=(const Fp2& b) noexcept { return *this = *this - b; }
  Fp2& operator*=(const Fp2& b) noexcept { return *this = *this * b; }

  Fp2 dbl() const noexcept { return {c0.dbl(), c1.dbl()}; }
  Fp2 square() const noexcept {
    // (c0 + c1)(c0 - c1) + 2 c0 c1 u: two Fp multiplications.
    const Fp t = c0 * c1;
    return {Fp::add_unreduced(c0, c1) * (c0 - c1), t.dbl()};
  }
  Fp2 mul_by_fp(const Fp& s) const noexcept { return {c0 * s, c1 * s}; }
  /// this / 2 (an addition and a shift per coefficient instead of a product by 1/2).
  Fp2 half() const noexcept { return {c0.half(), c1.half()}; }
  /// this * xi = this * (9 + u).
  [[gnu::always_inline]] Fp2 mul_by_xi() const noexcept {
    const Fp t0 = c0.dbl().dbl().dbl() + c0;
    const Fp t1 = c1.dbl().dbl().dbl() + c1;
    return {t0 - c1, t1 + c0};
  }
  Fp2 conjugate() const noexcept { return {c0, -c1}; }
  /// The Frobenius map x -> x^p, which on Fp2 is conjugation.
  Fp2 frobenius() const noexcept { return conjugate(); }
  Fp norm() const noexcept { return c0.square() + c1.square(); }
  /// Inverse; the inverse of zero is zero.
  Fp2 inverse() const noexcept {
    const Fp t = norm().inverse();
    return {c0 * t, -(c1 * t)};
  }
  Fp2 pow_vartime(const Limbs& e) const noexcept {
    Fp2 r = one();
    for (int i = bit_length(e) - 1; i >= 0; --i) {
      r = r.square();
      if (bit_of(e, i)) r *= *this;
    }
    return r;
  }
  /// A square root when one exists: Adj and Rodriguez-Henriquez, "Square root computation over
  /// even extension fields", ePrint 2012/685, Algorithm 9 (p = 3 mod 4).
  std::optional<Fp2> sqrt_vartime() const noexcept;
};

struct Fp6 {
  Fp2 c0, c1, c2;  // c0 + c1*v + c2*v^2

  static Fp6 zero() noexcept { return {}; }
  static Fp6 one() noexcept { return {Fp2::one(), Fp2::zero(), Fp2::zero()}; }
  bool is_zero() const noexcept { return c0.is_zero() && c1.is_zero() && c2.is_zero(); }
  friend bool operator==(const Fp6& a, const Fp6& b) noexcept {
    return a.c0 == b.c0 && a.c1 == b.c1 && a.c2 == b.c2;
  }

  friend Fp6 operator+(const Fp6& a, const Fp6& b) noexcept {
    return {a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2};
  }
  friend Fp6 operator-(const Fp6& a, const Fp6& b) noexcept {
    return {a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2};
  }
  friend Fp6 operator-(const Fp6& a) noexcept { return {-a.c0, -a.c1, -a.c2}; }
  [[gnu::flatten]] friend Fp6 operator*(const Fp6& a, const Fp6& b) noexcept {
    // Karatsuba-style interpolation: six Fp2 multiplications (ePrint 2006/471 §4).
    const Fp2 t0 = a.c0 * b.c0;
    const Fp2 t1 = a.c1 * b.c1;
    const Fp2 t2 = a.c2 * b.c2;
    return {((a.c1 + a.c2) * (b.c1 + b.c2) - t1 - t2).mul_by_xi() + t0,
            (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1 + t2.mul_by_xi(),
            (a.c0 + a.c2) * (b.c0 + b.c2) - t0 - t2 + t1};
  }
  Fp6& operator+=(const Fp6& b) noexcept { return *this = *this + b; }
  Fp6& operator-=(const Fp6& b) noexcept { return *this = *this - b; }
  Fp6& operator*=(const Fp6& b) noexcept { return *this = *this * b; }

  [[gnu::flatten]] Fp6 square() const noexcept {
    // CH-SQR2 (ePrint 2006/471 §4.2).
    const Fp2 s0 = c0.square();
    const Fp2 s1 = (c0 * c1).dbl();
    const Fp2 s2 = (c0 - c1 + c2).square();
    const Fp2 s3 = (c1 * c2).dbl();
    const Fp2 s4 = c2.square();
    return {s3.mul_by_xi() + s0, s4.mul_by_xi() + s1, s1 + s2 + s3 - s0 - s4};
  }
  /// this * v.
  Fp6 mul_by_v() const noexcept { return {c2.mul_by_xi(), c0, c1}; }
  Fp6 mul_by_fp2(const Fp2& s) const noexcept { return {c0 * s, c1 * s, c2 * s}; }
  /// this * (b0 + b1 v).
  [[gnu::flatten]] Fp6 mul_by_01(const Fp2& b0, const Fp2& b1) const noexcept {
    // Five Fp2 products: Karatsuba only for the v coefficient (c0 b1 + c1 b0); c2 b1 and c2 b0
    // directly, which costs the same products as their Karatsuba forms and no extra additions.
    const Fp2 t0 = c0 * b0;
    const Fp2 t1 = c1 * b1;
    return {(c2 * b1).mul_by_xi() + t0, (c0 + c1) * (b0 + b1) - t0 - t1, c2 * b0 + t1};
  }
  Fp6 inverse() const noexcept {
    const Fp2 t0 = c0.square() - (c1 * c2).mul_by_xi();
    const Fp2 t1 = c2.square().mul_by_xi() - c0 * c1;
    const Fp2 t2 = c1.square() - c0 * c2;
    const Fp2 d = (c0 * t0 + (c2 * t1 + c1 * t2).mul_by_xi()).inverse();
    return {t0 * d, t1 * d, t2 * d};
  }
};

struct Fp12 {
  Fp6 c0, c1;  // c0 + c1*w

  static Fp12 zero() noexcept { return {}; }
  static Fp12 one() noexcept { return {Fp6::one(), Fp6::zero()}; }
  bool is_one() const noexcept { return c0 == Fp6::one() && c1.is_zero(); }
  friend bool operator==(const Fp12& a, const Fp12& b) noexcept {
    return a.c0 == b.c0 && a.c1 == b.c1;
  }

  friend Fp12 operator*(const Fp12& a, const Fp12& b) noexcept {
    const Fp6 t0 = a.c0 * b.c0;
    const Fp6 t1 = a.c1 * b.c1;
    return {t0 + t1.mul_by_v(), (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1};
  }
  Fp12& operator*=(const Fp12& b) noexcept { return *this = *this * b; }

  Fp12 square() const noexcept {
    // Complex squaring: two Fp6 multiplications.
    const Fp6 t = c0 * c1;
    return {(c0 + c1) * (c0 + c1.mul_by_v()) - t - t.mul_by_v(), t + t};
  }
  /// this * (a0 + a3 w + a4 v w): the sparse product with a line of the D-type twist.
  Fp12 mul_by_034(const Fp2& a0, const Fp2& a3, const Fp2& a4) const noexcept {
    const Fp6 t0 = c0.mul_by_fp2(a0);
    const Fp6 t1 = c1.mul_by_01(a3, a4);
    return {t0 + t1.mul_by_v(), (c0 + c1).mul_by_01(a0 + a3, a4) - t0 - t1};
  }
  /// (a0 + a3 w + a4 v w)(b0 + b3 w + b4 v w): the product of two lines, six Fp2
  /// multiplications; the result has c1.c2 = 0 (a "01234" element for mul_by_01234).
  static Fp12 mul_034_by_034(const Fp2& a0, const Fp2& a3, const Fp2& a4, const Fp2& b0,
                             const Fp2& b3, const Fp2& b4) noexcept {
    const Fp2 x00 = a0 * b0;
    const Fp2 x33 = a3 * b3;
    const Fp2 x44 = a4 * b4;
    const Fp2 x34 = (a3 + a4) * (b3 + b4) - x33 - x44;
    const Fp2 x03 = (a0 + a3) * (b0 + b3) - x00 - x33;
    const Fp2 x04 = (a0 + a4) * (b0 + b4) - x00 - x44;
    return {Fp6{x00 + x44.mul_by_xi(), x33, x34}, Fp6{x03, x04, Fp2::zero()}};
  }
  /// this * b for b with b.c1.c2 = 0 (seventeen Fp2 multiplications instead of eighteen).
  Fp12 mul_by_01234(const Fp12& b) const noexcept {
    const Fp6 t0 = c0 * b.c0;
    const Fp6 t1 = c1.mul_by_01(b.c1.c0, b.c1.c1);
    return {t0 + t1.mul_by_v(), (c0 + c1) * (b.c0 + b.c1) - t0 - t1};
  }
  /// this * (1 + a3 w + a4 v w), the product with a normalised line:
  /// (c0 + c1 w)(1 + s w) = (c0 + c1 s v) + (c0 s + c1) w with s = a3 + a4 v: two sparse Fp6
  /// products, as many Fp2 products as the Karatsuba form and six fewer Fp2 additions.
  Fp12 mul_by_34(const Fp2& a3, const Fp2& a4) const noexcept {
    return {c0 + c1.mul_by_01(a3, a4).mul_by_v(), c0.mul_by_01(a3, a4) + c1};
  }
  /// x^(p^6), the inverse of x in the cyclotomic subgroup.
  Fp12 conjugate() const noexcept { return {c0, -c1}; }
  Fp12 inverse() const noexcept {
    const Fp6 t = (c0.square() - c1.square().mul_by_v()).inverse();
    return {c0 * t, -(c1 * t)};
  }
  /// x^(p^k) for k = 1, 2, 3.
  Fp12 frobenius(int k) const noexcept;
  /// The square of an element of the cyclotomic subgroup (Granger–Scott).
  Fp12 cyclotomic_square() const noexcept;
  Fp12 pow_vartime(const Limbs& e) const noexcept {
    Fp12 r = one();
    for (int i = bit_length(e) - 1; i >= 0; --i) {
      r = r.square();
      if (bit_of(e, i)) r *= *this;
    }
    return r;
  }
};

/// Constants of the tower derived once from xi (not tables copied from elsewhere).
struct TowerConstants {
  /// gamma[k][i] = xi^(i (p^k - 1) / 6) for k = 1..3, i = 0..5: the Frobenius coefficients.
  Fp2 gamma[4][6];
  /// b' = 3 / xi, the twist's coefficient (y^2 = x^3 + b').
  Fp2 twist_b;
  /// 1/2 in Fp.
  Fp two_inv;
};

/// The tower constants, computed on first use (thread-safe).
const TowerConstants& tower_constants() noexcept;

}  // namespace pg::crypto
