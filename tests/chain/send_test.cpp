// send_and_wait's nonce and fee against a loopback node that answers each JSON-RPC method from
// the test's table: a run reads its nonce once and counts on (review F6), and the fee cap
// 2 * base fee + tip is computed without wrapping and refused above the cap (review F14).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "chain/rpc.hpp"
#include "chain/transaction.hpp"
#include "stub_node.hpp"

namespace pg::chain {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

/// Answers every request with `answer(method, params)` as the result (tests/chain/stub_node.hpp);
/// keeps the methods and params it was asked.
class TableNode {
 public:
  using Answer = std::function<json::value(const std::string&, const json::array&)>;

  explicit TableNode(Answer answer)
      : node_([answer = std::move(answer)](const std::string& method, const json::value& params) {
          return testing::StubNode::Reply{json::serialize(answer(method, params.as_array()))};
        }) {}

  RpcClient client() const {
    std::string url = node_.url();
    url.pop_back();  // no path
    return RpcClient::open(url).value();
  }
  std::vector<std::pair<std::string, json::array>> asked() const {
    std::vector<std::pair<std::string, json::array>> out;
    for (const std::string& body : node_.requests()) {
      const json::object request = json::parse(body).as_object();
      out.emplace_back(std::string(request.at("method").as_string()),
                       request.at("params").as_array());
    }
    return out;
  }
  std::size_t count(const std::string& method) const {
    std::size_t n = 0;
    for (const auto& [m, p] : asked()) n += m == method ? 1 : 0;
    return n;
  }

