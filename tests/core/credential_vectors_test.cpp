// Holder commitment, credential leaf, Merkle root (from the path) and nullifier recomputed with
// our Poseidon against tests/vectors/credential.json (circomlibjs); the age_over_18 circuit
// checks the same root and nullifier in tests/circuits-claims/vectors_match_circuit.mjs.
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "crypto/poseidon.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::crypto {
namespace {

namespace json = boost::json;

json::value vectors() {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/credential.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

Fr fr(const json::value& v) {
  Limbs l{};
  const std::string s = v.is_string() ? std::string(v.as_string().c_str())
                                      : std::to_string(v.to_number<std::int64_t>());
  EXPECT_TRUE(limbs_from_decimal(s, l)) << s;
  return Fr::from_canonical(l);
}

std::string dec(const Fr& x) {
  return snarkjs::to_decimal(x.to_canonical());
}

TEST(CredentialVectorsTest, commitment_leaf_root_and_nullifier_match_circomlibjs) {
  const auto v = vectors();
  const auto& holder = v.at("holder");
  const std::array<Fr, 1> s{fr(holder.at("secret"))};
  const Fr commitment = poseidon_hash(s);
  EXPECT_EQ(dec(commitment), holder.at("commitment").as_string().c_str());

  const auto& c = v.at("identity_credential");
  const std::array<Fr, 6> leaf_in{
      fr(c.at("issuer_id")),  fr(c.at("schema_id")), commitment,
      fr(c.at("birth_date")), fr(c.at("country")),   fr(c.at("expiry"))};
  const Fr leaf = poseidon_hash(leaf_in);
  EXPECT_EQ(dec(leaf), c.at("leaf").as_string().c_str());

  const auto& t = v.at("tree");
  Fr node = leaf;
  const auto& siblings = t.at("siblings").as_array();
  const auto& bits = t.at("path_indices").as_array();
  ASSERT_EQ(siblings.size(), 20u);
  for (std::size_t i = 0; i < siblings.size(); ++i) {
    const Fr sib = fr(siblings[i]);
    const std::array<Fr, 2> pair =
        bits[i].as_int64() == 0 ? std::array<Fr, 2>{node, sib} : std::array<Fr, 2>{sib, node};
    node = poseidon_hash(pair);
  }
  EXPECT_EQ(dec(node), t.at("root").as_string().c_str());

  const auto& n = v.at("nullifier");
  const std::array<Fr, 2> nin{s[0], fr(n.at("scope"))};
  EXPECT_EQ(dec(poseidon_hash(nin)), n.at("nullifier").as_string().c_str());
}

}  // namespace
}  // namespace pg::crypto
