// The on-chain mode's helpers (src/chain): Keccak-256 against published and ethers-computed
// vectors, EIP-55 addresses, the deployment file's strict reading, the verifyProof calldata's
// layout, and how an eth_call answer becomes a verdict.
#include <gtest/gtest.h>

#include <string>

#include "chain/calldata.hpp"
#include "chain/deployment.hpp"
#include "chain/keccak.hpp"
#include "chain/verifier_client.hpp"
#include "crypto/curve.hpp"

namespace pg::chain {
namespace {

std::string hex(const Hash32& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const auto b : h) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

TEST(Keccak, matches_published_and_ethers_vectors_across_block_boundaries) {
  // Keccak-256 of "" and "abc" (the Keccak team's known answers, as Ethereum uses them).
  EXPECT_EQ(hex(keccak256("")), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(hex(keccak256("abc")),
            "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  // ethers 6.17 keccak256(toUtf8Bytes(…)): one byte short of the rate, exactly the rate (the
  // padding takes a block of its own), and two blocks.
  EXPECT_EQ(hex(keccak256(std::string(135, 'x'))),
            "16570bdb055e663ea1cb57ac6f09194f4bc7b7070847971fc0b86710366dc34f");
  EXPECT_EQ(hex(keccak256(std::string(136, 'x'))),
            "50da8ef3747b7a7f01d08563aa11c72a2a668563fb928adc6e8d2a1ab4e36096");
  EXPECT_EQ(hex(keccak256(std::string(200, 'a'))),
            "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d");
  // The ERC-20 transfer selector.
  EXPECT_EQ(hex(keccak256("transfer(address,uint256)")).substr(0, 8), "a9059cbb");
}

TEST(Address, eip55_examples_round_trip_and_either_case_is_accepted) {
  // The examples of EIP-55.
  for (const std::string a :
       {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    EXPECT_EQ(parse_address(a), a);
    std::string lower = a, upper = a;
    for (std::size_t i = 2; i < a.size(); ++i) {
      lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
      upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(a[i])));
    }
    EXPECT_EQ(parse_address(lower), a);
    EXPECT_EQ(parse_address(upper), a);
  }
}

TEST(Address, refuses_a_wrong_checksum_and_malformed_text) {
  std::string why;
  EXPECT_FALSE(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", &why));
  EXPECT_EQ(why, "mixed-case address with a wrong EIP-55 checksum");
  for (const char* bad :
       {"", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd",
        "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"}) {
    EXPECT_FALSE(parse_address(bad, &why)) << bad;
    EXPECT_EQ(why, "must be 0x and 40 hex digits") << bad;
  }
}

constexpr std::string_view kSha =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

std::string deployment(std::string verifier_extra = "", std::string top_extra = "") {
  return R"({"chain_id": 31337, "circuit_registry": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    "root_registry": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "timelock": "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "safe": "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "deployed_block": 12)" +
         top_extra + R"(, "verifiers": [{"claim_type": "age_over_18", "version": "1.0.0",
    "address": "0xD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB", "public_inputs": 5,
    "vkey_sha256": ")" +
         std::string(kSha) + "\"" + verifier_extra + "}]}";
}

TEST(Deployment, reads_the_file_of_chain_deploy_with_checksummed_addresses) {
  const auto d = parse_deployment(deployment());
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->chain_id, 31337u);
  EXPECT_EQ(d->deployed_block, 12u);
  EXPECT_EQ(d->circuit_registry, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  ASSERT_EQ(d->verifiers.size(), 1u);
  const DeployedVerifier* v = d->find("age_over_18", "1.0.0");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->address, "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb");
  EXPECT_EQ(v->public_inputs, 5u);
  EXPECT_EQ(v->vkey_sha256, kSha);
  EXPECT_EQ(d->find("age_over_18", "1.0.1"), nullptr);
  EXPECT_EQ(d->find("citizenship", "1.0.0"), nullptr);
}

TEST(Deployment, refusals_name_the_member_at_fault) {
  const auto error_of = [](const std::string& text) {
    const auto d = parse_deployment(text);
    return d ? std::string("(accepted)") : d.error();
  };
  EXPECT_EQ(error_of("[]"), "must be a JSON object");
  EXPECT_EQ(error_of("{").rfind("not JSON: ", 0), 0u);
  EXPECT_EQ(error_of(deployment("", R"(, "extra": 1)")), "extra: unknown member");
  EXPECT_EQ(error_of(deployment(R"(, "abi": [])")), "verifiers[0].abi: unknown member");
  EXPECT_EQ(error_of(R"({"chain_id": 1})"), "circuit_registry: is required");
  std::string text = deployment();
  text.replace(text.find("\"chain_id\": 31337"), 17, "\"chain_id\": \"31337\"");
  EXPECT_EQ(error_of(text), "chain_id: must be a non-negative integer");
  text = deployment();
  text.replace(text.find("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"), 42,
               "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6Fb");
  EXPECT_EQ(error_of(text), "timelock: mixed-case address with a wrong EIP-55 checksum");
  text = deployment();
  text.replace(text.find("0xD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB"), 42, "0x1234");
  EXPECT_EQ(error_of(text), "verifiers[0].address: must be 0x and 40 hex digits");
  text = deployment();
  text.replace(text.find("\"1.0.0\""), 7, "\"1.0\"");
  EXPECT_EQ(error_of(text), "verifiers[0].version: must be a version MAJOR.MINOR.PATCH");
  text = deployment();
  text.replace(text.find("\"public_inputs\": 5"), 18, "\"public_inputs\": 0");
  EXPECT_EQ(error_of(text), "verifiers[0].public_inputs: must be at least 1");
  text = deployment();
  text.replace(text.find(kSha), kSha.size(), std::string(64, 'A'));
  EXPECT_EQ(error_of(text), "verifiers[0].vkey_sha256: must be 64 lowercase hex digits");
  // The same version twice.
  text = deployment();
  const auto open = text.find("[{") + 1;
  const std::string entry = text.substr(open, text.rfind("}]") + 1 - open);
  text.insert(open, entry + ",");
  EXPECT_EQ(error_of(text), "verifiers[1].version: age_over_18 1.0.0 is listed twice");
}

TEST(Calldata, is_the_selector_then_a_b_with_fp2_swapped_c_and_the_signals_as_words) {
  // The generators stand in for a proof: the layout, not validity, is under test here.
  crypto::Proof proof{crypto::g1_generator(), crypto::g2_generator(), crypto::g1_generator()};
  std::vector<crypto::Fr> publics;
  for (std::uint64_t i = 1; i <= 5; ++i)
    publics.push_back(crypto::Fr::from_canonical({i, 0, 0, 0}));
  const VerifierCall call = encode_verify_call(proof, publics);
  EXPECT_EQ(call.function, "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[5])");
  EXPECT_EQ(call.selector, "0x34baeab9");  // ethers.id(function).slice(0, 10)
  ASSERT_EQ(call.calldata.size(), 2u + 8u + 64u * 13u);
  EXPECT_EQ(call.calldata.substr(0, 10), call.selector);
  const auto word = [&](std::size_t i) { return call.calldata.substr(10 + 64 * i, 64); };
  EXPECT_EQ(word(0), std::string(63, '0') + "1");  // G1 generator (1, 2)
  EXPECT_EQ(word(1), std::string(63, '0') + "2");
  EXPECT_EQ(call.a[0], "1");
  EXPECT_EQ(call.a[1], "2");
  // The G2 generator's x = c0 + c1·u, with c0 = 1085704699…, c1 = 1155973203…: c1 first.
  EXPECT_EQ(call.b[0][0].substr(0, 10), "1155973203");
  EXPECT_EQ(call.b[0][1].substr(0, 10), "1085704699");
  EXPECT_EQ(word(2), "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2");
  EXPECT_EQ(word(3), "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed");
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(word(8 + i), std::string(63, '0') + std::to_string(i + 1));
    EXPECT_EQ(call.pub_signals[i], std::to_string(i + 1));
  }
}

TEST(VerifierAnswer, a_bool_word_is_the_verdict_a_revert_is_false_anything_else_is_no_verdict) {
  const std::string one = "0x" + std::string(63, '0') + "1";
  const std::string zero = "0x" + std::string(64, '0');
  auto v = verdict_of_rpc_answer(R"({"jsonrpc":"2.0","id":1,"result":")" + one + "\"}");
  ASSERT_TRUE(v);
  EXPECT_TRUE(*v);
  v = verdict_of_rpc_answer(R"({"jsonrpc":"2.0","id":1,"result":")" + zero + "\"}");
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  v = verdict_of_rpc_answer(
      R"({"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted"}})");
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  for (const std::string& bad :
       {std::string(R"({"jsonrpc":"2.0","id":1,"result":"0x"})"),
        R"({"jsonrpc":"2.0","id":1,"result":"0x)" + std::string(63, '0') + "2\"}",
        R"({"jsonrpc":"2.0","id":1,"result":"0x)" + std::string(128, '0') + "\"}",
        R"({"jsonrpc":"2.0","id":1,"result":"0x1)" + std::string(62, '0') + "1\"}",
        std::string(
            R"({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"header not found"}})"),
        std::string(R"({"jsonrpc":"2.0","id":1})"), std::string("not json")}) {
    EXPECT_FALSE(verdict_of_rpc_answer(bad)) << bad;
  }
}

TEST(VerifierClient, refuses_a_url_that_is_not_http_and_names_an_unreachable_node) {
  EXPECT_FALSE(VerifierClient::make("ftp://127.0.0.1:8545", std::chrono::milliseconds(500)));
  // A port nothing listens on (1 is privileged and unused on loopback).
  const auto client = VerifierClient::make("http://127.0.0.1:1/", std::chrono::milliseconds(500));
  ASSERT_TRUE(client) << client.error();
  const auto verdict = (*client)->call("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0x34baeab9");
  ASSERT_FALSE(verdict);
  EXPECT_EQ(verdict.error().rfind("eth_call: ", 0), 0u) << verdict.error();
}

}  // namespace
}  // namespace pg::chain
