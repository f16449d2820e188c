// The request binding, partner scope and nullifier against tests/vectors/binding.json, which
// the wallet's JavaScript wrote: SHA-256 here is OpenSSL's and Poseidon is ours, so passing means
// the two independent implementations agree.
#include "core/binding.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "crypto/poseidon.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {
namespace {

namespace json = boost::json;
using crypto::Fr;

json::value vectors() {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/binding.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::string dec(const Fr& x) {
  return crypto::snarkjs::to_decimal(x.to_canonical());
}

std::string str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string().c_str());
}

TEST(BindingTest, field_from_text_matches_the_wallet) {
  const auto v = vectors();
  const auto& cases = v.at("field_from_text").as_array();
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    EXPECT_EQ(dec(field_from_text(str(c, "label"), str(c, "text"))), str(c, "value"))
        << str(c, "label") << ":" << str(c, "text");
  }
}

TEST(BindingTest, field_from_text_separates_labels_and_fits_in_248_bits) {
  EXPECT_FALSE(field_from_text("nonce", "x") == field_from_text("verifier_domain", "x"));
  EXPECT_FALSE(field_from_text("nonce", "ab") == field_from_text("nonce", "ba"));
  EXPECT_LT(crypto::bit_length(field_from_text("nonce", "anything").to_canonical()), 249);
}

TEST(BindingTest, request_binding_matches_the_wallet_and_changes_with_every_field) {
  const auto v = vectors();
  const auto& cases = v.at("request_binding").as_array();
  ASSERT_GE(cases.size(), 5u);
  std::set<std::string> seen;
  for (const auto& c : cases) {
    const std::string nonce = str(c, "nonce"), domain = str(c, "verifier_domain"),
                      claim = str(c, "claim_type"), version = str(c, "circuit_version");
    const std::string b = dec(request_binding({nonce, domain, claim, version}));
    EXPECT_EQ(b, str(c, "binding")) << nonce << " " << domain << " " << claim << " " << version;
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), cases.size()) << "each vector differs from the first in one field";
}

TEST(BindingTest, scope_and_nullifier_match_the_wallet) {
  const auto v = vectors();
  for (const auto& c : v.at("partner_scope").as_array()) {
    EXPECT_EQ(dec(partner_scope(str(c, "verifier_domain"))), str(c, "scope"));
  }
  for (const auto& c : v.at("nullifier").as_array()) {
    crypto::Limbs s{}, scope{};
    ASSERT_TRUE(crypto::limbs_from_decimal(str(c, "secret"), s));
    ASSERT_TRUE(crypto::limbs_from_decimal(str(c, "scope"), scope));
    const std::array<Fr, 2> in{Fr::from_canonical(s), Fr::from_canonical(scope)};
    EXPECT_EQ(dec(crypto::poseidon_hash(in)), str(c, "nullifier"));
  }
}

}  // namespace
}  // namespace pg::core
