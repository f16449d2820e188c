// tests/vectors/chain.json (written by tests/vectors/gen-chain-vectors.mjs with ethers) and the
// hex helper the chain suites read it with.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "chain/hex.hpp"

namespace pg::chain::test {

inline boost::json::object load_vectors() {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/chain.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str()).as_object();
}

/// The bytes of a 0x-hex string of the vectors; a malformed one fails the test.
inline Bytes unhex(std::string_view s) {
  auto b = from_hex(s);
  EXPECT_TRUE(b.has_value()) << s;
  return b.value_or(Bytes{});
}

}  // namespace pg::chain::test
