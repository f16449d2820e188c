// The field template instantiated with tiny primes, where every product, sum, difference and
// inverse can be checked against plain integer arithmetic (the exhaustive-test habit of
// bitcoin-core/secp256k1's tests_exhaustive.c), on both multiplication paths.
#include <gtest/gtest.h>

#include "crypto/cpu.hpp"
#include "crypto/field.hpp"

namespace pg::crypto {
namespace {

struct Toy251 {
  static constexpr Limbs kModulus{251, 0, 0, 0};
};
struct Toy65521 {
  static constexpr Limbs kModulus{65521, 0, 0, 0};
};

template <class Config>
void check_exhaustively(std::uint64_t p, std::uint64_t stride) {
  using F = MontField<Config>;
  for (const bool adx : {true, false}) {
    set_adx_enabled(adx);
    for (std::uint64_t a = 0; a < p; a += (a < 4 || a + 4 > p) ? 1 : stride) {
      const F fa = F::from_u64(a);
      ASSERT_EQ(fa.to_canonical()[0], a);
      if (a != 0) {
        ASSERT_EQ((fa * fa.inverse()).to_canonical()[0], 1u) << a;
      }
      for (std::uint64_t b = 0; b < p; ++b) {
        const F fb = F::from_u64(b);
        ASSERT_EQ((fa * fb).to_canonical()[0], a * b % p) << a << " * " << b;
        ASSERT_EQ((fa + fb).to_canonical()[0], (a + b) % p) << a << " + " << b;
        ASSERT_EQ((fa - fb).to_canonical()[0], (a + p - b) % p) << a << " - " << b;
        ASSERT_EQ(F::reduce(F::mul_wide(fa, fb)), fa * fb);
      }
    }
  }
  set_adx_enabled(true);
}

TEST(ToyFieldTest, every_operation_on_every_pair_mod_251) {
  check_exhaustively<Toy251>(251, 1);
}

TEST(ToyFieldTest, every_b_for_a_sample_of_a_mod_65521) {
  check_exhaustively<Toy65521>(65521, 1021);
}

}  // namespace
}  // namespace pg::crypto
