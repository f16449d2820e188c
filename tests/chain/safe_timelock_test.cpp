// The governance's transaction formats against ethers' (tests/vectors/governance.json): the
// timelock's operation id and calldata, the Safe's EIP-712 transaction hash and the packed
// pre-approved signatures.
#include "chain/safe_timelock.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "chain/root_publisher.hpp"

namespace pg::chain {
namespace {

namespace json = boost::json;

json::object vectors() {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/governance.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_object();
}

std::string hex(const json::object& v, const char* key) { return std::string(v.at(key).as_string()); }

Address addr(std::string_view text) {
  auto a = parse_address(text, "address");
  EXPECT_TRUE(a.ok());
  return a.ok() ? *a : Address{};
}

TimelockOp vector_op() {
  TimelockOp op;
  op.target = addr("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0");
  auto data = encode_call("publishRoot(bytes32,uint64,uint256,uint256)",
                          {AbiValue::bytes32(issuer_key("moha")), AbiValue::uint(2),
                           AbiValue::uint(*word_from_decimal("12345678901234567890", "root")),
                           AbiValue::uint(42)});
  EXPECT_TRUE(data.ok());
  op.data = *data;
  return op;
}

TEST(Governance, publish_root_calldata_matches_ethers) {
  EXPECT_EQ(to_hex(vector_op().data), hex(vectors(), "data"));
}

TEST(Governance, timelock_operation_id_matches_hash_operation) {
  EXPECT_EQ(to_hex(timelock_operation_id(vector_op())), hex(vectors(), "opId"));
}

TEST(Governance, timelock_schedule_and_execute_calldata_match_ethers) {
  const auto v = vectors();
  EXPECT_EQ(to_hex(timelock_schedule_calldata(vector_op(), word_from_u64(3600))), hex(v, "schedule"));
  EXPECT_EQ(to_hex(timelock_execute_calldata(vector_op())), hex(v, "execute"));
}

TEST(Governance, safe_tx_hash_matches_eip712_of_ethers) {
  const auto v = vectors();
  SafeTx tx;
  tx.to = addr("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
  tx.data = timelock_schedule_calldata(vector_op(), word_from_u64(3600));
  tx.nonce = word_from_u64(5);
  const Address safe = addr("0x5FbDB2315678afecb367f032d93F642f64180aa3");
  EXPECT_EQ(to_hex(safe_tx_hash(31337, safe, tx)), hex(v, "safeTxHash"));
  // any field changed changes the hash: the nonce, the chain, the Safe
  SafeTx other = tx;
  other.nonce = word_from_u64(6);
  EXPECT_NE(to_hex(safe_tx_hash(31337, safe, other)), hex(v, "safeTxHash"));
  EXPECT_NE(to_hex(safe_tx_hash(1, safe, tx)), hex(v, "safeTxHash"));
  EXPECT_NE(to_hex(safe_tx_hash(31337, tx.to, tx)), hex(v, "safeTxHash"));
}

TEST(Governance, approved_hash_signatures_are_sorted_by_owner) {
  const Address high = addr("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
  const Address low = addr("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  const std::string expected = hex(vectors(), "sigs");
  EXPECT_EQ(to_hex(approved_hash_signatures({high, low})), expected);
  EXPECT_EQ(to_hex(approved_hash_signatures({low, high})), expected);
  EXPECT_EQ(approved_hash_signatures({low}).size(), 65u);
}

TEST(Governance, issuer_key_is_keccak_of_the_issuer_id) {
  // keccak256("moha") as ethers.id computes it (the first 32 bytes after publishRoot's selector)
  EXPECT_EQ("0x" + hex(vectors(), "data").substr(10, 64), to_hex(issuer_key("moha")));
}

}  // namespace
}  // namespace pg::chain
