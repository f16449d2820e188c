// Deterministic random elements for the crypto tests (a fixed seed so that failures replay).
#pragma once

#include <random>

#include "crypto/curve.hpp"

namespace pg::crypto::testing {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0x70726f6f66676174ULL) : gen_(seed) {}

  std::uint64_t u64() { return gen_(); }

  Limbs limbs() { return {gen_(), gen_(), gen_(), gen_()}; }

  template <class F>
  F field() {
    for (;;) {
      Limbs l = limbs();
      l[3] &= (std::uint64_t{1} << 62) - 1;
      if (auto v = F::from_canonical_checked(l)) return *v;
    }
  }

  Fp2 fp2() { return {field<Fp>(), field<Fp>()}; }
  Fp6 fp6() { return {fp2(), fp2(), fp2()}; }
  Fp12 fp12() { return {fp6(), fp6()}; }

  G1 g1() { return G1::from_affine(g1_generator()).mul_vartime(field<Fr>().to_canonical()); }
  G2 g2() { return G2::from_affine(g2_generator()).mul_vartime(field<Fr>().to_canonical()); }

  /// A point on the twist curve that is (almost surely) not in G2.
  G2Affine twist_point_outside_g2() {
    for (;;) {
      const Fp2 x = fp2();
      const Fp2 rhs = x.square() * x + G2Params::b();
      if (auto y = rhs.sqrt_vartime()) {
        const G2Affine p = G2Affine::from_xy(x, *y);
        if (!g2_in_subgroup_slow_vartime(p)) return p;
      }
    }
  }

 private:
  std::mt19937_64 gen_;
};

}  // namespace pg::crypto::testing
