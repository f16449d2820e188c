// Field and tower tests: algebraic laws on random elements, edge values, both multiplication
// paths, Frobenius maps against exponentiation, square roots.
#include <gtest/gtest.h>

#include "crypto/cpu.hpp"
#include "crypto/tower.hpp"
#include "test_util.hpp"

namespace pg::crypto {
namespace {

using testing::Rng;

template <class F>
class PrimeFieldTest : public ::testing::Test {};
using PrimeFields = ::testing::Types<Fp, Fr>;
TYPED_TEST_SUITE(PrimeFieldTest, PrimeFields);

template <class F>
F minus_one() {
  return F::zero() - F::one();
}

TYPED_TEST(PrimeFieldTest, ring_laws_hold_on_random_elements) {
  using F = TypeParam;
  Rng rng;
  for (int i = 0; i < 500; ++i) {
    const F a = rng.field<F>(), b = rng.field<F>(), c = rng.field<F>();
    EXPECT_EQ(a + b, b + a);
    EXPECT_EQ(a * b, b * a);
    EXPECT_EQ((a + b) + c, a + (b + c));
    EXPECT_EQ((a * b) * c, a * (b * c));
    EXPECT_EQ(a * (b + c), a * b + a * c);
    EXPECT_EQ(a - a, F::zero());
    EXPECT_EQ(a + (-a), F::zero());
    EXPECT_EQ(a * F::one(), a);
    EXPECT_EQ(a.dbl(), a + a);
    EXPECT_EQ(a.square(), a * a);
    EXPECT_EQ(a.half().dbl(), a);
    EXPECT_LT(compare_limbs(a.to_canonical(), F::kModulus), 0);
    EXPECT_LT(compare_limbs(a.montgomery(), F::kModulus), 0);
  }
}

TYPED_TEST(PrimeFieldTest, inverse_times_element_is_one) {
  using F = TypeParam;
  Rng rng;
  for (int i = 0; i < 50; ++i) {
    const F a = rng.field<F>();
    EXPECT_EQ(a * a.inverse(), F::one());
  }
  EXPECT_EQ(F::zero().inverse(), F::zero());
  EXPECT_EQ(minus_one<F>() * minus_one<F>(), F::one());
}

TYPED_TEST(PrimeFieldTest, aliasing_operands_give_the_same_results) {
  using F = TypeParam;
  Rng rng;
  F a = rng.field<F>();
  const F a2 = a * a;
  a *= a;
  EXPECT_EQ(a, a2);
  F b = rng.field<F>();
  const F b2 = b + b;
  b += b;
  EXPECT_EQ(b, b2);
  b -= b;
  EXPECT_EQ(b, F::zero());
}

TYPED_TEST(PrimeFieldTest, edge_values_reduce_correctly) {
  using F = TypeParam;
  std::uint64_t borrow = 0;
  const Limbs pm1 = sub_limbs(F::kModulus, Limbs{1, 0, 0, 0}, borrow);
  const auto m1 = F::from_canonical_checked(pm1);
  ASSERT_TRUE(m1.has_value());
  EXPECT_EQ(*m1, minus_one<F>());
  EXPECT_EQ(*m1 + F::one(), F::zero());
  EXPECT_EQ(m1->to_canonical(), pm1);
  EXPECT_FALSE(F::from_canonical_checked(F::kModulus).has_value());
  EXPECT_FALSE(F::from_canonical_checked(Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL}).has_value());
  EXPECT_EQ(F::zero().to_canonical(), (Limbs{0, 0, 0, 0}));
  EXPECT_EQ(F::one().to_canonical(), (Limbs{1, 0, 0, 0}));
  EXPECT_EQ(F::from_u64(7) * F::from_u64(6), F::from_u64(42));
  EXPECT_EQ(F::zero() - F::one(), *m1);
}

TYPED_TEST(PrimeFieldTest, adx_and_portable_paths_agree) {
  using F = TypeParam;
  if (!cpu_supports_adx()) GTEST_SKIP() << "CPU has no BMI2/ADX; only the portable path exists";
  Rng rng;
  std::uint64_t borrow = 0;
  const Limbs pm1 = sub_limbs(F::kModulus, Limbs{1, 0, 0, 0}, borrow);
  for (int i = 0; i < 2000; ++i) {
    Limbs a = rng.field<F>().montgomery(), b = rng.field<F>().montgomery();
    if (i == 0) a = b = pm1;
    if (i == 1) a = pm1, b = Limbs{0, 0, 0, 0};
    if (i == 2) a = pm1, b = F::kR;
    const Limbs portable = detail::mont_mul_portable(a, b, F::kModulus, F::kInv);
    const Limbs adx = detail::mont_mul_adx(a, b, F::kModulus, F::kInv);
    ASSERT_EQ(portable, adx) << "iteration " << i;
  }
}

TYPED_TEST(PrimeFieldTest, multiplication_accepts_unreduced_sums_below_2p) {
  using F = TypeParam;
  Rng rng;
  const F m1 = minus_one<F>();
  for (int i = 0; i < 500; ++i) {
    F a = rng.field<F>(), b = rng.field<F>(), c = rng.field<F>(), d = rng.field<F>();
    if (i == 0) a = b = c = d = m1;
    const F lazy = F::add_unreduced(a, b) * F::add_unreduced(c, d);
    EXPECT_EQ(lazy, (a + b) * (c + d));
    EXPECT_LT(compare_limbs(lazy.montgomery(), F::kModulus), 0);
    set_adx_enabled(false);
    EXPECT_EQ(F::add_unreduced(a, b) * F::add_unreduced(c, d), lazy);
    set_adx_enabled(true);
  }
}

TYPED_TEST(PrimeFieldTest, wide_product_then_reduce_equals_multiplication) {
  using F = TypeParam;
  Rng rng;
  const F m1 = minus_one<F>();
  for (int i = 0; i < 500; ++i) {
    F a = rng.field<F>(), b = rng.field<F>();
    if (i == 0) a = b = m1;
    if (i == 1) a = F::zero();
    const F expected = a * b;
    EXPECT_EQ(F::reduce(F::mul_wide(a, b)), expected);
    EXPECT_EQ(detail::mul_wide_portable(a.montgomery(), b.montgomery()), F::mul_wide(a, b));
    set_adx_enabled(false);
    EXPECT_EQ(F::reduce(F::mul_wide(a, b)), expected);
    set_adx_enabled(true);
    // The largest value reduce accepts: p * 2^256 - 1.
    const Limbs& p = F::kModulus;
    std::uint64_t borrow = 0;
    const Wide top = sub_wide(Wide{0, 0, 0, 0, p[0], p[1], p[2], p[3]}, Wide{1}, borrow);
    const Limbs adx = F::reduce(top).montgomery();
    EXPECT_EQ(adx, detail::mont_reduce_portable(top, p, F::kInv));
    EXPECT_LT(compare_limbs(adx, p), 0);
  }
}

TYPED_TEST(PrimeFieldTest, forced_portable_path_computes_the_same_products) {
  using F = TypeParam;
  Rng rng;
  const F a = rng.field<F>(), b = rng.field<F>();
  const F fast = a * b;
  set_adx_enabled(false);
  const F slow = a * b;
  set_adx_enabled(true);
  EXPECT_EQ(fast, slow);
}

TYPED_TEST(PrimeFieldTest, sum_of_products_matches_two_products_and_a_sum) {
  using F = TypeParam;
  Rng rng;
  const F m1 = minus_one<F>();
  // Edge values, including unreduced sums up to 2p - 2 as first operands.
  std::vector<F> values{F::zero(), F::one(), m1, F::from_u64(2), m1 - F::one()};
  for (int i = 0; i < 3; ++i) values.push_back(rng.field<F>());
  auto check = [](const F& a, const F& b, const F& c, const F& d) {
    const F expected = a * b + c * d;
    ASSERT_EQ(F::sum_of_products(a, b, c, d), expected);
    set_adx_enabled(false);
    const F portable = F::sum_of_products(a, b, c, d);
    set_adx_enabled(true);
    ASSERT_EQ(portable, expected);
  };
  for (const F& a : values)
    for (const F& b : values)
      for (const F& c : values)
        for (const F& d : values) {
          check(a, b, c, d);
          check(F::add_unreduced(a, m1), b, F::add_unreduced(c, m1), d);
        }
  for (int i = 0; i < 5000; ++i) {
    const F a = rng.field<F>(), b = rng.field<F>(), c = rng.field<F>(), d = rng.field<F>();
    check(a, b, c, d);
    check(F::add_unreduced(a, rng.field<F>()), b, F::add_unreduced(c, rng.field<F>()), d);
  }
}

TEST(FpTest, square_roots_exist_exactly_for_squares) {
  Rng rng;
  for (int i = 0; i < 30; ++i) {
    const Fp a = rng.field<Fp>();
    const auto r = a.square().sqrt_vartime();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->square(), a.square());
    // -1 is a non-residue since p = 3 mod 4, so -a^2 has no root.
    EXPECT_FALSE((-a.square()).sqrt_vartime().has_value());
  }
}

