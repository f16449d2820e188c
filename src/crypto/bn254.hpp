// The BN254 (alt_bn128) curve's parameters and its two prime fields: Fp (coordinates) and Fr
// (scalars, public signals). Values from EIP-196 and the curve's definition (Barreto–Naehrig,
// x = 4965661367192848881).
#pragma once

#include <cstdint>

#include "crypto/field.hpp"

namespace pg::crypto {

struct FpConfig {
  /// p = 36x^4 + 36x^3 + 24x^2 + 6x + 1.
  static constexpr Limbs kModulus =
      limbs_from_hex("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47");
};

struct FrConfig {
  /// r = 36x^4 + 36x^3 + 18x^2 + 6x + 1, the order of G1, G2 and GT.
  static constexpr Limbs kModulus =
      limbs_from_hex("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001");
};

using Fp = MontField<FpConfig>;
using Fr = MontField<FrConfig>;

/// The BN parameter x (positive for BN254).
inline constexpr std::uint64_t kBnX = 4965661367192848881ULL;

}  // namespace pg::crypto
