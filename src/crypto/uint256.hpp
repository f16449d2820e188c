// 256-bit unsigned integers as four little-endian 64-bit limbs: the constexpr helpers the
// Montgomery fields, the decoders and the scalar loops are built from.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace pg::crypto {

using Limbs = std::array<std::uint64_t, 4>;
/// A 512-bit integer (products before Montgomery reduction), little-endian limbs.
using Wide = std::array<std::uint64_t, 8>;
using u128 = unsigned __int128;

/// a + b + carry_in; returns the low word, writes the carry (0 or 1) to carry_out.
constexpr std::uint64_t add_carry(std::uint64_t a, std::uint64_t b, std::uint64_t carry_in,
                                  std::uint64_t& carry_out) noexcept {
  const u128 s = static_cast<u128>(a) + b + carry_in;
  carry_out = static_cast<std::uint64_t>(s >> 64);
  return static_cast<std::uint64_t>(s);
}

/// a - b - borrow_in; returns the low word, writes the borrow (0 or 1) to borrow_out.
constexpr std::uint64_t sub_borrow(std::uint64_t a, std::uint64_t b, std::uint64_t borrow_in,
                                   std::uint64_t& borrow_out) noexcept {
  const u128 d = static_cast<u128>(a) - b - borrow_in;
  borrow_out = static_cast<std::uint64_t>(d >> 64) & 1;
  return static_cast<std::uint64_t>(d);
}

/// Returns a + b mod 2^256 and writes the carry out.
constexpr Limbs add_limbs(const Limbs& a, const Limbs& b, std::uint64_t& carry) noexcept {
  Limbs r{};
  carry = 0;
  for (int i = 0; i < 4; ++i) r[i] = add_carry(a[i], b[i], carry, carry);
  return r;
}

/// Returns a - b mod 2^256 and writes the borrow out.
constexpr Limbs sub_limbs(const Limbs& a, const Limbs& b, std::uint64_t& borrow) noexcept {
  Limbs r{};
  borrow = 0;
  for (int i = 0; i < 4; ++i) r[i] = sub_borrow(a[i], b[i], borrow, borrow);
  return r;
}

/// a - b mod 2^512; writes the borrow out.
constexpr Wide sub_wide(const Wide& a, const Wide& b, std::uint64_t& borrow) noexcept {
  Wide r{};
  borrow = 0;
  for (int i = 0; i < 8; ++i) r[i] = sub_borrow(a[i], b[i], borrow, borrow);
  return r;
}

/// a + (m << 256) when `mask` is all ones, a when it is zero (mod 2^512).
constexpr Wide add_high_masked(const Wide& a, const Limbs& m, std::uint64_t mask) noexcept {
  Wide r = a;
  std::uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) r[4 + i] = add_carry(a[4 + i], m[i] & mask, carry, carry);
  return r;
}

/// Three-way comparison of two 256-bit integers: -1, 0 or 1.
constexpr int compare_limbs(const Limbs& a, const Limbs& b) noexcept {
  for (int i = 3; i >= 0; --i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

constexpr bool is_zero_limbs(const Limbs& a) noexcept {
  return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/// a >> 1.
constexpr Limbs shr1_limbs(const Limbs& a) noexcept {
  return {(a[0] >> 1) | (a[1] << 63), (a[1] >> 1) | (a[2] << 63), (a[2] >> 1) | (a[3] << 63),
          a[3] >> 1};
}

/// Bit i (0 = least significant) of a.
constexpr bool bit_of(const Limbs& a, int i) noexcept {
  return (a[i / 64] >> (i % 64)) & 1;
}

/// Index of the highest set bit plus one; 0 for zero.
constexpr int bit_length(const Limbs& a) noexcept {
  for (int i = 3; i >= 0; --i) {
    if (a[i] != 0) return i * 64 + 64 - __builtin_clzll(a[i]);
  }
  return 0;
}

/// Parses a hexadecimal literal (no prefix, at most 64 digits) at compile time. Only for
/// constants written in the source: it does not report errors.
constexpr Limbs limbs_from_hex(std::string_view hex) noexcept {
  Limbs r{};
  int pos = 0;
  for (auto it = hex.rbegin(); it != hex.rend(); ++it, ++pos) {
    const char c = *it;
    const std::uint64_t d = c >= '0' && c <= '9'   ? static_cast<std::uint64_t>(c - '0')
                            : c >= 'a' && c <= 'f' ? static_cast<std::uint64_t>(c - 'a' + 10)
                                                   : static_cast<std::uint64_t>(c - 'A' + 10);
    r[pos / 16] |= d << (4 * (pos % 16));
  }
  return r;
}

/// Parses a canonical decimal string (digits only, no sign, no leading zero unless it is "0",
/// non-empty) into 256 bits. Returns false on any other string or when the value is >= 2^256.
constexpr bool limbs_from_decimal(std::string_view s, Limbs& out) noexcept {
  if (s.empty() || s.size() > 78) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  Limbs r{};
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    std::uint64_t carry = static_cast<std::uint64_t>(c - '0');
    for (int i = 0; i < 4; ++i) {
      const u128 t = static_cast<u128>(r[i]) * 10 + carry;
      r[i] = static_cast<std::uint64_t>(t);
      carry = static_cast<std::uint64_t>(t >> 64);
    }
    if (carry != 0) return false;
  }
  out = r;
  return true;
}

}  // namespace pg::crypto
