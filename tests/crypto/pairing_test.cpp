// Curve and pairing tests: group laws, subgroup tests, bilinearity, non-degeneracy, prepared
// lines against on-the-fly lines, multi-pairing against products.
#include "crypto/pairing.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace pg::crypto {
namespace {

using testing::Rng;

TEST(CurveTest, generators_are_on_the_curves_and_have_order_r) {
  EXPECT_TRUE(g1_generator().is_on_curve());
  EXPECT_TRUE(g2_generator().is_on_curve());
  EXPECT_TRUE(G1::from_affine(g1_generator()).mul_vartime(Fr::kModulus).is_identity());
  EXPECT_TRUE(G2::from_affine(g2_generator()).mul_vartime(Fr::kModulus).is_identity());
}

TEST(CurveTest, group_laws_hold_on_random_points) {
  Rng rng;
  for (int i = 0; i < 20; ++i) {
    const G1 a = rng.g1(), b = rng.g1(), c = rng.g1();
    EXPECT_EQ(a.add(b), b.add(a));
    EXPECT_EQ(a.add(b).add(c), a.add(b.add(c)));
    EXPECT_EQ(a.add(a), a.dbl());
    EXPECT_TRUE(a.add(a.negate()).is_identity());
    EXPECT_EQ(a.add(G1::identity()), a);
    EXPECT_EQ(a.add_mixed(b.to_affine()), a.add(b));
    EXPECT_EQ(a.add_mixed(a.to_affine()), a.dbl());
    EXPECT_TRUE(a.to_affine().is_on_curve());
    const G2 p = rng.g2(), q = rng.g2();
    EXPECT_EQ(p.add(q), q.add(p));
    EXPECT_EQ(p.add(p), p.dbl());
    EXPECT_EQ(p.add_mixed(q.to_affine()), p.add(q));
    EXPECT_TRUE(p.to_affine().is_on_curve());
  }
}

TEST(CurveTest, scalar_multiplication_matches_repeated_addition_and_edge_scalars) {
  Rng rng;
  const G1 p = rng.g1();
  G1 acc = G1::identity();
  for (std::uint64_t k = 0; k < 100; ++k) {
    ASSERT_EQ(p.mul_vartime(Limbs{k, 0, 0, 0}), acc) << k;
    acc = acc.add(p);
  }
  // Around the word boundaries and the top of the 256-bit range (wNAF carries into a 5th word).
  const Limbs all_ones{~0ULL, ~0ULL, ~0ULL, ~0ULL};
  const G1 g = G1::from_affine(g1_generator());
  // (2^256 - 1) mod r, computed independently: 2^256 - 1 = q r + t.
  Fr t = Fr::zero();
  for (int i = 0; i < 256; ++i) t = t.dbl() + Fr::one();
  EXPECT_EQ(g.mul_vartime(all_ones), g.mul_vartime(t.to_canonical()));
  const Limbs word{0, 1, 0, 0};  // 2^64
  Fr two64 = Fr::one();
  for (int i = 0; i < 64; ++i) two64 = two64.dbl();
  EXPECT_EQ(g.mul_vartime(word), g.mul_vartime(two64.to_canonical()));
  EXPECT_TRUE(G1::identity().mul_vartime(all_ones).is_identity());
}

TEST(CurveTest, scalar_multiplication_is_linear) {
  Rng rng;
  const G1 g = G1::from_affine(g1_generator());
  for (int i = 0; i < 10; ++i) {
    const Fr a = rng.field<Fr>(), b = rng.field<Fr>();
    EXPECT_EQ(g.mul_vartime(a.to_canonical()).add(g.mul_vartime(b.to_canonical())),
              g.mul_vartime((a + b).to_canonical()));
    EXPECT_EQ(g.mul_vartime(a.to_canonical()).mul_vartime(b.to_canonical()),
              g.mul_vartime((a * b).to_canonical()));
  }
}

TEST(CurveTest, straus_msm_equals_sum_of_scalar_multiplications) {
  Rng rng;
  for (std::size_t n : {0u, 1u, 2u, 7u}) {
    std::vector<G1Affine> pts;
    std::vector<Limbs> ks;
    G1 expected = G1::identity();
    for (std::size_t i = 0; i < n; ++i) {
      pts.push_back(i == 3 ? pts[0] : rng.g1().to_affine());  // a repeated point too
      Limbs k = rng.field<Fr>().to_canonical();
      if (i == 1) k = Limbs{0, 0, 0, 0};
      if (i == 2) k = Limbs{rng.u64(), rng.u64(), 0, 0};  // 128-bit, as in batch verification
      ks.push_back(k);
      expected = expected.add(G1::from_affine(pts.back()).mul_vartime(k));
    }
    EXPECT_EQ(msm_straus_vartime<G1Params>(pts, ks), expected) << n << " points";
  }
}

TEST(CurveTest, batch_to_affine_matches_single_conversions) {
  Rng rng;
  std::vector<G1> pts;
  for (int i = 0; i < 9; ++i) pts.push_back(i == 4 ? G1::identity() : rng.g1());
  const auto aff = batch_to_affine<G1Params>(pts);
  for (std::size_t i = 0; i < pts.size(); ++i) EXPECT_EQ(aff[i], pts[i].to_affine());
}

TEST(CurveTest, glv_endomorphism_is_multiplication_by_a_cube_root_of_unity) {
  const G1Endomorphism& e = g1_endomorphism();
  EXPECT_FALSE(e.beta == Fp::one());
  EXPECT_EQ(e.beta.square() * e.beta, Fp::one());
  EXPECT_FALSE(e.lambda == Fr::one());
  EXPECT_EQ(e.lambda.square() * e.lambda, Fr::one());
  // The published pair of roots (gnark-crypto's bn254 thirdRootOneG1 and lambdaGLV), up to
  // which of the two primitive roots each side picked.
  Limbs b{}, l{};
  ASSERT_TRUE(limbs_from_decimal("2203960485148121921418603742825762020974279258880205651966", b));
  ASSERT_TRUE(limbs_from_decimal("4407920970296243842393367215006156084916469457145843978461", l));
  const Fp beta = Fp::from_canonical(b);
  const Fr lambda = Fr::from_canonical(l);
  EXPECT_TRUE(e.beta == beta || e.beta == beta.square());
  EXPECT_TRUE(e.lambda == lambda || e.lambda == lambda.square());
  Rng rng;
  for (int i = 0; i < 8; ++i) {
    const G1Affine p = i == 0 ? g1_generator() : rng.g1().to_affine();
    const G1Affine phi = G1Affine::from_xy(e.beta * p.x, p.y);
    EXPECT_EQ(G1::from_affine(p).mul_vartime(e.lambda.to_canonical()), G1::from_affine(phi));
  }
}

TEST(CurveTest, glv_split_gives_short_parts_of_the_same_scalar) {
  Rng rng;
  const Fr& lambda = g1_endomorphism().lambda;
  std::vector<Limbs> ks{Limbs{}, Limbs{1, 0, 0, 0}, Fr::kModulus,
                        Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL}};
  std::uint64_t borrow = 0;
  ks.push_back(sub_limbs(Fr::kModulus, Limbs{1, 0, 0, 0}, borrow));  // r - 1
  ks.push_back(lambda.to_canonical());                               // k1 = 0, k2 = 1 exactly
  for (int i = 0; i < 200; ++i) ks.push_back(i % 2 ? rng.limbs() : rng.field<Fr>().to_canonical());
  for (const Limbs& k : ks) {
    const GlvSplit s = glv_split(k);
    EXPECT_LE(bit_length(s.k1), 129);
    EXPECT_LE(bit_length(s.k2), 129);
    const Fr k1 = Fr::from_canonical(s.k1), k2 = Fr::from_canonical(s.k2);
    const Fr sum = (s.k1_negative ? -k1 : k1) + (s.k2_negative ? -k2 : k2) * lambda;
    Limbs reduced = k;
    while (compare_limbs(reduced, Fr::kModulus) >= 0)
      reduced = sub_limbs(reduced, Fr::kModulus, borrow);
    EXPECT_EQ(sum, Fr::from_canonical(reduced));
  }
}

