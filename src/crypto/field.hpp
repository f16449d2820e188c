// Prime fields in Montgomery form on four 64-bit limbs, one type per modulus (a template over a
// config struct, so no global curve state and a toy modulus can use the same code in tests).
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/cpu.hpp"
#include "crypto/uint256.hpp"

namespace pg::crypto {

namespace detail {
constexpr Limbs mont_mul_portable(const Limbs& a, const Limbs& b, const Limbs& m,
                                  std::uint64_t inv) noexcept;

/// The 512-bit product of two 256-bit integers.
constexpr Wide mul_wide_portable(const Limbs& a, const Limbs& b) noexcept {
  Wide r{};
  for (int i = 0; i < 4; ++i) {
    std::uint64_t carry = 0;
    for (int j = 0; j < 4; ++j) {
      const u128 t = static_cast<u128>(a[j]) * b[i] + r[i + j] + carry;
      r[i + j] = static_cast<std::uint64_t>(t);
      carry = static_cast<std::uint64_t>(t >> 64);
    }
    r[i + 4] = carry;
  }
  return r;
}

/// Montgomery reduction w / 2^256 mod m for w < m * 2^256 (REDC, word by word); below m.
constexpr Limbs mont_reduce_portable(const Wide& w, const Limbs& m, std::uint64_t inv) noexcept {
  Wide t = w;
  for (int i = 0; i < 4; ++i) {
    const std::uint64_t q = t[i] * inv;
    std::uint64_t carry = 0;
    for (int j = 0; j < 4; ++j) {
      const u128 s = static_cast<u128>(q) * m[j] + t[i + j] + carry;
      t[i + j] = static_cast<std::uint64_t>(s);
      carry = static_cast<std::uint64_t>(s >> 64);
    }
    for (int j = i + 4; j < 8 && carry != 0; ++j) {
      const u128 s = static_cast<u128>(t[j]) + carry;
      t[j] = static_cast<std::uint64_t>(s);
      carry = static_cast<std::uint64_t>(s >> 64);
    }
  }
  const Limbs r{t[4], t[5], t[6], t[7]};
  std::uint64_t borrow = 0;
  const Limbs d = sub_limbs(r, m, borrow);
  return borrow ? r : d;
}

/// (a b + c d) / 2^256 mod m for a, c < 2m, b, d < m, 5m < 2^256: two 512-bit products, their
/// sum (below m 2^256), one reduction.
constexpr Limbs mont_mul_sum2_portable(const Limbs& a, const Limbs& b, const Limbs& c,
                                       const Limbs& d, const Limbs& m, std::uint64_t inv) noexcept {
  const Wide x = mul_wide_portable(a, b);
  const Wide y = mul_wide_portable(c, d);
  Wide s{};
  std::uint64_t carry = 0;
  for (int i = 0; i < 8; ++i) {
    const u128 t = static_cast<u128>(x[i]) + y[i] + carry;
    s[i] = static_cast<std::uint64_t>(t);
    carry = static_cast<std::uint64_t>(t >> 64);
  }
  return mont_reduce_portable(s, m, inv);
}
}  // namespace detail

}  // namespace pg::crypto

#include "crypto/field_x86.hpp"