TEST(LimbsTest, decimal_parsing_is_strict) {
  Limbs l{};
  EXPECT_TRUE(limbs_from_decimal("0", l));
  EXPECT_EQ(l, (Limbs{0, 0, 0, 0}));
  EXPECT_TRUE(limbs_from_decimal("18446744073709551616", l));
  EXPECT_EQ(l, (Limbs{0, 1, 0, 0}));
  EXPECT_FALSE(limbs_from_decimal("", l));
  EXPECT_FALSE(limbs_from_decimal("01", l));
  EXPECT_FALSE(limbs_from_decimal("-1", l));
  EXPECT_FALSE(limbs_from_decimal("+1", l));
  EXPECT_FALSE(limbs_from_decimal("1 ", l));
  EXPECT_FALSE(limbs_from_decimal("0x10", l));
  EXPECT_FALSE(limbs_from_decimal("1e3", l));
  // 2^256 - 1 parses, 2^256 does not.
  EXPECT_TRUE(limbs_from_decimal(
      "115792089237316195423570985008687907853269984665640564039457584007913129639935", l));
  EXPECT_FALSE(limbs_from_decimal(
      "115792089237316195423570985008687907853269984665640564039457584007913129639936", l));
}

TEST(Fp2Test, lazy_karatsuba_matches_schoolbook_on_edge_values) {
  Rng rng;
  const Fp m1 = -Fp::one();
  const Fp values[] = {Fp::zero(), Fp::one(), m1, rng.field<Fp>(), rng.field<Fp>()};
  for (const Fp& a0 : values)
    for (const Fp& a1 : values)
      for (const Fp& b0 : values)
        for (const Fp& b1 : values) {
          const Fp2 a{a0, a1}, b{b0, b1};
          const Fp2 schoolbook{a0 * b0 - a1 * b1, a0 * b1 + a1 * b0};
          ASSERT_EQ(a * b, schoolbook);
          set_adx_enabled(false);
          const Fp2 portable = a * b;
          set_adx_enabled(true);
          ASSERT_EQ(portable, schoolbook);
        }
}

