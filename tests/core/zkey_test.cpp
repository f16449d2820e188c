// core::read_zkey_key / zkey_mismatch on the zkeys snarkjs made for the test circuits
// (PROOFGATE_ARTIFACTS, the circuits fixture): each embeds its own verification key and no other
// claim's; a truncated or foreign file is refused naming the problem.
#include "core/zkey.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "crypto/snarkjs_codec.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in) << p;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path version_dir(const std::string& claim) {
  const char* root = std::getenv("PROOFGATE_ARTIFACTS");
  EXPECT_NE(root, nullptr) << "set PROOFGATE_ARTIFACTS";
  return fs::path(root ? root : ".") / claim / "1.0.0";
}

crypto::VerifyingKey vkey(const std::string& claim) {
  auto vk =
      crypto::snarkjs::decode_verifying_key(slurp(version_dir(claim) / "verification_key.json"));
  EXPECT_TRUE(vk.ok());
  return vk.ok() ? vk.value() : crypto::VerifyingKey{};
}

TEST(Zkey, every_test_circuit_s_zkey_embeds_its_own_verification_key) {
  for (const std::string claim : {"age_over_18", "citizenship", "education", "income_gte"}) {
    const std::string zkey = slurp(version_dir(claim) / "circuit.zkey");
    const auto read = read_zkey_key(zkey);
    ASSERT_TRUE(std::holds_alternative<ZkeyKey>(read))
        << claim << ": " << std::get<std::string>(read);
    EXPECT_EQ(zkey_mismatch(zkey, vkey(claim)), std::nullopt) << claim;
  }
}

TEST(Zkey, another_claim_s_key_differs_and_is_named) {
  const std::string zkey = slurp(version_dir("age_over_18") / "circuit.zkey");
  // citizenship has as many publics: the points differ.
  const auto other = zkey_mismatch(zkey, vkey("citizenship"));
  ASSERT_TRUE(other);
  EXPECT_NE(other->find("differs"), std::string::npos) << *other;
  // education has one more public: the count differs.
  const auto count = zkey_mismatch(zkey, vkey("education"));
  ASSERT_TRUE(count);
  EXPECT_NE(count->find("public signals"), std::string::npos) << *count;
}

TEST(Zkey, a_truncated_or_foreign_file_is_refused_naming_the_problem) {
  const std::string zkey = slurp(version_dir("age_over_18") / "circuit.zkey");
  const auto truncated = read_zkey_key(zkey.substr(0, 200));
  ASSERT_TRUE(std::holds_alternative<std::string>(truncated));
  EXPECT_NE(std::get<std::string>(truncated).find("truncated"), std::string::npos);
  const auto foreign = read_zkey_key("{\"not\":\"a zkey\"}");
  ASSERT_TRUE(std::holds_alternative<std::string>(foreign));
  EXPECT_NE(std::get<std::string>(foreign).find("magic"), std::string::npos);
  EXPECT_TRUE(zkey_mismatch("", vkey("age_over_18")));
}

TEST(Zkey, a_section_given_twice_is_refused) {
  // snarkjs reads one section 2 (the key); with two, the prover's key and ours could differ.
  std::string zkey = slurp(version_dir("age_over_18") / "circuit.zkey");
  const auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 4; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(zkey[at + i]);
    return v;
  };
  const auto u64 = [&](std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 8; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(zkey[at + i]);
    return v;
  };
  std::size_t at = 12;
  std::string copy;
  for (std::uint32_t i = 0; i < u32(8); ++i) {
    const std::size_t size = static_cast<std::size_t>(u64(at + 4));
    if (u32(at) == 2) copy = zkey.substr(at, 12 + size);
    at += 12 + size;
  }
  ASSERT_FALSE(copy.empty());
  const std::uint32_t n = u32(8) + 1;
  for (std::size_t i = 0; i < 4; ++i) zkey[8 + i] = static_cast<char>(n >> (8 * i));
  zkey += copy;
  auto read = read_zkey_key(zkey);
  ASSERT_TRUE(std::holds_alternative<std::string>(read));
  EXPECT_NE(std::get<std::string>(read).find("section 2 appears twice"), std::string::npos)
      << std::get<std::string>(read);
}

}  // namespace
}  // namespace pg::core