namespace pg::crypto {

namespace detail {

/// -m^{-1} mod 2^64 by Newton iteration (each step doubles the number of correct bits).
constexpr std::uint64_t neg_inverse_mod_2_64(std::uint64_t m0) noexcept {
  std::uint64_t inv = 1;
  for (int i = 0; i < 7; ++i) inv *= 2 - m0 * inv;
  return ~inv + 1;
}

/// (a + b) mod m and (a - b) mod m at run time: the x86-64 assembly where available.
inline Limbs add_mod(const Limbs& a, const Limbs& b, const Limbs& m) noexcept {
#if defined(__x86_64__)
  return add_mod_x86(a, b, m);
#else
  std::uint64_t carry = 0, borrow = 0;
  const Limbs s = add_limbs(a, b, carry);
  const Limbs t = sub_limbs(s, m, borrow);
  return borrow ? s : t;
#endif
}

inline Limbs sub_mod(const Limbs& a, const Limbs& b, const Limbs& m) noexcept {
#if defined(__x86_64__)
  return sub_mod_x86(a, b, m);
#else
  std::uint64_t borrow = 0, carry = 0;
  const Limbs d = sub_limbs(a, b, borrow);
  const std::uint64_t mask = ~(borrow - 1);
  return add_limbs(d, Limbs{mask & m[0], mask & m[1], mask & m[2], mask & m[3]}, carry);
#endif
}

/// (2 * a) mod m for a < m < 2^255.
constexpr Limbs double_mod(const Limbs& a, const Limbs& m) noexcept {
  std::uint64_t carry = 0;
  Limbs r = add_limbs(a, a, carry);
  if (compare_limbs(r, m) >= 0) r = sub_limbs(r, m, carry);
  return r;
}

/// 2^256 mod m, by 256 modular doublings of 1 (any odd m < 2^255).
constexpr Limbs pow2_256_mod(const Limbs& m) noexcept {
  Limbs r{1, 0, 0, 0};
  for (int i = 0; i < 256; ++i) r = double_mod(r, m);
  return r;
}

/// Montgomery multiplication a*b/2^256 mod m, CIOS with the "no-carry" shortcut that is valid
/// when the top limb of m is below 2^63 - 1 (gnark-crypto, "Faster big-integer modular
/// multiplication for most moduli", ePrint 2022/1400 §2). Inputs below m, output below m.
constexpr Limbs mont_mul_portable(const Limbs& a, const Limbs& b, const Limbs& m,
                                  std::uint64_t inv) noexcept {
  std::uint64_t t[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    u128 acc = static_cast<u128>(a[0]) * b[i] + t[0];
    std::uint64_t A = static_cast<std::uint64_t>(acc >> 64);
    t[0] = static_cast<std::uint64_t>(acc);
    const std::uint64_t mq = t[0] * inv;
    acc = static_cast<u128>(mq) * m[0] + t[0];
    std::uint64_t C = static_cast<std::uint64_t>(acc >> 64);
    for (int j = 1; j < 4; ++j) {
      acc = static_cast<u128>(a[j]) * b[i] + t[j] + A;
      A = static_cast<std::uint64_t>(acc >> 64);
      t[j] = static_cast<std::uint64_t>(acc);
      acc = static_cast<u128>(mq) * m[j] + t[j] + C;
      C = static_cast<std::uint64_t>(acc >> 64);
      t[j - 1] = static_cast<std::uint64_t>(acc);
    }
    t[3] = C + A;
  }
  Limbs r{t[0], t[1], t[2], t[3]};
  std::uint64_t borrow = 0;
  const Limbs s = sub_limbs(r, m, borrow);
  return borrow ? r : s;
}

}  // namespace detail

/// An element of Z/pZ for the 4-limb odd prime Config::kModulus < 2^254 (so that a + b never
/// overflows 256 bits and the no-carry multiplication applies), kept in Montgomery form a*2^256.
/// All arithmetic is constant-time except the functions named `_vartime`.
template <class Config>
class MontField {
 public:
  static constexpr Limbs kModulus = Config::kModulus;
  static constexpr std::uint64_t kInv = detail::neg_inverse_mod_2_64(kModulus[0]);
  static constexpr Limbs kR = detail::pow2_256_mod(kModulus);
  static constexpr Limbs kR2 = [] {
    Limbs r = kR;
    for (int i = 0; i < 256; ++i) r = detail::double_mod(r, kModulus);
    return r;
  }();
  static_assert(kModulus[0] & 1, "modulus must be odd");
  static_assert(kModulus[3] < (std::uint64_t{1} << 62), "modulus must be below 2^254");
  static_assert(kModulus[0] * (~kInv + 1) == 1, "Montgomery constant");

  constexpr MontField() noexcept = default;

  static constexpr MontField zero() noexcept { return MontField(); }
  static constexpr MontField one() noexcept { return from_montgomery(kR); }