TEST(Fp2Test, product_and_square_match_schoolbook_on_random_elements_on_both_paths) {
  Rng rng;
  for (int i = 0; i < 5000; ++i) {
    const Fp2 a = rng.fp2(), b = rng.fp2();
    const Fp2 schoolbook{a.c0 * b.c0 - a.c1 * b.c1, a.c0 * b.c1 + a.c1 * b.c0};
    const Fp2 square{a.c0 * a.c0 - a.c1 * a.c1, (a.c0 * a.c1).dbl()};
    ASSERT_EQ(a * b, schoolbook);
    ASSERT_EQ(a.square(), square);
    set_adx_enabled(false);
    const Fp2 portable = a * b, portable_square = a.square();
    set_adx_enabled(true);
    ASSERT_EQ(portable, schoolbook);
    ASSERT_EQ(portable_square, square);
  }
}

TEST(Fp2Test, half_matches_the_product_by_one_half_on_random_and_edge_values) {
  Rng rng;
  const Fp2 two_inv{Fp::from_u64(2).inverse(), Fp::zero()};
  std::vector<Fp2> values{Fp2::zero(), Fp2::one(), -Fp2::one(), Fp2{Fp::one(), -Fp::one()}};
  for (int i = 0; i < 5000; ++i) values.push_back(rng.fp2());
  for (const Fp2& a : values) {
    ASSERT_EQ(a.half(), a * two_inv);
    ASSERT_EQ(a.half().dbl(), a);
  }
}

TEST(Fp2Test, field_laws_and_inverse) {
  Rng rng;
  for (int i = 0; i < 100; ++i) {
    const Fp2 a = rng.fp2(), b = rng.fp2(), c = rng.fp2();
    EXPECT_EQ(a * (b + c), a * b + a * c);
    EXPECT_EQ((a * b) * c, a * (b * c));
    EXPECT_EQ(a.square(), a * a);
    EXPECT_EQ(a * a.inverse(), Fp2::one());
    EXPECT_EQ(a.mul_by_xi(), a * (Fp2{Fp::from_u64(9), Fp::one()}));
    EXPECT_EQ(a.frobenius(), a.pow_vartime(Fp::kModulus));
  }
  const Fp2 u{Fp::zero(), Fp::one()};
  EXPECT_EQ(u * u, -Fp2::one());
}

TEST(Fp2Test, square_roots_of_squares_and_non_squares) {
  Rng rng;
  int non_squares = 0;
  for (int i = 0; i < 30; ++i) {
    const Fp2 a = rng.fp2();
    const auto r = a.square().sqrt_vartime();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->square(), a.square());
    if (!rng.fp2().sqrt_vartime()) ++non_squares;
  }
  EXPECT_GT(non_squares, 0);
  EXPECT_EQ(*Fp2::zero().sqrt_vartime(), Fp2::zero());
}

