// The groups G1 (y^2 = x^3 + 3 over Fp) and G2 (y^2 = x^3 + 3/xi over Fp2, the D-type sextic
// twist) in Jacobian coordinates. The group law and scalar multiplication are variable-time:
// the verifier only ever handles public points and scalars.
// Formulas: dbl-2009-l, add-2007-bl, madd-2007-bl from the Explicit-Formulas Database
// (hyperelliptic.org/EFD, short Weierstrass a = 0, Jacobian).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/tower.hpp"

namespace pg::crypto {

struct G1Params {
  using Field = Fp;
  static Fp b() noexcept { return Fp::from_u64(3); }
};

struct G2Params {
  using Field = Fp2;
  static const Fp2& b() noexcept { return tower_constants().twist_b; }
};

/// A point in affine coordinates; `infinity` marks the identity (x and y are then zero).
template <class P>
struct AffinePoint {
  using F = typename P::Field;
  F x{}, y{};
  bool infinity = true;

  static AffinePoint identity() noexcept { return {}; }
  static AffinePoint from_xy(const F& x, const F& y) noexcept { return {x, y, false}; }

  /// True for the identity and for (x, y) with y^2 = x^3 + b.
  bool is_on_curve() const noexcept { return infinity || y.square() == x.square() * x + P::b(); }
  AffinePoint negate() const noexcept { return infinity ? *this : AffinePoint{x, -y, false}; }
  friend bool operator==(const AffinePoint& a, const AffinePoint& b) noexcept {
    if (a.infinity || b.infinity) return a.infinity == b.infinity;
    return a.x == b.x && a.y == b.y;
  }
};

/// A scalar's width-5 non-adjacent form.
struct WNaf {
  std::int8_t digits[258];
  int length = 0;
};

/// The width-5 NAF of k: digits odd in [-15, 15] or zero, any nonzero digit followed by at
/// least four zeros, least significant first.
inline WNaf wnaf5(const Limbs& k) noexcept {
  WNaf naf;
  std::uint64_t n[5] = {k[0], k[1], k[2], k[3], 0};
  auto is_zero = [&n] { return (n[0] | n[1] | n[2] | n[3] | n[4]) == 0; };
  while (!is_zero()) {
    int d = 0;
    if (n[0] & 1) {
      d = static_cast<int>(n[0] & 31);
      if (d >= 16) d -= 32;
      // n -= d (d odd, |d| < 16), carrying through the five words.
      if (d > 0) {
        std::uint64_t borrow = static_cast<std::uint64_t>(d);
        for (int w = 0; w < 5 && borrow != 0; ++w) {
          const std::uint64_t before = n[w];
          n[w] -= borrow;
          borrow = before < borrow ? 1 : 0;
        }
      } else {
        std::uint64_t carry = static_cast<std::uint64_t>(-d);
        for (int w = 0; w < 5 && carry != 0; ++w) {
          n[w] += carry;
          carry = n[w] < carry ? 1 : 0;
        }
      }
    }
    naf.digits[naf.length++] = static_cast<std::int8_t>(d);
    for (int w = 0; w < 4; ++w) n[w] = (n[w] >> 1) | (n[w + 1] << 63);
    n[4] >>= 1;
  }
  return naf;
}

/// A point (X : Y : Z) standing for (X/Z^2, Y/Z^3); Z = 0 is the identity.
template <class P>
struct JacobianPoint {
  using F = typename P::Field;
  using Affine = AffinePoint<P>;
  F x{}, y{}, z{};

  static JacobianPoint identity() noexcept { return {F::one(), F::one(), F::zero()}; }
  static JacobianPoint from_affine(const Affine& a) noexcept {
    if (a.infinity) return identity();
    return {a.x, a.y, F::one()};
  }
  bool is_identity() const noexcept { return z.is_zero(); }

  Affine to_affine() const noexcept {
    if (is_identity()) return Affine::identity();
    const F zi = z.inverse();
    const F zi2 = zi.square();
    return Affine::from_xy(x * zi2, y * zi2 * zi);
  }

  friend bool operator==(const JacobianPoint& a, const JacobianPoint& b) noexcept {
    if (a.is_identity() || b.is_identity()) return a.is_identity() == b.is_identity();
    const F az2 = a.z.square();
    const F bz2 = b.z.square();
    return a.x * bz2 == b.x * az2 && a.y * bz2 * b.z == b.y * az2 * a.z;
  }

  JacobianPoint negate() const noexcept { return {x, -y, z}; }

