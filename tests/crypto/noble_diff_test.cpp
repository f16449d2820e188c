// Differential tests against @noble/curves' bn254: every case of the vector file made by
// tests/differential/gen_noble_vectors.mjs (path in PROOFGATE_NOBLE_VECTORS) recomputed with our
// curve and pairing code. A missing or unreadable file fails the tests; it never skips them.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/pairing.hpp"

namespace pg::crypto {
namespace {

namespace json = boost::json;

/// The parsed vector file, or the reason it could not be had.
struct Vectors {
  json::array cases;
  std::string error;
};

const Vectors& vectors() {
  static const Vectors v = [] {
    Vectors out;
    const char* path = std::getenv("PROOFGATE_NOBLE_VECTORS");
    if (path == nullptr || *path == '\0') {
      out.error = "PROOFGATE_NOBLE_VECTORS is not set (run through ctest, which generates it)";
      return out;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      out.error = std::string("cannot read ") + path;
      return out;
    }
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value doc = json::parse(text.str(), ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("cases") ||
        !doc.as_object().at("cases").is_array()) {
      out.error = std::string("not a vector file: ") + path;
      return out;
    }
    out.cases = doc.as_object().at("cases").as_array();
    return out;
  }();
  return v;
}

/// The cases of one kind; fails the calling test when the file is missing or has none.
std::vector<const json::object*> cases_of(std::string_view kind) {
  std::vector<const json::object*> out;
  const Vectors& v = vectors();
  EXPECT_TRUE(v.error.empty()) << v.error;
  for (const json::value& c : v.cases) {
    if (c.as_object().at("kind").as_string() == kind) out.push_back(&c.as_object());
  }
  EXPECT_FALSE(out.empty()) << "no cases of kind " << kind;
  return out;
}

Limbs integer(const json::value& v) {
  Limbs l{};
  EXPECT_TRUE(limbs_from_decimal(std::string_view(v.as_string()), l)) << v;
  return l;
}

Fp fp(const json::value& v) {
  const auto f = Fp::from_canonical_checked(integer(v));
  EXPECT_TRUE(f.has_value()) << v << " is not below p";
  return f.value_or(Fp::zero());
}

Fp2 fp2(const json::value& v) {
  return {fp(v.as_array().at(0)), fp(v.as_array().at(1))};
}

G1Affine g1(const json::value& v) {
  if (v.is_null()) return G1Affine::identity();
  const G1Affine p = G1Affine::from_xy(fp(v.as_array().at(0)), fp(v.as_array().at(1)));
  EXPECT_TRUE(p.is_on_curve()) << v;
  return p;
}

G2Affine g2(const json::value& v) {
  if (v.is_null()) return G2Affine::identity();
  const G2Affine p = G2Affine::from_xy(fp2(v.as_array().at(0)), fp2(v.as_array().at(1)));
  EXPECT_TRUE(p.is_on_curve()) << v;
  return p;
}

/// The 12 coefficients in the order c0.c0.c0, c0.c0.c1, c0.c1.c0, ..., c1.c2.c1.
Fp12 gt(const json::value& v) {
  const json::array& a = v.as_array();
  EXPECT_EQ(a.size(), 12u);
  auto f2 = [&](std::size_t i) { return Fp2{fp(a.at(i)), fp(a.at(i + 1))}; };
  return {{f2(0), f2(2), f2(4)}, {f2(6), f2(8), f2(10)}};
}

TEST(NobleDiffTest, vector_file_is_readable_and_holds_cases) {
  const Vectors& v = vectors();
  ASSERT_TRUE(v.error.empty()) << v.error;
  EXPECT_GE(v.cases.size(), 150u);
}

TEST(NobleDiffTest, g1_addition_matches_noble) {
  for (const json::object* c : cases_of("g1_add")) {
    const G1Affine a = g1(c->at("a")), b = g1(c->at("b")), want = g1(c->at("result"));
    EXPECT_EQ(G1::from_affine(a).add(G1::from_affine(b)).to_affine(), want) << *c;
    EXPECT_EQ(G1::from_affine(a).add_mixed(b).to_affine(), want) << *c;
  }
}

TEST(NobleDiffTest, g1_doubling_matches_noble) {
  for (const json::object* c : cases_of("g1_dbl")) {
    EXPECT_EQ(G1::from_affine(g1(c->at("a"))).dbl().to_affine(), g1(c->at("result"))) << *c;
  }
}

TEST(NobleDiffTest, g1_scalar_multiplication_matches_noble_for_any_256_bit_scalar) {
  for (const json::object* c : cases_of("g1_mul")) {
    const G1 p = G1::from_affine(g1(c->at("a")));
    EXPECT_EQ(p.mul_vartime(integer(c->at("scalar"))).to_affine(), g1(c->at("result"))) << *c;
  }
}

TEST(NobleDiffTest, g2_addition_matches_noble) {
  for (const json::object* c : cases_of("g2_add")) {
    const G2Affine a = g2(c->at("a")), b = g2(c->at("b")), want = g2(c->at("result"));
    EXPECT_EQ(G2::from_affine(a).add(G2::from_affine(b)).to_affine(), want) << *c;
    EXPECT_EQ(G2::from_affine(a).add_mixed(b).to_affine(), want) << *c;
  }
}

TEST(NobleDiffTest, g2_doubling_matches_noble) {
  for (const json::object* c : cases_of("g2_dbl")) {
    EXPECT_EQ(G2::from_affine(g2(c->at("a"))).dbl().to_affine(), g2(c->at("result"))) << *c;
  }
}

TEST(NobleDiffTest, g2_scalar_multiplication_matches_noble_for_any_256_bit_scalar) {
  for (const json::object* c : cases_of("g2_mul")) {
    const G2 p = G2::from_affine(g2(c->at("a")));
    EXPECT_EQ(p.mul_vartime(integer(c->at("scalar"))).to_affine(), g2(c->at("result"))) << *c;
  }
}

// noble's pairing is the reduced ate pairing raised to 2x(6x^2 + 3x + 1), exactly as ours
// (both use the hard part of Fuentes-Castaneda, Knapp, Rodriguez-Henriquez): equal, not a power.
TEST(NobleDiffTest, pairing_equals_noble_pairing_exactly) {
  for (const json::object* c : cases_of("pairing")) {
    const G1Affine p = g1(c->at("g1"));
    const G2Affine q = g2(c->at("g2"));
    const Fp12 want = gt(c->at("gt"));
    EXPECT_EQ(pairing(p, q), want) << *c;
    const PointPair pair{p, q};
    EXPECT_EQ(final_exponentiation(multi_miller_loop({}, {&pair, 1})), want) << *c;
    const G2Prepared prepared = G2Prepared::prepare(q);
    const PreparedPair prepared_pair{p, &prepared};
    EXPECT_EQ(final_exponentiation(multi_miller_loop({&prepared_pair, 1}, {})), want) << *c;
  }
}

/// 2x(6x^2 + 3x + 1) for the BN parameter x, as a 256-bit integer.
Limbs pairing_exponent() {
  const u128 x = kBnX;
  const u128 inner = 6 * x * x + 3 * x + 1;  // below 2^128
  const u128 two_x = 2 * x;                  // below 2^64
  const u128 lo = static_cast<std::uint64_t>(inner) * two_x;
  const u128 hi = static_cast<std::uint64_t>(inner >> 64) * two_x + (lo >> 64);
  return {static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi),
          static_cast<std::uint64_t>(hi >> 64), 0};
}

TEST(NobleDiffTest, pairing_is_the_plain_reduced_pairing_to_the_power_2x_6x2_3x_1) {
  const Limbs k = pairing_exponent();
  for (const json::object* c : cases_of("pairing_plain")) {
    const Fp12 plain = gt(c->at("gt"));
    EXPECT_EQ(pairing(g1(c->at("g1")), g2(c->at("g2"))), plain.pow_vartime(k)) << *c;
    EXPECT_FALSE(pairing(g1(c->at("g1")), g2(c->at("g2"))) == plain) << *c;
  }
}

TEST(NobleDiffTest, pairing_product_check_matches_noble) {
  int seen_true = 0, seen_false = 0;
  for (const json::object* c : cases_of("pairing_product")) {
    std::vector<PointPair> pairs;
    for (const json::value& pr : c->at("pairs").as_array()) {
      pairs.push_back({g1(pr.as_array().at(0)), g2(pr.as_array().at(1))});
    }
    const bool want = c->at("result").as_bool();
    (want ? seen_true : seen_false)++;
    EXPECT_EQ(pairing_product_is_one(pairs), want) << *c;
  }
  EXPECT_GT(seen_true, 0);
  EXPECT_GT(seen_false, 0);
}

}  // namespace
}  // namespace pg::crypto
