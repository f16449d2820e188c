// The JSON-RPC client and send_and_wait against a real anvil: value transfers, a contract
// deployed and called, events read back, reverts and RPC errors named, an unreachable node.
#include "chain/rpc.hpp"

#include <gtest/gtest.h>

#include "chain/transaction.hpp"
#include "support/anvil_server.hpp"

namespace pg::chain {
namespace {

using namespace std::chrono_literals;
using test::AnvilServer;

// tests/chain/Counter.sol's creation bytecode, compiled once with
// `node scripts/chain/solc.mjs out.json tests/chain/Counter.sol` (solc-js 0.8.37, optimizer 200,
// cancun).
constexpr const char* kCounterBytecode =
    "6080604052348015600e575f5ffd5b506040516102e23803806102e2833981016040819052602b916031565b5f5560"
    "47"
    "565b5f602082840312156040575f5ffd5b5051919050565b61028e806100545f395ff3fe608060405234801561000f"
    "57"
    "5f5ffd5b506004361061004a575f3560e01c806306661abd1461004e578063a9cc471814610069578063b20eb4c414"
    "61"
    "0073578063ead710c414610086575b5f5ffd5b6100565f5481565b6040519081526020015b60405180910390f35b61"
    "00"
    "716100a6565b005b610056610081366004610161565b6100e0565b610099610094366004610178565b610134565b60"
    "40"
    "5161006091906101e6565b60405162461bcd60e51b81526004016100d7906020808252600490820152636e6f706560"
    "e0"
    "1b604082015260600190565b60405180910390fd5b5f815f5f8282546100f1919061021b565b90915550505f546040"
    "51"
    "90815233907f5311a32e1bc07c65f9f3c57e845d29af6c46065a94add70de6af009b370c3389906020016040518091"
    "03"
    "90a250505f5490565b6060828260405160200161014992919061023a565b6040516020818303038152906040529050"
    "5b"
    "92915050565b5f60208284031215610171575f5ffd5b5035919050565b5f5f60208385031215610189575f5ffd5b82"
    "35"
    "67ffffffffffffffff81111561019f575f5ffd5b8301601f810185136101af575f5ffd5b803567ffffffffffffffff"
    "81"
    "11156101c5575f5ffd5b8560208284010111156101d6575f5ffd5b6020919091019590945092505050565b60208152"
    "5f"
    "82518060208401528060208501604085015e5f604082850101526040601f19601f8301168401019150509291505056"
    "5b"
    "8082018082111561015b57634e487b7160e01b5f52601160045260245ffd5b6203434960ed1b815281836003830137"
    "5f"
    "910160030190815291905056fea264697066735822122089dae01e06cb2027846baecca0d32080a6718ad2490c416c"
    "54"
    "ae1ababb30ee4664736f6c63430008250033";

PrivateKey dev_key(const char* hex) {
  return PrivateKey::from_bytes(from_hex(hex).value()).value();
}

class Anvil : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(AnvilServer::url().empty()) << "anvil did not start";
    auto opened = RpcClient::open(AnvilServer::url());
    ASSERT_TRUE(opened) << opened.error().to_string();
    rpc_.emplace(std::move(*opened));
  }

  Result<Receipt> send(const Send& s, const PrivateKey& key) {
    NonceCounter nonces;  // a new counter reads the pending nonce
    return send_and_wait(*rpc_, key, 31337, s, 30s, nonces);
  }

  /// Deploys Counter(start) and returns its address.
  Address deploy_counter(std::uint64_t start) {
    Bytes code = from_hex(kCounterBytecode).value();
    const Bytes args = encode({AbiValue::uint(start)});
    code.insert(code.end(), args.begin(), args.end());
    const auto key = dev_key(AnvilServer::kDevKey);
    const auto nonce = rpc_->transaction_count(key.address());
    EXPECT_TRUE(nonce);
    auto receipt = send({std::nullopt, code, {}, std::nullopt, "deploy Counter"}, key);
    EXPECT_TRUE(receipt) << receipt.error().to_string();
    if (!receipt) return {};
    EXPECT_TRUE(receipt->contract_address.has_value());
    EXPECT_EQ(receipt->contract_address.value_or(Address{}), create_address(key.address(), *nonce));
    return receipt->contract_address.value_or(Address{});
  }

  std::optional<RpcClient> rpc_;
};

TEST_F(Anvil, AnswersChainIdAndLatestBlock) {
  EXPECT_EQ(rpc_->chain_id().value(), 31337u);
  const auto block = rpc_->latest_block();
  ASSERT_TRUE(block) << block.error().to_string();
  EXPECT_TRUE(block->base_fee_per_gas.has_value());
  EXPECT_TRUE(rpc_->max_priority_fee_per_gas());
}