  /// 2 * this (dbl-2009-l).
  JacobianPoint dbl() const noexcept {
    if (is_identity()) return *this;
    const F a = x.square();
    const F b = y.square();
    const F c = b.square();
    const F d = ((x + b).square() - a - c).dbl();
    const F e = a.dbl() + a;
    const F f = e.square();
    JacobianPoint r;
    r.x = f - d.dbl();
    r.y = e * (d - r.x) - c.dbl().dbl().dbl();
    r.z = (y * z).dbl();
    return r;
  }

  /// this + q (add-2007-bl), handling the identity and equal points.
  JacobianPoint add(const JacobianPoint& q) const noexcept {
    if (is_identity()) return q;
    if (q.is_identity()) return *this;
    const F z1z1 = z.square();
    const F z2z2 = q.z.square();
    const F u1 = x * z2z2;
    const F u2 = q.x * z1z1;
    const F s1 = y * q.z * z2z2;
    const F s2 = q.y * z * z1z1;
    const F h = u2 - u1;
    const F rr = (s2 - s1).dbl();
    if (h.is_zero()) return rr.is_zero() ? dbl() : identity();
    const F i = h.dbl().square();
    const F j = h * i;
    const F v = u1 * i;
    JacobianPoint r;
    r.x = rr.square() - j - v.dbl();
    r.y = rr * (v - r.x) - (s1 * j).dbl();
    r.z = ((z + q.z).square() - z1z1 - z2z2) * h;
    return r;
  }

  /// this + q for an affine q (madd-2007-bl).
  JacobianPoint add_mixed(const Affine& q) const noexcept {
    if (q.infinity) return *this;
    if (is_identity()) return from_affine(q);
    const F z1z1 = z.square();
    const F u2 = q.x * z1z1;
    const F s2 = q.y * z * z1z1;
    const F h = u2 - x;
    const F rr = (s2 - y).dbl();
    if (h.is_zero()) return rr.is_zero() ? dbl() : identity();
    const F hh = h.square();
    const F i = hh.dbl().dbl();
    const F j = h * i;
    const F v = x * i;
    JacobianPoint r;
    r.x = rr.square() - j - v.dbl();
    r.y = rr * (v - r.x) - (y * j).dbl();
    r.z = (z + h).square() - z1z1 - hh;
    return r;
  }

  /// k * this for a public scalar k (any 256-bit integer), by width-5 NAF: odd multiples
  /// this, 3 this, ..., 15 this, then one doubling per bit and an addition per nonzero digit
  /// (about one in six).
  JacobianPoint mul_vartime(const Limbs& k) const noexcept {
    const WNaf naf = wnaf5(k);
    if (naf.length == 0 || is_identity()) return identity();
    JacobianPoint odd[8];
    odd[0] = *this;
    const JacobianPoint twice = dbl();
    for (int i = 1; i < 8; ++i) odd[i] = odd[i - 1].add(twice);
    JacobianPoint r = identity();
    for (int i = naf.length - 1; i >= 0; --i) {
      if (!r.is_identity()) r = r.dbl();
      const int d = naf.digits[i];
      if (d > 0) r = r.add(odd[d / 2]);
      if (d < 0) r = r.add(odd[-d / 2].negate());
    }
    return r;
  }
};

using G1Affine = AffinePoint<G1Params>;
using G1 = JacobianPoint<G1Params>;
using G2Affine = AffinePoint<G2Params>;
using G2 = JacobianPoint<G2Params>;

/// Converts many points to affine form with one field inversion (Montgomery's trick).
template <class P>
std::vector<AffinePoint<P>> batch_to_affine(std::span<const JacobianPoint<P>> points) {
  using F = typename P::Field;
  std::vector<AffinePoint<P>> out(points.size());
  std::vector<F> prefix(points.size());
  F acc = F::one();
  for (std::size_t i = 0; i < points.size(); ++i) {
    prefix[i] = acc;
    if (!points[i].is_identity()) acc *= points[i].z;
  }
  F inv = acc.inverse();
  for (std::size_t i = points.size(); i-- > 0;) {
    if (points[i].is_identity()) continue;
    const F zi = inv * prefix[i];
    inv *= points[i].z;
    const F zi2 = zi.square();
    out[i] = AffinePoint<P>::from_xy(points[i].x * zi2, points[i].y * zi2 * zi);
  }
  return out;
}

/// sum_i k_i P_i for public points and scalars, by Straus's interleaving with 4-bit windows:
/// the doublings are shared by all points (for n points and b-bit scalars: b doublings,
/// about n*b/4 mixed additions, and n tables of 15 multiples normalised with one inversion).
template <class P>
JacobianPoint<P> msm_straus_vartime(std::span<const AffinePoint<P>> points,
                                    std::span<const Limbs> scalars) {
  using J = JacobianPoint<P>;
  constexpr int kDigits = 15;
  std::vector<J> multiples;
  multiples.reserve(points.size() * kDigits);
  int bits = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    bits = std::max(bits, bit_length(scalars[i]));
    J acc = J::from_affine(points[i]);
    for (int d = 1; d <= kDigits; ++d) {
      multiples.push_back(acc);
      acc = acc.add_mixed(points[i]);
    }
  }
  const std::vector<AffinePoint<P>> table = batch_to_affine<P>(multiples);
  J acc = J::identity();
  for (int w = (bits + 3) / 4 - 1; w >= 0; --w) {
    if (!acc.is_identity()) acc = acc.dbl().dbl().dbl().dbl();
    const int bit = 4 * w;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const unsigned d = static_cast<unsigned>((scalars[i][bit / 64] >> (bit % 64)) & 15);
      if (d != 0) acc = acc.add_mixed(table[i * kDigits + d - 1]);
    }
  }
  return acc;
}