TEST(CurveTest, glv_scalar_multiplication_matches_double_and_add) {
  Rng rng;
  std::uint64_t borrow = 0;
  std::vector<Limbs> ks{Limbs{},
                        Limbs{1, 0, 0, 0},
                        Limbs{2, 0, 0, 0},
                        Fr::kModulus,
                        sub_limbs(Fr::kModulus, Limbs{1, 0, 0, 0}, borrow),
                        Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL},
                        g1_endomorphism().lambda.to_canonical()};
  for (int i = 0; i < 40; ++i) ks.push_back(i % 2 ? rng.limbs() : rng.field<Fr>().to_canonical());
  for (std::size_t i = 0; i < ks.size(); ++i) {
    const G1 p = i == 3 ? G1::from_affine(g1_generator()) : rng.g1();
    EXPECT_EQ(g1_mul_vartime(p, ks[i]), p.mul_vartime(ks[i])) << "scalar " << i;
  }
  EXPECT_TRUE(g1_mul_vartime(G1::identity(), rng.limbs()).is_identity());
}

TEST(CurveTest, gls_scalar_multiplication_on_g2_matches_double_and_add) {
  Rng rng;
  std::uint64_t borrow = 0;
  const unsigned __int128 t = 6 * static_cast<unsigned __int128>(kBnX) * kBnX;
  const Limbs six_x_squared{static_cast<std::uint64_t>(t), static_cast<std::uint64_t>(t >> 64), 0,
                            0};
  std::vector<Limbs> ks{Limbs{},
                        Limbs{1, 0, 0, 0},
                        Fr::kModulus,
                        sub_limbs(Fr::kModulus, Limbs{1, 0, 0, 0}, borrow),
                        Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL},
                        six_x_squared,
                        sub_limbs(six_x_squared, Limbs{1, 0, 0, 0}, borrow)};
  for (int i = 0; i < 20; ++i) ks.push_back(i % 2 ? rng.limbs() : rng.field<Fr>().to_canonical());
  for (std::size_t i = 0; i < ks.size(); ++i) {
    const G2 q = i == 2 ? G2::from_affine(g2_generator()) : rng.g2();
    EXPECT_EQ(g2_mul_vartime(q, ks[i]), q.mul_vartime(ks[i])) << "scalar " << i;
  }
  EXPECT_TRUE(g2_mul_vartime(G2::identity(), rng.limbs()).is_identity());
}