 private:
  testing::StubNode node_;
};

// anvil's first development key (public, documented test key).
PrivateKey test_key() {
  return PrivateKey::from_bytes(
             from_hex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").value())
      .value();
}

/// A node that mines everything at once: pending nonce 7, base fee `base_fee`, tip 2 wei.
json::value mining_node(const std::string& method, const json::array& params,
                        const std::string& base_fee) {
  if (method == "eth_getTransactionCount") return "0x7";
  if (method == "eth_getBlockByNumber")
    return json::object{{"number", "0x10"}, {"timestamp", "0x1"}, {"baseFeePerGas", base_fee}};
  if (method == "eth_maxPriorityFeePerGas") return "0x2";
  if (method == "eth_sendRawTransaction") {
    return json::value(to_hex(transaction_hash(from_hex(params.at(0).as_string()).value())));
  }
  if (method == "eth_getTransactionReceipt") {
    return json::object{{"status", "0x1"},       {"blockNumber", "0x11"},
                        {"gasUsed", "0x5208"},   {"transactionHash", params.at(0)},
                        {"logs", json::array{}}, {"contractAddress", nullptr}};
  }
  return nullptr;
}

TEST(RpcSendAndWait, ReadsTheNonceOnceAndCountsOnWithinARun) {
  TableNode node(
      [](const std::string& m, const json::array& p) { return mining_node(m, p, "0x5"); });
  auto rpc = node.client();
  const PrivateKey key = test_key();
  const Address to = parse_address("0x000000000000000000000000000000000000dEaD", "to").value();
  NonceCounter nonces;
  for (int i = 0; i < 3; ++i) {
    const auto r = send_and_wait(rpc, key, 31337, {to, {}, {}, 21000, "send"}, 5s, nonces);
    ASSERT_TRUE(r) << r.error().to_string();
  }
  EXPECT_EQ(node.count("eth_getTransactionCount"), 1u);
  // The three raw transactions are the ones signed with nonces 7, 8, 9 (RFC 6979: deterministic).
  std::vector<std::string> sent;
  for (const auto& [m, p] : node.asked())
    if (m == "eth_sendRawTransaction") sent.emplace_back(p.at(0).as_string());
  ASSERT_EQ(sent.size(), 3u);
  for (std::uint64_t i = 0; i < 3; ++i) {
    Eip1559Transaction tx;
    tx.chain_id = 31337;
    tx.nonce = 7 + i;
    tx.max_priority_fee_per_gas = 2;
    tx.max_fee_per_gas = 2 * 5 + 2;
    tx.gas_limit = 21000;
    tx.to = to;
    EXPECT_EQ(sent[i], to_hex(tx.sign(key))) << "transaction " << i;
  }
  // A second run (a new counter) reads the node again.
  NonceCounter next_run;
  ASSERT_TRUE(send_and_wait(rpc, key, 31337, {to, {}, {}, 21000, "send"}, 5s, next_run));
  EXPECT_EQ(node.count("eth_getTransactionCount"), 2u);
}

TEST(RpcSendAndWait, ABaseFeeWhoseDoubleWrapsSignsNothing) {
  // 2^63: doubled in 64 bits it would wrap to 0 and sign a fee cap of just the tip.
  TableNode node([](const std::string& m, const json::array& p) {
    return mining_node(m, p, "0x8000000000000000");
  });
  auto rpc = node.client();
  NonceCounter nonces;
  Send s{std::nullopt, {0x00}, {}, 100000, "deploy X"};
  s.max_fee_per_gas_cap = std::numeric_limits<std::uint64_t>::max();
  const auto r = send_and_wait(rpc, test_key(), 31337, s, 5s, nonces);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("does not fit in 64 bits"), std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(r.error().what, "deploy X");
  EXPECT_EQ(node.count("eth_sendRawTransaction"), 0u);
}

TEST(RpcSendAndWait, AGasEstimateWithNoRoomForTheMarginSignsNothing) {
  TableNode node([](const std::string& m, const json::array& p) {
    if (m == "eth_estimateGas") return json::value("0xfffffffffffffff0");
    return mining_node(m, p, "0x5");
  });
  auto rpc = node.client();
  NonceCounter nonces;
  const auto r = send_and_wait(rpc, test_key(), 31337,
                               {std::nullopt, {0x00}, {}, std::nullopt, "deploy X"}, 5s, nonces);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("no room for the 20 % margin"), std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(node.count("eth_sendRawTransaction"), 0u);
}

TEST(RpcMaxFeePerGas, IsTwiceTheBaseFeePlusTheTipWithinTheCap) {
  EXPECT_EQ(max_fee_per_gas(10, 3, 23, "t").value(), 23u);  // exactly the cap
  EXPECT_EQ(max_fee_per_gas(0, 0, 1, "t").value(), 0u);
  const auto above = max_fee_per_gas(10, 3, 22, "t");
  ASSERT_FALSE(above);
  EXPECT_NE(above.error().message.find("23 wei per gas, above the cap of 22"), std::string::npos)
      << above.error().message;
  const auto tip = max_fee_per_gas(0, 23, 22, "t");
  ASSERT_FALSE(tip);
  EXPECT_NE(tip.error().message.find("priority fee"), std::string::npos) << tip.error().message;
}

TEST(RpcMaxFeePerGas, RefusesEverySumBeyond64BitsInsteadOfWrapping) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  constexpr std::uint64_t kHalf = kMax / 2;  // 2^63 - 1: doubled, 2^64 - 2
  // The largest sums that fit.
  EXPECT_EQ(max_fee_per_gas(kHalf, 1, kMax, "t").value(), kMax);
  EXPECT_EQ(max_fee_per_gas(0, kMax, kMax, "t").value(), kMax);
  // One more wraps: refused, naming the overflow, whatever the cap.
  using Pair = std::pair<std::uint64_t, std::uint64_t>;
  for (const auto& [base, tip] :
       {Pair{kHalf, 2}, Pair{kHalf + 1, 0}, Pair{kMax, 0}, Pair{kMax, kMax}, Pair{1, kMax}}) {
    const auto r = max_fee_per_gas(base, tip, kMax, "publish");
    ASSERT_FALSE(r) << base << " " << tip;
    EXPECT_EQ(r.error().what, "publish");
    EXPECT_NE(r.error().message.find("does not fit in 64 bits; nothing signed"), std::string::npos)
        << r.error().message;
  }
}

}  // namespace
}  // namespace pg::chain