  /// The element whose Montgomery representation is `m` (m must be below the modulus).
  static constexpr MontField from_montgomery(const Limbs& m) noexcept {
    MontField r;
    r.v_ = m;
    return r;
  }

  /// The element equal to the integer `a`, which must be below the modulus.
  static constexpr MontField from_canonical(const Limbs& a) noexcept {
    return from_montgomery(mul_limbs(a, kR2));
  }

  /// The element equal to `a`, or nullopt when a >= modulus (strict decoding never reduces).
  static constexpr std::optional<MontField> from_canonical_checked(const Limbs& a) noexcept {
    if (compare_limbs(a, kModulus) >= 0) return std::nullopt;
    return from_canonical(a);
  }

  static constexpr MontField from_u64(std::uint64_t a) noexcept {
    return from_canonical(Limbs{a, 0, 0, 0});
  }

  /// The integer in [0, modulus) this element stands for.
  constexpr Limbs to_canonical() const noexcept { return mul_limbs(v_, Limbs{1, 0, 0, 0}); }
  constexpr const Limbs& montgomery() const noexcept { return v_; }

  constexpr bool is_zero() const noexcept { return is_zero_limbs(v_); }
  constexpr bool is_one() const noexcept { return v_ == kR; }
  friend constexpr bool operator==(const MontField& a, const MontField& b) noexcept {
    return a.v_ == b.v_;
  }

  friend constexpr MontField operator+(const MontField& a, const MontField& b) noexcept {
    if (!std::is_constant_evaluated())
      return from_montgomery(detail::add_mod(a.v_, b.v_, kModulus));
    std::uint64_t carry = 0, borrow = 0;
    const Limbs s = add_limbs(a.v_, b.v_, carry);
    const Limbs t = sub_limbs(s, kModulus, borrow);
    return from_montgomery(borrow ? s : t);
  }
  friend constexpr MontField operator-(const MontField& a, const MontField& b) noexcept {
    if (!std::is_constant_evaluated())
      return from_montgomery(detail::sub_mod(a.v_, b.v_, kModulus));
    std::uint64_t borrow = 0, carry = 0;
    const Limbs d = sub_limbs(a.v_, b.v_, borrow);
    const std::uint64_t mask = ~(borrow - 1);
    const Limbs m{mask & kModulus[0], mask & kModulus[1], mask & kModulus[2], mask & kModulus[3]};
    return from_montgomery(add_limbs(d, m, carry));
  }
  friend constexpr MontField operator-(const MontField& a) noexcept { return zero() - a; }
  friend constexpr MontField operator*(const MontField& a, const MontField& b) noexcept {
    return from_montgomery(mul_limbs(a.v_, b.v_));
  }
  constexpr MontField& operator+=(const MontField& b) noexcept { return *this = *this + b; }
  constexpr MontField& operator-=(const MontField& b) noexcept { return *this = *this - b; }
  constexpr MontField& operator*=(const MontField& b) noexcept { return *this = *this * b; }

  constexpr MontField dbl() const noexcept { return *this + *this; }

  /// a + b without the final reduction: the result may be in [p, 2p). Only for use as an input
  /// of a multiplication, which accepts operands below 2p because 4p < 2^256 (the product's
  /// Montgomery reduction stays below 2p and its final subtraction brings it below p).
  static constexpr MontField add_unreduced(const MontField& a, const MontField& b) noexcept {
    std::uint64_t carry = 0;
    return from_montgomery(add_limbs(a.v_, b.v_, carry));
  }
  constexpr MontField square() const noexcept { return *this * *this; }

  /// The 512-bit product of the Montgomery representations (a*b*2^512), for lazy reduction:
  /// sums and differences of such products are reduced once by `reduce`. Operands may be
  /// unreduced sums below 2p.
  static Wide mul_wide(const MontField& a, const MontField& b) noexcept {
    if (cpu_has_adx()) return detail::mul_wide_adx(a.v_, b.v_);
    return detail::mul_wide_portable(a.v_, b.v_);
  }

  /// The element w / 2^256 mod p for a 512-bit w below p * 2^256.
  static MontField reduce(const Wide& w) noexcept {
    if (cpu_has_adx()) return from_montgomery(detail::mont_reduce_adx(w, kModulus, kInv));
    return from_montgomery(detail::mont_reduce_portable(w, kModulus, kInv));
  }