/// The generators used by EIP-197 and snarkjs: G1 = (1, 2); G2 as in EIP-197.
const G1Affine& g1_generator() noexcept;
const G2Affine& g2_generator() noexcept;

/// The GLV endomorphism of G1 (Gallant, Lambert, Vanstone, CRYPTO 2001): phi(x, y) = (beta x, y),
/// with beta a primitive cube root of unity in Fp, acts on G1 as multiplication by lambda, a
/// primitive cube root of unity modulo r. Both are derived once from their definitions (not
/// copied tables) and paired by checking phi(G) = lambda G on the generator.
struct G1Endomorphism {
  Fp beta;
  Fr lambda;
};
const G1Endomorphism& g1_endomorphism() noexcept;

/// k = k1 + k2 lambda (mod r) with |k1|, |k2| < 2^129, for any 256-bit k (GLV decomposition by
/// Babai rounding against the lattice's short basis from the BN parameter x).
struct GlvSplit {
  Limbs k1{}, k2{};
  bool k1_negative = false, k2_negative = false;
};
GlvSplit glv_split(const Limbs& k) noexcept;

/// k p for a public scalar k (any 256-bit integer) on G1: k1 p + k2 phi(p) from glv_split with
/// interleaved width-5 NAFs, about half the doublings of JacobianPoint::mul_vartime.
G1 g1_mul_vartime(const G1& p, const Limbs& k) noexcept;

/// k q for a public scalar k (any 256-bit integer) on G2 (GLS: psi is multiplication by
/// p = 6x^2 mod r there): k0 q + k1 psi(q) with k = k0 + k1 6x^2, both parts below 2^127.
/// The point must be in G2.
G2 g2_mul_vartime(const G2& q, const Limbs& k) noexcept;

/// A scalar a + b lambda in GLV form; a and b are any 256-bit integers (the batch verifier
/// draws 64-bit ones).
struct GlvScalar {
  Limbs a{}, b{};
};

/// (a_i + b_i lambda) P_i for each i, separately: a_i P_i + b_i phi(P_i) by interleaved width-5
/// NAFs, so a b-bit pair costs b doublings instead of the 2b of its combined scalar. The odd
/// multiples of every P_i are normalised together with one inversion. Throws
/// std::invalid_argument when points and scalars differ in number.
std::vector<G1> g1_glv_mul_each_vartime(std::span<const G1Affine> points,
                                        std::span<const GlvScalar> scalars);

/// sum_i (a_i + b_i lambda) P_i: the same interleaving with the doublings shared by all points.
/// Throws std::invalid_argument when points and scalars differ in number.
G1 g1_glv_msm_vartime(std::span<const G1Affine> points, std::span<const GlvScalar> scalars);

/// The twisted Frobenius endomorphism psi(x, y) = (conj(x) xi^((p-1)/3), conj(y) xi^((p-1)/2))
/// of the twist; on G2 it acts as multiplication by p.
G2 g2_psi(const G2& q) noexcept;

/// Membership in the order-r subgroup of the twist, by the endomorphism test
/// [x+1]Q + psi([x]Q) + psi^2([x]Q) == psi^3([2x]Q) (ePrint 2022/348 §3 and §5.1, as used by
/// gnark-crypto). The point must be on the twist. The identity is in the subgroup.
bool g2_in_subgroup_vartime(const G2Affine& q) noexcept;

/// The slow reference test [r]Q == O, for tests.
bool g2_in_subgroup_slow_vartime(const G2Affine& q) noexcept;

}  // namespace pg::crypto