TEST(CurveTest, glv_multiples_equal_multiplication_by_a_plus_b_lambda) {
  Rng rng;
  const Fr& lambda = g1_endomorphism().lambda;
  std::vector<G1Affine> pts;
  std::vector<GlvScalar> ks;
  for (int i = 0; i < 12; ++i) {
    pts.push_back(i == 5 ? G1Affine::identity() : rng.g1().to_affine());
    GlvScalar k{Limbs{rng.u64(), 0, 0, 0}, Limbs{rng.u64(), 0, 0, 0}};
    if (i == 1) k.a = Limbs{};                            // b phi(P) alone
    if (i == 2) k.b = Limbs{};                            // a P alone
    if (i == 3) k = GlvScalar{};                          // zero
    if (i == 4) k.a = Limbs{1, 0, 0, 0};                  // the smallest digits
    if (i == 6) k = GlvScalar{rng.limbs(), rng.limbs()};  // any 256-bit a and b
    if (i == 7) k.b = Limbs{~0ULL, 0, 0, 0};              // all ones: the longest NAF of 64 bits
    ks.push_back(k);
  }
  const std::vector<G1> each = g1_glv_mul_each_vartime(pts, ks);
  ASSERT_EQ(each.size(), pts.size());
  G1 sum = G1::identity();
  for (std::size_t i = 0; i < pts.size(); ++i) {
    // a and b reduced mod r by their Fr images (from_canonical wants values below r).
    auto mod_r = [](Limbs v) {
      std::uint64_t borrow = 0;
      while (compare_limbs(v, Fr::kModulus) >= 0) v = sub_limbs(v, Fr::kModulus, borrow);
      return Fr::from_canonical(v);
    };
    const Fr k = mod_r(ks[i].a) + mod_r(ks[i].b) * lambda;
    const G1 expected = G1::from_affine(pts[i]).mul_vartime(k.to_canonical());
    EXPECT_EQ(each[i], expected) << "point " << i;
    sum = sum.add(expected);
  }
  EXPECT_TRUE(each[3].is_identity());
  EXPECT_TRUE(each[5].is_identity());
  EXPECT_EQ(g1_glv_msm_vartime(pts, ks), sum);
  EXPECT_TRUE(g1_glv_msm_vartime({}, {}).is_identity());
  EXPECT_TRUE(g1_glv_mul_each_vartime({}, {}).empty());
  EXPECT_THROW(g1_glv_msm_vartime(pts, std::span(ks).first(3)), std::invalid_argument);
  EXPECT_THROW(g1_glv_mul_each_vartime(std::span(pts).first(2), ks), std::invalid_argument);
}