TEST(Fp6Test, field_laws_and_inverse) {
  Rng rng;
  for (int i = 0; i < 50; ++i) {
    const Fp6 a = rng.fp6(), b = rng.fp6(), c = rng.fp6();
    EXPECT_EQ(a * (b + c), a * b + a * c);
    EXPECT_EQ((a * b) * c, a * (b * c));
    EXPECT_EQ(a.square(), a * a);
    EXPECT_EQ(a * a.inverse(), Fp6::one());
    const Fp6 v{Fp2::zero(), Fp2::one(), Fp2::zero()};
    EXPECT_EQ(a.mul_by_v(), a * v);
    EXPECT_EQ(a.mul_by_01(b.c0, b.c1), a * (Fp6{b.c0, b.c1, Fp2::zero()}));
  }
}

TEST(Fp12Test, field_laws_inverse_and_sparse_product) {
  Rng rng;
  for (int i = 0; i < 30; ++i) {
    const Fp12 a = rng.fp12(), b = rng.fp12(), c = rng.fp12();
    EXPECT_EQ((a * b) * c, a * (b * c));
    EXPECT_EQ(a * b, b * a);
    EXPECT_EQ(a.square(), a * a);
    EXPECT_EQ(a * a.inverse(), Fp12::one());
    const Fp2 x = rng.fp2(), y = rng.fp2(), z = rng.fp2();
    const Fp12 sparse{Fp6{x, Fp2::zero(), Fp2::zero()}, Fp6{y, z, Fp2::zero()}};
    EXPECT_EQ(a.mul_by_034(x, y, z), a * sparse);
    EXPECT_EQ(a.mul_by_34(y, z), a.mul_by_034(Fp2::one(), y, z));
    const Fp2 u = rng.fp2(), v = rng.fp2(), w = rng.fp2();
    const Fp12 sparse2{Fp6{u, Fp2::zero(), Fp2::zero()}, Fp6{v, w, Fp2::zero()}};
    const Fp12 both = Fp12::mul_034_by_034(x, y, z, u, v, w);
    EXPECT_EQ(both, sparse * sparse2);
    EXPECT_TRUE(both.c1.c2.is_zero());
    EXPECT_EQ(a.mul_by_01234(both), a * both);
  }
}

TEST(Fp12Test, sparse_products_match_dense_products_on_random_and_edge_values_on_both_paths) {
  Rng rng;
  const Fp2 edges[] = {Fp2::zero(), Fp2::one(), -Fp2::one(), Fp2{Fp::zero(), -Fp::one()}};
  auto check = [](const Fp12& a, const Fp2& x, const Fp2& y, const Fp2& z) {
    const Fp6 c0_sparse{x, y, Fp2::zero()};
    ASSERT_EQ(a.c0.mul_by_01(x, y), a.c0 * c0_sparse);
    const Fp12 line{Fp6{x, Fp2::zero(), Fp2::zero()}, Fp6{y, z, Fp2::zero()}};
    const Fp12 normalised{Fp6::one(), Fp6{y, z, Fp2::zero()}};
    ASSERT_EQ(a.mul_by_034(x, y, z), a * line);
    ASSERT_EQ(a.mul_by_34(y, z), a * normalised);
  };
  for (int path = 0; path < 2; ++path) {
    set_adx_enabled(path == 0);
    for (int i = 0; i < 2000; ++i) {
      Fp12 a = rng.fp12();
      Fp2 x = rng.fp2(), y = rng.fp2(), z = rng.fp2();
      if (i < 64) {
        // Edge coefficients in the sparse operand and in f.
        x = edges[i % 4];
        y = edges[(i / 4) % 4];
        z = edges[(i / 16) % 4];
        a.c1.c2 = edges[i % 4];
        a.c0.c0 = edges[(i / 4) % 4];
      }
      check(a, x, y, z);
    }
  }
  set_adx_enabled(true);
}

TEST(Fp12Test, frobenius_equals_pth_powers) {
  Rng rng;
  const Fp12 a = rng.fp12();
  const Fp12 f1 = a.pow_vartime(Fp::kModulus);
  EXPECT_EQ(a.frobenius(1), f1);
  EXPECT_EQ(a.frobenius(2), f1.pow_vartime(Fp::kModulus));
  EXPECT_EQ(a.frobenius(3), a.frobenius(2).frobenius(1));
  // p^6 is conjugation, p^12 the identity.
  EXPECT_EQ(a.frobenius(3).frobenius(3), a.conjugate());
  EXPECT_EQ(a.frobenius(3).frobenius(3).frobenius(3).frobenius(3), a);
}

TEST(Fp12Test, cyclotomic_square_matches_square_in_the_cyclotomic_subgroup) {
  Rng rng;
  for (int i = 0; i < 20; ++i) {
    const Fp12 a = rng.fp12();
    const Fp12 f1 = a.conjugate() * a.inverse();
    const Fp12 c = f1.frobenius(2) * f1;  // in the cyclotomic subgroup
    EXPECT_EQ(c.cyclotomic_square(), c.square());
    EXPECT_EQ(c * c.conjugate(), Fp12::one());
  }
}

}  // namespace
}  // namespace pg::crypto
