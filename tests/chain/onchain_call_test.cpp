// "mode":"onchain"'s parts (src/chain): the verifier a deployment lists for a version, the
// verifyProof calldata's layout, and how an eth_call answer becomes a verdict (against a loopback
// stub node, tests/chain/stub_node.hpp).
#include <gtest/gtest.h>

#include <string>

#include "chain/calldata.hpp"
#include "chain/deployment.hpp"
#include "chain/deployment_lookup.hpp"
#include "chain/verifier_client.hpp"
#include "crypto/curve.hpp"
#include "stub_node.hpp"

namespace pg::chain {
namespace {

TEST(Deployment, find_verifier_picks_the_claim_type_and_version) {
  const auto d = parse_deployment(R"({"chain_id": 31337,
    "circuit_registry": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    "root_registry": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "timelock": "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "safe": "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "deployed_block": 12,
    "verifiers": [{"claim_type": "age_over_18", "version": "1.0.0",
      "address": "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb", "public_inputs": 5,
      "vkey_sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]})");
  ASSERT_TRUE(d) << d.error().to_string();
  const DeployedVerifier* v = find_verifier(*d, "age_over_18", "1.0.0");
  ASSERT_NE(v, nullptr);
  // What the bundle's `verifier` says: EIP-55, whatever case the file used.
  EXPECT_EQ(v->address.to_checksum(), "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb");
  EXPECT_EQ(find_verifier(*d, "age_over_18", "1.0.1"), nullptr);
  EXPECT_EQ(find_verifier(*d, "citizenship", "1.0.0"), nullptr);
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

TEST(VerifierAnswer, a_bool_word_is_the_verdict_any_rpc_error_a_revert_included_is_no_verdict) {
  // The envelope (jsonrpc, id, result or error, HTTP status) is RpcClient's, tested in RpcStrict.
  const auto result = [](std::string hex) {
    return Result<boost::json::value>(boost::json::value(hex));
  };
  const auto rpc_error = [](std::string message) {
    return Result<boost::json::value>(Error{"eth_call", std::move(message)});
  };
  auto v = verdict_of_eth_call(result("0x" + std::string(63, '0') + "1"));
  ASSERT_TRUE(v);
  EXPECT_TRUE(*v);
  v = verdict_of_eth_call(result("0x" + std::string(64, '0')));
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  // The verifier answers false for bad input and reverts only for lack of gas: no verdict.
  for (const char* message :
       {"RPC error 3: execution reverted", "RPC error -32000: execution reverted: out of gas",
        "RPC error -32005: rate limited, request reverted"}) {
    v = verdict_of_eth_call(rpc_error(message));
    ASSERT_FALSE(v) << message;
    EXPECT_EQ(v.error(), std::string("eth_call: ") + message);
  }
  for (const std::string& bad :
       {std::string("0x"), "0x" + std::string(63, '0') + "2", "0x" + std::string(128, '0'),
        "0x1" + std::string(62, '0') + "1", std::string(66, '0')}) {
    EXPECT_FALSE(verdict_of_eth_call(result(bad))) << bad;
  }
  EXPECT_FALSE(verdict_of_eth_call(Result<boost::json::value>(boost::json::value(1))));
  const auto no_verdict = verdict_of_eth_call(rpc_error("RPC error -32000: header not found"));
  ASSERT_FALSE(no_verdict);
  EXPECT_EQ(no_verdict.error(), "eth_call: RPC error -32000: header not found");
}

TEST(VerifierClient, refuses_a_url_that_is_not_http_and_names_an_unreachable_node) {
  EXPECT_FALSE(VerifierClient::make("ftp://127.0.0.1:8545", std::chrono::milliseconds(500)));
  // A port nothing listens on (1 is privileged and unused on loopback).
  const auto client = VerifierClient::make("http://127.0.0.1:1/", std::chrono::milliseconds(500));
  ASSERT_TRUE(client) << client.error();
  const auto verdict = (*client)->call("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0x34baeab9");
  ASSERT_FALSE(verdict);
  EXPECT_EQ(verdict.error().rfind("eth_call: ", 0), 0u) << verdict.error();
  const auto id = (*client)->chain_id();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().rfind("eth_chainId: ", 0), 0u) << id.error();
}

TEST(VerifierClient,
     a_node_answering_execution_reverted_gives_no_verdict_and_the_call_offers_30m_gas) {
  testing::StubNode node([](const std::string& method, const boost::json::value&) {
    EXPECT_EQ(method, "eth_call");
    return testing::StubNode::Reply{R"({"code":3,"message":"execution reverted"})", true};
  });
  const auto client = VerifierClient::make(node.url(), std::chrono::milliseconds(5000));
  ASSERT_TRUE(client) << client.error();
  const auto verdict = (*client)->call("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0x34baeab9");
  ASSERT_FALSE(verdict);  // CHAIN_UNAVAILABLE for the server, never the verifier's false
  EXPECT_EQ(verdict.error(), "eth_call: RPC error 3: execution reverted");
  const auto requests = node.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto params = boost::json::parse(requests[0]).at("params").as_array();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].at("gas"), "0x1c9c380");
  EXPECT_EQ(params[0].at("to"), "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb");
  EXPECT_EQ(params[0].at("data"), "0x34baeab9");
  EXPECT_EQ(params[1], "latest");
}

TEST(VerifierClient, a_node_answering_a_bool_word_gives_the_verdict) {
  testing::StubNode node([](const std::string&, const boost::json::value&) {
    return testing::StubNode::Reply{"\"0x" + std::string(63, '0') + "1\""};
  });
  const auto client = VerifierClient::make(node.url(), std::chrono::milliseconds(5000));
  ASSERT_TRUE(client) << client.error();
  const auto verdict = (*client)->call("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0x34baeab9");
  ASSERT_TRUE(verdict) << verdict.error();
  EXPECT_TRUE(*verdict);
}

}  // namespace
}  // namespace pg::chain