TEST(CurveTest, glv_sums_where_points_double_or_cancel) {
  // Equal, opposite and phi-related points in one sum make the interleaved loop add a point to
  // itself or to its negative.
  Rng rng;
  const G1Affine p = rng.g1().to_affine();
  const G1Affine phi = G1Affine::from_xy(g1_endomorphism().beta * p.x, p.y);
  const Limbs x{rng.u64(), 0, 0, 0}, one{1, 0, 0, 0}, none{};
  const std::vector<std::pair<std::vector<G1Affine>, std::vector<GlvScalar>>> cases = {
      {{p, p}, {{x, none}, {x, none}}},                 // doubles every step
      {{p, p.negate()}, {{x, none}, {x, none}}},        // cancels to the identity
      {{phi, p}, {{x, none}, {none, x}}},               // x phi(P) twice
      {{phi.negate(), p}, {{x, none}, {none, x}}},      // x phi(P) - x phi(P)
      {{p, phi.negate()}, {{none, one}, {one, none}}},  // phi(P) - phi(P)
      {{p, p.negate(), phi}, {{one, none}, {one, none}, {none, none}}},
  };
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const auto& [pts, ks] = cases[c];
    G1 sum = G1::identity();
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const Fr k =
          Fr::from_canonical(ks[i].a) + Fr::from_canonical(ks[i].b) * g1_endomorphism().lambda;
      sum = sum.add(G1::from_affine(pts[i]).mul_vartime(k.to_canonical()));
    }
    EXPECT_EQ(g1_glv_msm_vartime(pts, ks), sum) << "case " << c;
  }
  EXPECT_TRUE(g1_glv_msm_vartime(cases[1].first, cases[1].second).is_identity());
}

TEST(CurveTest, psi_acts_as_multiplication_by_p_on_g2) {
  Rng rng;
  const G2 q = rng.g2();
  Limbs p_mod_r{};
  std::uint64_t borrow = 0;
  p_mod_r = sub_limbs(Fp::kModulus, Fr::kModulus, borrow);  // p - r < r
  EXPECT_EQ(g2_psi(q), q.mul_vartime(p_mod_r));
}

TEST(CurveTest, g2_subgroup_test_accepts_g2_and_refuses_other_twist_points) {
  Rng rng;
  for (int i = 0; i < 10; ++i) {
    const G2Affine in = rng.g2().to_affine();
    EXPECT_TRUE(g2_in_subgroup_vartime(in));
    EXPECT_TRUE(g2_in_subgroup_slow_vartime(in));
    const G2Affine out = rng.twist_point_outside_g2();
    EXPECT_TRUE(out.is_on_curve());
    EXPECT_FALSE(g2_in_subgroup_vartime(out));
  }
  EXPECT_TRUE(g2_in_subgroup_vartime(G2Affine::identity()));
}

