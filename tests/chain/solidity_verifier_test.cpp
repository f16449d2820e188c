// The Solidity verifier generator (src/chain/solidity_verifier.hpp) on keys with a known
// trapdoor: deterministic output, the key's points and their negations as literals, every
// public input and coordinate checked, one pairing call; bad names and bad keys refused.
// The contract's behaviour on chain: tests/chain/verifier_test.mjs.
#include "chain/solidity_verifier.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "crypto/curve.hpp"
#include "support/trapdoor.hpp"

namespace {

using pg::chain::is_solidity_identifier;
using pg::chain::solidity_verifier;
using pg::chain::VerifierOptions;

std::string hex(const pg::crypto::Fp& v) {
  const auto l = v.to_canonical();
  char buf[67];
  std::snprintf(buf, sizeof buf, "0x%016llx%016llx%016llx%016llx",
                static_cast<unsigned long long>(l[3]), static_cast<unsigned long long>(l[2]),
                static_cast<unsigned long long>(l[1]), static_cast<unsigned long long>(l[0]));
  return buf;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

VerifierOptions named(std::string name) {
  VerifierOptions o;
  o.contract_name = std::move(name);
  return o;
}

TEST(SolidityVerifier, same_key_and_name_give_identical_bytes) {
  const auto t = pg::testing::make_trapdoor("chain determinism", 3);
  const std::string key = pg::testing::verification_key_json(t, "chain test");
  const auto a = solidity_verifier(key, named("AgeOver18Verifier"));
  const auto b = solidity_verifier(key, named("AgeOver18Verifier"));
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  // Another key gives another contract.
  const auto other = pg::testing::make_trapdoor("chain determinism, another key", 3);
  const auto c = solidity_verifier(pg::testing::verification_key_json(other, "chain test"),
                                   named("AgeOver18Verifier"));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
}

TEST(SolidityVerifier, writes_the_header_the_abi_and_the_key_sha256) {
  const auto t = pg::testing::make_trapdoor("chain header", 4);
  const std::string key = pg::testing::verification_key_json(t, "chain test");
  const auto src = solidity_verifier(key, named("IncomeGteVerifier"));
  ASSERT_TRUE(src.ok()) << src.error().to_string();
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  std::string sha;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    sha += buf;
  }
  EXPECT_EQ(src->rfind("// SPDX-License-Identifier: UNLICENSED\n", 0), 0u);
  EXPECT_NE(src->find("// verification_key.json SHA-256: " + sha + "\n"), std::string::npos);
  EXPECT_NE(src->find("pragma solidity ^0.8.20;\n"), std::string::npos);
  EXPECT_NE(src->find("contract IncomeGteVerifier {"), std::string::npos);
  EXPECT_NE(src->find("uint256[2] calldata a,\n        uint256[2][2] calldata b,\n        "
                      "uint256[2] calldata c,\n"
                      "        uint256[4] calldata pubSignals\n    ) external view returns (bool)"),
            std::string::npos);
}

TEST(SolidityVerifier, writes_the_key_points_and_the_precomputed_negations) {
  const std::size_t n = 5;
  const auto t = pg::testing::make_trapdoor("chain constants", n);
  const auto src =
      solidity_verifier(pg::testing::verification_key_json(t, "chain test"), named("V"));
  ASSERT_TRUE(src.ok()) << src.error().to_string();
  const auto& vk = t.vk;
  for (const auto& ic : vk.ic) {
    EXPECT_NE(src->find(hex(ic.x)), std::string::npos);
    EXPECT_NE(src->find(hex(ic.y)), std::string::npos);
  }
  // -alpha, beta, -gamma, -delta in EIP-197's order (x.c1, x.c0, y.c1, y.c0).
  EXPECT_NE(src->find("mstore(0x240, " + hex(vk.alpha.x) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x260, " + hex(-vk.alpha.y) + ")"), std::string::npos);
  EXPECT_EQ(src->find(hex(vk.alpha.y)), std::string::npos);
  EXPECT_NE(src->find("mstore(0x280, " + hex(vk.beta.x.c1) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x2e0, " + hex(vk.beta.y.c0) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x040, " + hex(vk.gamma.x.c1) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x080, " + hex(-vk.gamma.y.c1) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x0a0, " + hex(-vk.gamma.y.c0) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x200, " + hex(-vk.delta.y.c1) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x220, " + hex(-vk.delta.y.c0) + ")"), std::string::npos);
  // p and r; every public checked; every coordinate checked; the exact calldata size.
  EXPECT_NE(
      src->find("let p := 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47"),
      std::string::npos);
  EXPECT_NE(
      src->find("let r := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001"),
      std::string::npos);
  EXPECT_EQ(count(*src, ", r))"), n);
  EXPECT_EQ(count(*src, ", p)"), 8u);
  EXPECT_NE(src->find("eq(calldatasize(), 0x1a4)"), std::string::npos);  // 4 + 32 * (8 + 5)
  // One ecMul and one ecAdd per public, one pairing call with four pairs.
  EXPECT_EQ(count(*src, "staticcall(gas(), 0x07, "), n);
  EXPECT_EQ(count(*src, "staticcall(gas(), 0x06, "), n);
  EXPECT_EQ(count(*src, "staticcall(gas(), 0x08, 0x00, 0x300, 0x00, 0x20)"), 1u);
}

TEST(SolidityVerifier, checks_every_precompile_call_its_return_size_and_the_pairing_word) {
  // A chain without a precompile answers a call to its address with success and no return
  // data, leaving the output memory as it was: every call's flag and return size must count.
  const std::size_t n = 4;
  const auto t = pg::testing::make_trapdoor("chain return sizes", n);
  const auto src =
      solidity_verifier(pg::testing::verification_key_json(t, "chain test"), named("V"));
  ASSERT_TRUE(src.ok()) << src.error().to_string();
  EXPECT_EQ(count(*src, "pop(staticcall"), 0u);
  EXPECT_EQ(count(*src,
                  "ok := and(ok, staticcall(gas(), 0x07, 0x40, 0x60, 0x40, 0x40))\n"
                  "            ok := and(ok, eq(returndatasize(), 0x40))\n"),
            n);
  EXPECT_EQ(count(*src,
                  "ok := and(ok, staticcall(gas(), 0x06, 0x00, 0x80, 0x00, 0x40))\n"
                  "            ok := and(ok, eq(returndatasize(), 0x40))\n"),
            n);
  // The pairing: its flag, then exactly 32 bytes, then a word of exactly 1, then the answer.
  const auto pairing =
      src->find("ok := and(ok, staticcall(gas(), 0x08, 0x00, 0x300, 0x00, 0x20))\n");
  ASSERT_NE(pairing, std::string::npos);
  const auto size = src->find("ok := and(ok, eq(returndatasize(), 0x20))\n", pairing);
  ASSERT_NE(size, std::string::npos);
  const auto one = src->find("ok := and(ok, eq(mload(0x00), 1))\n", size);
  ASSERT_NE(one, std::string::npos);
  const auto answer = src->find("mstore(0x00, ok)\n            return(0x00, 0x20)\n", one);
  EXPECT_NE(answer, std::string::npos);
  // returndatasize() is never an argument next to the call it checks (Yul evaluates a
  // function's arguments right to left, so it would read the previous call's size).
  EXPECT_EQ(count(*src, "eq(returndatasize(), "), 2 * n + 1);
  EXPECT_EQ(count(*src, "staticcall(gas(), 0x08, 0x00, 0x300, 0x00, 0x20), eq("), 0u);
  EXPECT_EQ(src->find("and(ok, mload(0x00))"), std::string::npos);
}

TEST(SolidityVerifier, refuses_names_that_are_not_solidity_identifiers) {
  const auto t = pg::testing::make_trapdoor("chain names", 1);
  const std::string key = pg::testing::verification_key_json(t, "chain test");
  for (const std::string& bad : std::vector<std::string>{
           "", "1Verifier", "Age-Verifier", "Age Verifier", "contract", "function", "uint256",
           "bytes32", "int8", "ufixed128x18", "address", "Verifier;", "V\xc3\xa9rifier",
           std::string(65, 'V'), "x\ncontract"}) {
    EXPECT_FALSE(is_solidity_identifier(bad)) << bad;
    const auto r = solidity_verifier(key, named(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "name");
  }
  for (const std::string& good : std::vector<std::string>{
           "AgeOver18Verifier", "_v", "V", "uint256x", "bytesVerifier", std::string(64, 'V')}) {
    EXPECT_TRUE(is_solidity_identifier(good)) << good;
    EXPECT_TRUE(solidity_verifier(key, named(good)).ok()) << good;
  }
}

TEST(SolidityVerifier, refuses_a_licence_that_is_not_an_spdx_identifier) {
  const auto t = pg::testing::make_trapdoor("chain licence", 1);
  VerifierOptions o;
  o.spdx_license = "MIT\n// injected";
  const auto r = solidity_verifier(pg::testing::verification_key_json(t, "chain test"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "license");
  o.spdx_license = "Apache-2.0";
  const auto ok = solidity_verifier(pg::testing::verification_key_json(t, "chain test"), o);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->rfind("// SPDX-License-Identifier: Apache-2.0\n", 0), 0u);
}

TEST(SolidityVerifier, refuses_bad_keys_naming_the_field) {
  // No public inputs: the verifyProof ABI has a pubSignals array.
  const auto none = solidity_verifier(
      pg::testing::verification_key_json(pg::testing::make_trapdoor("chain none", 0), "chain test"),
      {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().field, "vkey.IC");
  // delta = gamma: anyone could forge proofs; the native verifier's refusal, word for word.
  const auto t = pg::testing::make_trapdoor("chain insecure", 2);
  auto doc = boost::json::parse(pg::testing::verification_key_json(t, "chain test")).as_object();
  doc["vk_delta_2"] = doc["vk_gamma_2"];
  const auto insecure = solidity_verifier(boost::json::serialize(doc), {});
  ASSERT_FALSE(insecure.ok());
  EXPECT_EQ(insecure.error().field, "vkey.vk_delta_2");
  // Not JSON, and a coordinate >= p.
  EXPECT_FALSE(solidity_verifier("{", {}).ok());
  auto big = boost::json::parse(pg::testing::verification_key_json(t, "chain test")).as_object();
  big["IC"].as_array()[1].as_array()[0] =
      "21888242871839275222246405745257275088696311157297823662689037894645226208584";
  const auto out_of_range = solidity_verifier(boost::json::serialize(big), {});
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.error().field.find("IC"), std::string::npos);
}

TEST(SolidityVerifier, small_inputs_get_one_table_point_per_nonzero_digit_of_each_window) {
  const std::size_t n = 4;
  const auto t = pg::testing::make_trapdoor("chain tables", n);
  VerifierOptions o = named("V");
  o.small_inputs = {{1, 25}, {3, 3}};
  const auto src = solidity_verifier(pg::testing::verification_key_json(t, "chain test"), o);
  ASSERT_TRUE(src.ok()) << src.error().to_string();
  // 25 bits: six windows of 15 points and a top window of one; 3 bits: one window of 7.
  const pg::crypto::G1 ic1 = pg::crypto::G1::from_affine(t.vk.ic[2]);
  pg::crypto::G1 m = ic1;
  for (int k = 1; k < 15; ++k) m = m.add(ic1);  // 15 IC_2, the last point of window 0
  const auto last = m.to_affine();
  EXPECT_NE(src->find("mstore(0x40, " + hex(last.x) + ")"), std::string::npos);
  EXPECT_NE(src->find("mstore(0x60, " + hex(last.y) + ")"), std::string::npos);
  pg::crypto::G1 top = ic1;
  for (int k = 0; k < 24; ++k) top = top.dbl();  // 2^24 IC_2, the one point of the top window
  EXPECT_NE(src->find("mstore(0x40, " + hex(top.to_affine().x) + ")"), std::string::npos);
  // Every input keeps its ecMul (inputs 0 and 2 always, 1 and 3 from 2^bits); an ecAdd per
  // window plus one per ecMul.
  EXPECT_EQ(count(*src, "staticcall(gas(), 0x07, "), n);
  EXPECT_EQ(count(*src, "staticcall(gas(), 0x06, "), n + 7 + 1);
  EXPECT_EQ(count(*src, "switch lt(s, 0x2000000)"), 1u);
  EXPECT_EQ(count(*src, "switch lt(s, 0x8)"), 1u);
  // 91 + 7 table points and four IC points stored at 0x40 (x) and 0x60 (y).
  EXPECT_EQ(count(*src, "mstore(0x40, "), 91u + 7u + 4u);
  EXPECT_EQ(count(*src, "mstore(0x60, "), 91u + 7u + 4u);
  // Deterministic, and another choice of inputs gives another contract.
  EXPECT_EQ(*src, *solidity_verifier(pg::testing::verification_key_json(t, "chain test"), o));
  EXPECT_NE(*src,
            *solidity_verifier(pg::testing::verification_key_json(t, "chain test"), named("V")));
}

TEST(SolidityVerifier, refuses_small_inputs_it_cannot_build_naming_them) {
  const auto t = pg::testing::make_trapdoor("chain table refusals", 3);
  const std::string key = pg::testing::verification_key_json(t, "chain test");
  const auto refused = [&](std::vector<pg::chain::SmallInput> inputs) {
    VerifierOptions o = named("V");
    o.small_inputs = std::move(inputs);
    const auto src = solidity_verifier(key, o);
    return src.ok() ? std::string("accepted") : src.error().field + ": " + src.error().message;
  };
  EXPECT_EQ(refused({{3, 8}}), "small_inputs[3]: no such public input: the key has 3");
  const std::string width =
      "bits must be 1 to 48 (wider, the ecAdds of a large value cost more than one ecMul)";
  EXPECT_EQ(refused({{0, 0}}), "small_inputs[0]: " + width);
  EXPECT_EQ(refused({{0, 49}}), "small_inputs[0]: " + width);
  EXPECT_EQ(refused({{1, 8}, {1, 4}}), "small_inputs[1]: the input is given twice");
  // 48 bits is 180 points: about 18,290 bytes of code with 3 inputs, under EIP-170's limit;
  // twice that is not.
  EXPECT_EQ(pg::chain::estimated_code_size(3, std::vector<pg::chain::SmallInput>{{0, 48}}),
            1300u + 3 * 130 + 40 + 180 * 92);
  EXPECT_EQ(refused({{0, 48}}), "accepted");
  EXPECT_EQ(refused({{0, 48}, {1, 48}}),
            "small_inputs: 360 table points make about 34890 bytes of code; EIP-170 allows 24576");
}

TEST(SolidityVerifier, the_circuits_small_inputs_are_found_by_name) {
  const std::vector<std::string> income{"nullifier", "root",      "binding",    "scope",
                                        "today",     "threshold", "fiscal_year"};
  const auto got = pg::chain::small_inputs_for(income);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].index, 4u);
  EXPECT_EQ(got[0].bits, 25u);
  EXPECT_EQ(got[1].index, 5u);
  EXPECT_EQ(got[1].bits, 24u);
  EXPECT_EQ(got[2].index, 6u);
  EXPECT_EQ(got[2].bits, 12u);
  const std::vector<std::string> education{"nullifier", "root",  "binding",
                                           "scope",     "today", "min_level"};
  const auto edu = pg::chain::small_inputs_for(education);
  ASSERT_EQ(edu.size(), 2u);
  EXPECT_EQ(edu[1].index, 5u);
  EXPECT_EQ(edu[1].bits, 8u);
  EXPECT_TRUE(pg::chain::small_inputs_for(std::vector<std::string>{"root", "scope"}).empty());
  // What does not fit is left to ecMul, in the order today, min_level, fiscal_year, threshold:
  // with 24 inputs the threshold's table would take the contract over the limit.
  std::vector<std::string> many(20, "x");
  for (const char* name : {"threshold", "fiscal_year", "min_level", "today"}) many.push_back(name);
  const auto fitted = pg::chain::small_inputs_for(many);
  ASSERT_EQ(fitted.size(), 3u);
  EXPECT_EQ(fitted[0].index, 21u);  // fiscal_year
  EXPECT_EQ(fitted[1].index, 22u);  // min_level
  EXPECT_EQ(fitted[2].index, 23u);  // today
  EXPECT_LE(pg::chain::estimated_code_size(many.size(), fitted), pg::chain::kMaxCodeSize);
  // All four on one key: 256 points would not fit, the threshold is left out.
  many = {"threshold", "fiscal_year", "min_level", "today"};
  const auto four = pg::chain::small_inputs_for(many);
  ASSERT_EQ(four.size(), 3u);
  EXPECT_EQ(four[0].index, 1u);
}

}  // namespace
