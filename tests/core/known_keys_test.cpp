// The deny list of development keys (core/known_keys.hpp) holds every key the development
// ceremony of scripts/build-circuits.mjs makes, as the committed manifests record them: a rebuilt
// development circuit whose digest is not on the list fails here before it can be served.
#include "core/known_keys.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pg::core {
namespace {

namespace fs = std::filesystem;

TEST(KnownKeysTest, every_development_manifest_digest_is_on_the_deny_list) {
  const fs::path circuits = fs::path(PROOFGATE_SOURCE_DIR) / "circuits";
  int checked = 0;
  for (const auto& dir : fs::directory_iterator(circuits)) {
    const fs::path manifest = dir.path() / "manifest.json";
    if (!fs::exists(manifest)) continue;
    std::ifstream in(manifest);
    std::stringstream text;
    text << in.rdbuf();
    const auto m = boost::json::parse(text.str());
    ASSERT_EQ(m.at("ceremony").at("kind").as_string(), "development") << manifest;
    const auto& digest = m.at("sha256").at("verification_key.json").as_string();
    EXPECT_TRUE(is_development_key(digest))
        << manifest << ": add " << digest << " to kDevelopmentKeyDigests";
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(KnownKeysTest, digests_are_lowercase_sha256_hex) {
  for (const std::string_view d : kDevelopmentKeyDigests) {
    EXPECT_EQ(d.size(), 64u) << d;
    EXPECT_EQ(d.find_first_not_of("0123456789abcdef"), std::string_view::npos) << d;
  }
}

}  // namespace
}  // namespace pg::core