TEST(PairingTest, ate_loop_digits_reconstruct_6x_plus_2) {
  u128 v = 0;
  for (int i = kAteLoop.length - 1; i >= 0; --i) v = v * 2 + kAteLoop.digits[i];
  EXPECT_TRUE(v == static_cast<u128>(kBnX) * 6 + 2);
  for (int i = 0; i + 1 < kAteLoop.length; ++i) {
    EXPECT_FALSE(kAteLoop.digits[i] != 0 && kAteLoop.digits[i + 1] != 0) << "not a NAF at " << i;
  }
}

TEST(PairingTest, pairing_is_bilinear_and_non_degenerate) {
  Rng rng;
  const G1Affine p = g1_generator();
  const G2Affine q = g2_generator();
  const Fp12 e = pairing(p, q);
  EXPECT_FALSE(e.is_one());
  EXPECT_TRUE(e.pow_vartime(Fr::kModulus).is_one());
  for (int i = 0; i < 3; ++i) {
    const Fr a = rng.field<Fr>(), b = rng.field<Fr>();
    const G1Affine ap = G1::from_affine(p).mul_vartime(a.to_canonical()).to_affine();
    const G2Affine bq = G2::from_affine(q).mul_vartime(b.to_canonical()).to_affine();
    EXPECT_EQ(pairing(ap, bq), e.pow_vartime((a * b).to_canonical()));
    EXPECT_EQ(pairing(ap, q),
              pairing(p, G2::from_affine(q).mul_vartime(a.to_canonical()).to_affine()));
  }
}

TEST(PairingTest, pairing_with_identity_is_one) {
  EXPECT_TRUE(pairing(G1Affine::identity(), g2_generator()).is_one());
  EXPECT_TRUE(pairing(g1_generator(), G2Affine::identity()).is_one());
}

TEST(PairingTest, prepared_lines_give_the_same_miller_loop) {
  Rng rng;
  const G1Affine p = rng.g1().to_affine();
  const G2Affine q = rng.g2().to_affine();
  const G2Prepared prep = G2Prepared::prepare(q);
  EXPECT_EQ(static_cast<int>(prep.lines.size()), kMillerLines);
  const PreparedPair pp{p, &prep};
  const PointPair dp{p, q};
  EXPECT_TRUE(prep.normalized);
  // Normalised lines differ from on-the-fly lines by factors in Fp2, which the final
  // exponentiation removes; the raw Miller-loop values differ.
  EXPECT_EQ(final_exponentiation(multi_miller_loop(std::span(&pp, 1), {})),
            final_exponentiation(multi_miller_loop({}, std::span(&dp, 1))));
  EXPECT_EQ(final_exponentiation(multi_miller_loop(std::span(&pp, 1), {})), pairing(p, q));
}

TEST(PairingTest, multi_pairing_equals_product_of_pairings) {
  Rng rng;
  std::vector<PointPair> pairs;
  Fp12 product = Fp12::one();
  for (int i = 0; i < 4; ++i) {
    pairs.push_back({rng.g1().to_affine(), rng.g2().to_affine()});
    product *= pairing(pairs.back().p, pairs.back().q);
  }
  EXPECT_EQ(final_exponentiation(multi_miller_loop({}, pairs)), product);
  // e(aP, Q) e(-P, aQ) = 1.
  const Fr a = rng.field<Fr>();
  const G1 p = rng.g1();
  const G2 q = rng.g2();
  const PointPair check[2] = {
      {p.mul_vartime(a.to_canonical()).to_affine(), q.to_affine()},
      {p.negate().to_affine(), q.mul_vartime(a.to_canonical()).to_affine()}};
  EXPECT_TRUE(pairing_product_is_one(check));
  const PointPair wrong[2] = {check[0], {p.to_affine(), check[1].q}};
  EXPECT_FALSE(pairing_product_is_one(wrong));
}

}  // namespace
}  // namespace pg::crypto