TEST_F(Anvil, SendsValueAndWaitsForTheReceipt) {
  const auto key = dev_key(AnvilServer::kDevKey2);
  const Address to = parse_address("0x000000000000000000000000000000000000dEaD", "to").value();
  const auto before = rpc_->balance(to);
  ASSERT_TRUE(before) << before.error().to_string();
  const auto nonce = rpc_->transaction_count(key.address()).value();
  const auto receipt = send({to, {}, word_from_u64(12345), std::nullopt, "send value"}, key);
  ASSERT_TRUE(receipt) << receipt.error().to_string();
  EXPECT_TRUE(receipt->success);
  EXPECT_EQ(receipt->gas_used, 21000u);
  EXPECT_EQ(rpc_->transaction_count(key.address()).value(), nonce + 1);
  const auto after = rpc_->balance(to);
  ASSERT_TRUE(after);
  EXPECT_EQ(word_to_u64(*after).value() - word_to_u64(*before).value(), 12345u);
}

TEST_F(Anvil, DeploysAContractCallsItAndReadsItsEvents) {
  const Address counter = deploy_counter(5);
  const auto code = rpc_->code(counter);
  ASSERT_TRUE(code);
  EXPECT_GT(code->size(), 100u);

  const auto count_call = encode_call("count()", {}).value();
  auto count = decode("(uint256)", rpc_->call({std::nullopt, counter, count_call, {}}).value(),
                      "count() result");
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(count->at(0).as_u64(), 5u);

  const auto key = dev_key(AnvilServer::kDevKey);
  const auto receipt = send({counter,
                             encode_call("bump(uint256)", {AbiValue::uint(3)}).value(),
                             {},
                             std::nullopt,
                             "bump"},
                            key);
  ASSERT_TRUE(receipt) << receipt.error().to_string();
  const Hash32 bumped = keccak256("Bumped(address,uint256)");
  ASSERT_EQ(receipt->logs.size(), 1u);
  EXPECT_EQ(receipt->logs[0].address, counter);
  EXPECT_EQ(receipt->logs[0].topics.at(0), bumped);
  EXPECT_EQ(decode("(uint256)", receipt->logs[0].data, "Bumped data")->at(0).as_u64(), 8u);

  Hash32 by{};
  std::copy(key.address().bytes.begin(), key.address().bytes.end(), by.begin() + 12);
  const auto logs = rpc_->logs({counter, {bumped, by}, 0, std::nullopt});
  ASSERT_TRUE(logs) << logs.error().to_string();
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ(logs->at(0).transaction_hash, receipt->transaction_hash);
  EXPECT_EQ(logs->at(0).block_number, receipt->block_number);

  const auto greeting = rpc_->call(
      {std::nullopt, counter, encode_call("greet(string)", {AbiValue::string("bob")}).value(), {}});
  ASSERT_TRUE(greeting);
  EXPECT_EQ(decode("(string)", *greeting, "greet() result")->at(0).as_string(), "hi bob");
}

TEST_F(Anvil, ARevertIsAnErrorNamingTheMethodOrTheTransaction) {
  const Address counter = deploy_counter(1);
  const Bytes fail = encode_call("fail()", {}).value();
  const auto called = rpc_->call({std::nullopt, counter, fail, {}});
  ASSERT_FALSE(called);
  EXPECT_EQ(called.error().what, "eth_call");
  EXPECT_NE(called.error().message.find("nope"), std::string::npos) << called.error().message;

  const auto estimated =
      send({counter, fail, {}, std::nullopt, "call fail"}, dev_key(AnvilServer::kDevKey));
  ASSERT_FALSE(estimated);
  EXPECT_EQ(estimated.error().what, "call fail");
  EXPECT_NE(estimated.error().message.find("eth_estimateGas"), std::string::npos)
      << estimated.error().message;

  // With the gas given, the transaction is mined and reverts: the error carries its hash.
  const auto mined = send({counter, fail, {}, 100000, "call fail"}, dev_key(AnvilServer::kDevKey));
  ASSERT_FALSE(mined);
  EXPECT_NE(mined.error().message.find("reverted"), std::string::npos) << mined.error().message;
  EXPECT_NE(mined.error().message.find("0x"), std::string::npos);
}

TEST_F(Anvil, AnUnknownMethodIsAnRpcErrorNamingIt) {
  const auto r = rpc_->request("eth_noSuchMethod", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what, "eth_noSuchMethod");
  EXPECT_NE(r.error().message.find("RPC error"), std::string::npos) << r.error().message;
}

TEST(Rpc, AnUnreachableNodeIsAClearError) {
  RpcSettings settings;
  settings.timeout = 2000ms;
  auto rpc = RpcClient::open("http://127.0.0.1:1", settings);
  ASSERT_TRUE(rpc);
  const auto id = rpc->chain_id();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().what, "eth_chainId");
  EXPECT_NE(id.error().message.find("refused"), std::string::npos) << id.error().message;
}

TEST(Rpc, RefusesABadUrl) {
  EXPECT_FALSE(RpcClient::open("ftp://127.0.0.1:8545"));
  EXPECT_FALSE(RpcClient::open("http://user@127.0.0.1:8545"));
  EXPECT_FALSE(RpcClient::open("127.0.0.1:8545"));
}

}  // namespace
}  // namespace pg::chain

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new pg::test::AnvilServer);
  return RUN_ALL_TESTS();
}