  /// a*b + c*d with one Montgomery reduction. a and c may be unreduced sums below 2p.
  static MontField sum_of_products(const MontField& a, const MontField& b, const MontField& c,
                                   const MontField& d) noexcept {
    // The assembly keeps each row's partial sum (below 5m) in five words: 5m < 2^256, which
    // BN254's p and r satisfy; a modulus just below 2^254 would not.
    static_assert(kModulus[3] < 0x3333333333333333, "sum_of_products needs 5 * modulus < 2^256");
    if (cpu_has_adx()) [[likely]]
      return from_montgomery(detail::mont_mul_sum2_adx(a.v_, b.v_, c.v_, d.v_, kModulus, kInv));
    return from_montgomery(sum2_portable_outlined(a.v_, b.v_, c.v_, d.v_));
  }

  /// this / 2.
  constexpr MontField half() const noexcept {
    // Add the modulus when odd (the sum stays below 2^255), then shift.
    std::uint64_t carry = 0;
    const Limbs mask{(v_[0] & 1) ? kModulus[0] : 0, (v_[0] & 1) ? kModulus[1] : 0,
                     (v_[0] & 1) ? kModulus[2] : 0, (v_[0] & 1) ? kModulus[3] : 0};
    return from_montgomery(shr1_limbs(add_limbs(v_, mask, carry)));
  }

  /// this^e for a public exponent e.
  constexpr MontField pow_vartime(const Limbs& e) const noexcept {
    MontField r = one();
    for (int i = bit_length(e) - 1; i >= 0; --i) {
      r = r.square();
      if (bit_of(e, i)) r *= *this;
    }
    return r;
  }

  /// Multiplicative inverse by Fermat's little theorem; the inverse of zero is zero.
  constexpr MontField inverse() const noexcept {
    std::uint64_t borrow = 0;
    return pow_vartime(sub_limbs(kModulus, Limbs{2, 0, 0, 0}, borrow));
  }

  /// 1 for a nonzero square, -1 for a non-square, 0 for zero (Euler's criterion).
  constexpr int legendre_vartime() const noexcept {
    const MontField t = pow_vartime(shr1_limbs(kModulus));
    if (t.is_zero()) return 0;
    return t.is_one() ? 1 : -1;
  }

  /// A square root when one exists (for moduli = 3 mod 4: a^((p+1)/4)).
  constexpr std::optional<MontField> sqrt_vartime() const noexcept {
    static_assert((kModulus[0] & 3) == 3, "sqrt_vartime needs p = 3 mod 4");
    std::uint64_t carry = 0;
    const Limbs e = shr1_limbs(shr1_limbs(add_limbs(kModulus, Limbs{1, 0, 0, 0}, carry)));
    const MontField r = pow_vartime(e);
    if (!(r.square() == *this)) return std::nullopt;
    return r;
  }

 private:
  // The ADX path is inlined into every caller; the portable path stays out of line so that hot
  // code holds one copy of the multiplication.
  [[gnu::always_inline]] static constexpr Limbs mul_limbs(const Limbs& a, const Limbs& b) noexcept {
    if (std::is_constant_evaluated()) return detail::mont_mul_portable(a, b, kModulus, kInv);
    if (cpu_has_adx()) [[likely]]
      return detail::mont_mul_adx(a, b, kModulus, kInv);
    return mul_portable_outlined(a, b);
  }
  [[gnu::noinline]] static Limbs mul_portable_outlined(const Limbs& a, const Limbs& b) noexcept {
    return detail::mont_mul_portable(a, b, kModulus, kInv);
  }

  [[gnu::noinline]] static Limbs sum2_portable_outlined(const Limbs& a, const Limbs& b,
                                                        const Limbs& c, const Limbs& d) noexcept {
    return detail::mont_mul_sum2_portable(a, b, c, d, kModulus, kInv);
  }

  Limbs v_{0, 0, 0, 0};
};

}  // namespace pg::crypto
