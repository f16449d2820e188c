// The optimal ate pairing on BN254: G2 points prepared as their Miller-loop line coefficients,
// one multi-Miller loop over many pairs (prepared and on-the-fly), one final exponentiation.
// Line functions in homogeneous projective coordinates from Costello, Lange, Naehrig, "Faster
// Pairing Computations on Curves with High-Degree Twists" (ePrint 2009/615) as adapted to the
// D-type twist by Aranha et al. (ePrint 2010/354, Alg. 26 and 27); final exponentiation's hard
// part from Fuentes-Castaneda, Knapp, Rodriguez-Henriquez, "Faster hashing to G2" (SAC 2011, §6).
//
// The "pairing" computed here is e(P, Q)^(2x(6x^2 + 3x + 1)), a fixed power (coprime to r) of
// the reduced optimal ate pairing: bilinear and non-degenerate, and it agrees with every other
// implementation on whether a product of pairings equals one.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/curve.hpp"

namespace pg::crypto {

/// The signed binary digits of 6x + 2 (least significant first), the optimal ate loop count.
struct AteLoop {
  std::array<std::int8_t, 72> digits{};
  int length = 0;
  int nonzero = 0;
};

inline constexpr AteLoop kAteLoop = [] {
  AteLoop loop;
  u128 n = static_cast<u128>(kBnX) * 6 + 2;
  while (n != 0) {
    std::int8_t d = 0;
    if (n & 1) {
      d = static_cast<std::int8_t>(2 - static_cast<int>(n & 3));  // NAF digit: 1 or -1
      n = d == 1 ? n - 1 : n + 1;
      ++loop.nonzero;
    }
    loop.digits[loop.length++] = d;
    n >>= 1;
  }
  return loop;
}();

/// One line function: evaluated at P = (xP, yP) it is c0*yP + (c1*xP) w + c2 v w.
struct LineCoeffs {
  Fp2 c0, c1, c2;
};

/// Number of line functions in a Miller loop: one per doubling, one per nonzero digit below the
/// top, and two for the final additions of pi(Q) and -pi^2(Q).
inline constexpr int kMillerLines = (kAteLoop.length - 1) + (kAteLoop.nonzero - 1) + 2;

/// A G2 point with its Miller-loop lines computed once (mcl's precomputeG2, gnark's
/// MillerLoopFixedQ). Reused for every pairing with the same G2 point.
struct G2Prepared {
  std::vector<LineCoeffs> lines;  // empty for the identity
  bool infinity = true;
  /// Lines divided by their c0 (which the final exponentiation ignores, being in Fp2), so that
  /// c0 = 1 and evaluating a line costs a 10-multiplication sparse product instead of 13
  /// (the normalisation gnark-crypto's bn254 Miller loop uses). False only if some c0 was zero.
  bool normalized = false;

  /// Prepares q, which must be on the twist and in G2 (callers decode strictly first).
  static G2Prepared prepare(const G2Affine& q);
};

/// A pair whose G2 side was prepared.
struct PreparedPair {
  G1Affine p;
  const G2Prepared* q;
};

/// A pair whose G2 side's lines are computed during the loop.
struct PointPair {
  G1Affine p;
  G2Affine q;
};

/// The product of the Miller loops of all pairs, before the final exponentiation. Pairs with an
/// identity point contribute 1. Allocates (may throw std::bad_alloc) for many pairs.
Fp12 multi_miller_loop(std::span<const PreparedPair> prepared, std::span<const PointPair> dynamic);

/// f^((p^12 - 1)/r * 2x(6x^2 + 3x + 1)).
Fp12 final_exponentiation(const Fp12& f) noexcept;

/// e(P, Q) for points on the curve and in the subgroups.
Fp12 pairing(const G1Affine& p, const G2Affine& q);

/// True when the product of e(P_i, Q_i) is one (the EIP-197 precompile's question).
bool pairing_product_is_one(std::span<const PointPair> pairs);

}  // namespace pg::crypto
