// publish_roots' decisions against a small model of the Safe (owners, threshold, nonce,
// approveHash, execTransaction with pre-approved signatures), the timelock (schedule with a
// minimum delay, execute once ready) and the root registry (seq and prev root). The model checks
// what the contracts check, so a wrong hash, too few approvals, an early or out-of-order execution
// is a failed transaction here as on chain (tests/chain/publish_roots_test.mjs runs the real ones).
#include "chain/root_publisher.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string_view>

#include "chain/safe_timelock.hpp"

namespace pg::chain {
namespace {

constexpr std::uint64_t kChainId = 31337;

Address address_of(std::uint8_t tag) {
  Address a;
  a.bytes.fill(tag);
  return a;
}

std::array<std::uint8_t, 4> sel(std::string_view signature) {
  return *selector(signature);
}

bool has_selector(const Bytes& data, std::string_view signature) {
  const auto s = sel(signature);
  return data.size() >= 4 && std::equal(s.begin(), s.end(), data.begin());
}

std::span<const std::uint8_t> args_of(const Bytes& data) {
  return std::span<const std::uint8_t>(data).subspan(4);
}

Hash32 hash_of(const Word& w) {
  Hash32 h;
  std::copy(w.begin(), w.end(), h.begin());
  return h;
}

/// The Safe, the timelock and the registry of one chain, and which account sends.
class Model {
 public:
  Address safe = address_of(0x5a), timelock = address_of(0x71), registry = address_of(0x4e);
  std::vector<Address> owners{address_of(0x01), address_of(0x02), address_of(0x03)};
  std::uint64_t threshold = 2, nonce = 0, min_delay = 600, now = 1000;
  std::set<std::pair<std::array<std::uint8_t, 20>, Hash32>> approved;  // (owner, safeTxHash)
  std::map<Hash32, std::uint64_t> ready_at;  // scheduled operations; 0 once done
  std::multiset<Hash32> cancelled;           // Cancelled(id) events
  std::map<Word, std::pair<std::string, std::uint64_t>> current;  // issuer → (root, seq)
  int transactions = 0;

  Result<Bytes> call(const Address& to, const Bytes& data) const {
    if (to == safe && has_selector(data, "getOwners()")) {
      std::vector<AbiValue> items;
      for (const auto& o : owners) items.push_back(AbiValue::address(o));
      return encode({AbiValue::array(items)});
    }
    if (to == safe && has_selector(data, "getThreshold()"))
      return encode({AbiValue::uint(threshold)});
    if (to == safe && has_selector(data, "nonce()")) return encode({AbiValue::uint(nonce)});
    if (to == safe && has_selector(data, "approvedHashes(address,bytes32)")) {
      const auto a = *decode("(address,bytes32)", args_of(data), "args");
      const bool yes = approved.contains({a[0].as_address().bytes, hash_of(a[1].word)});
      return encode({AbiValue::uint(yes ? 1 : 0)});
    }
    if (to == timelock && has_selector(data, "getMinDelay()"))
      return encode({AbiValue::uint(min_delay)});
    if (to == timelock && has_selector(data, "getOperationState(bytes32)")) {
      const auto a = *decode("(bytes32)", args_of(data), "args");
      return encode({AbiValue::uint(static_cast<std::uint64_t>(state(hash_of(a[0].word))))});
    }
    if (to == timelock && has_selector(data, "getTimestamp(bytes32)")) {
      const auto a = *decode("(bytes32)", args_of(data), "args");
      const auto it = ready_at.find(hash_of(a[0].word));
      return encode({AbiValue::uint(it == ready_at.end() ? 0 : it->second)});
    }
    if (to == registry && has_selector(data, "current(bytes32)")) {
      const auto a = *decode("(bytes32)", args_of(data), "args");
      const auto it = current.find(a[0].word);
      const std::string root =
          it == current.end() || it->second.first.empty() ? "0" : it->second.first;
      const std::uint64_t seq = it == current.end() ? 0 : it->second.second;
      return encode({AbiValue::uint(*word_from_decimal(root, "root")), AbiValue::uint(seq),
                     AbiValue::uint(now)});
    }
    return Error{"eth_call", "unexpected call"};
  }

  OperationState state(const Hash32& id) const {
    const auto it = ready_at.find(id);
    if (it == ready_at.end()) return OperationState::kUnset;
    if (it->second == 0) return OperationState::kDone;
    return now >= it->second ? OperationState::kReady : OperationState::kWaiting;
  }

  Result<Hash32> transact(const Address& from, const Address& to, const Bytes& data) {
    ++transactions;
    const Error revert{"transaction", "reverted"};
    if (to == safe && has_selector(data, "approveHash(bytes32)")) {
      if (std::find(owners.begin(), owners.end(), from) == owners.end()) return revert;
      const auto a = *decode("(bytes32)", args_of(data), "args");
      approved.insert({from.bytes, hash_of(a[0].word)});
      return Hash32{};
    }
    if (to == safe &&
        has_selector(data,
                     "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,"
                     "address,address,bytes)")) {
      const auto a = *decode(
          "(address,uint256,bytes,uint8,uint256,uint256,uint256,address,"
          "address,bytes)",
          args_of(data), "args");
      SafeTx tx;
      tx.to = a[0].as_address();
      tx.value = a[1].word;
      tx.data = a[2].data;
      tx.nonce = word_from_u64(nonce);
      const Hash32 hash = safe_tx_hash(kChainId, safe, tx);
      const Bytes& sigs = a[9].data;
      std::uint64_t valid = 0;
      for (std::size_t at = 0; at + 65 <= sigs.size() && valid < threshold; at += 65) {
        Address signer;
        std::copy(sigs.begin() + at + 12, sigs.begin() + at + 32, signer.bytes.begin());
        const bool owner = std::find(owners.begin(), owners.end(), signer) != owners.end();
        if (sigs[at + 64] != 1 || !owner) return revert;
        if (!(signer == from) && !approved.contains({signer.bytes, hash})) return revert;
        ++valid;
      }
      if (valid < threshold || tx.to != timelock ||
          !has_selector(tx.data, "schedule(address,uint256,bytes,bytes32,bytes32,uint256)")) {
        return revert;
      }
      const auto s =
          *decode("(address,uint256,bytes,bytes32,bytes32,uint256)", args_of(tx.data), "schedule");
      const TimelockOp op{s[0].as_address(), s[1].word, s[2].data, s[3].word, s[4].word};
      const Hash32 id = timelock_operation_id(op);
      if (state(id) != OperationState::kUnset || s[5].as_u64().value_or(0) < min_delay) {
        return revert;
      }
      ready_at[id] = now + *s[5].as_u64();
      ++nonce;
      return Hash32{};
    }
    if (to == timelock && has_selector(data, "execute(address,uint256,bytes,bytes32,bytes32)")) {
      const auto e = *decode("(address,uint256,bytes,bytes32,bytes32)", args_of(data), "args");
      const TimelockOp op{e[0].as_address(), e[1].word, e[2].data, e[3].word, e[4].word};
      const Hash32 id = timelock_operation_id(op);
      if (state(id) != OperationState::kReady || !(op.target == registry)) return revert;
      const auto p = *decode("(bytes32,uint64,uint256,uint256)", args_of(op.data), "publishRoot");
      auto& cur = current[p[0].word];
      if (cur.first.empty()) cur.first = "0";
      if (*p[1].as_u64() != cur.second + 1 || word_to_decimal(p[3].word) != cur.first)
        return revert;
      cur = {word_to_decimal(p[2].word), *p[1].as_u64()};
      ready_at[id] = 0;
      return Hash32{};
    }
    return revert;
  }
};

/// One owner's view of the model.
class OwnerPort final : public ChainPort {
 public:
  OwnerPort(Model& model, Address me) : model_(model), me_(me) {}
  Address sender() const override { return me_; }
  std::uint64_t chain_id() const override { return kChainId; }
  Result<Bytes> call(const Address& to, const Bytes& data) override {
    return model_.call(to, data);
  }
  Result<Hash32> transact(const Address& to, const Bytes& data) override {
    return model_.transact(me_, to, data);
  }
  Result<std::size_t> count_logs(const Address& emitter, const std::vector<Hash32>& topics,
                                 std::uint64_t) override {
    const bool cancelled_query = emitter == model_.timelock && topics.size() == 2 &&
                                 topics[0] == keccak256(std::string_view("Cancelled(bytes32)"));
    if (!cancelled_query) return Error{"eth_getLogs", "unexpected filter"};
    return static_cast<std::size_t>(model_.cancelled.count(topics[1]));
  }

 private:
  Model& model_;
  Address me_;
};

std::vector<feed::FeedEntry> feed_of(std::initializer_list<const char*> roots) {
  std::vector<feed::FeedEntry> out;
  std::string prev = "0";
  std::uint64_t seq = 0;
  for (const char* r : roots) {
    feed::FeedEntry e;
    e.seq = ++seq;
    e.root = r;
    e.prev_root = prev;
    prev = r;
    out.push_back(e);
  }
  return out;
}

std::vector<std::string> actions(const PublishReport& r) {
  std::vector<std::string> out;
  for (const auto& s : r.steps) out.push_back(s.action + " " + std::to_string(s.seq));
  return out;
}

struct RootPublisher : ::testing::Test {
  Model model;
  GovernanceAddresses at{model.registry, model.timelock, model.safe};
  std::vector<IssuerChain> chains{{"moha", feed_of({"11", "22", "33"})}};

  PublishReport run_as(std::size_t owner) {
    OwnerPort port(model, model.owners[owner]);
    auto r = publish_roots(port, at, chains);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : PublishReport{};
  }
  std::uint64_t registry_seq() { return model.current[issuer_key("moha")].second; }
};

TEST_F(RootPublisher, refuses_an_account_that_is_not_an_owner_and_sends_nothing) {
  OwnerPort port(model, address_of(0x09));
  auto r = publish_roots(port, at, chains);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().what, "--key-file");
  EXPECT_EQ(model.transactions, 0);
}

TEST_F(RootPublisher, two_owners_schedule_the_delay_passes_and_no_run_repeats_anything) {
  EXPECT_EQ(actions(run_as(0)), (std::vector<std::string>{"approved 1", "approved 2", "approved 3",
                                                          "awaiting_approvals 1"}));
  EXPECT_EQ(model.transactions, 3);
  run_as(0);
  EXPECT_EQ(model.transactions, 3) << "a repeat approves nothing twice";
  EXPECT_EQ(actions(run_as(1)), (std::vector<std::string>{"scheduled 1", "scheduled 2",
                                                          "scheduled 3", "waiting_delay 1"}));
  EXPECT_EQ(model.nonce, 3u);
  const int after_schedule = model.transactions;
  run_as(2);
  run_as(1);
  EXPECT_EQ(model.transactions, after_schedule) << "nothing is scheduled twice or run early";
  EXPECT_EQ(registry_seq(), 0u);
  model.now += model.min_delay;
  EXPECT_EQ(actions(run_as(2)),
            (std::vector<std::string>{"executed 1", "executed 2", "executed 3"}));
  EXPECT_EQ(model.current[issuer_key("moha")], (std::pair<std::string, std::uint64_t>{"33", 3}));
  const int done = model.transactions;
  const auto idle = run_as(0);
  EXPECT_TRUE(idle.steps.empty());
  EXPECT_EQ(model.transactions, done);
  EXPECT_EQ(idle.issuers.at(0).registry_seq, 3u);
}

TEST_F(RootPublisher, approvals_for_a_nonce_another_transaction_took_do_not_count) {
  run_as(0);      // approves at nonces 0, 1, 2
  ++model.nonce;  // an unrelated Safe transaction
  // owner 2 cannot reach the threshold with hashes of the old nonces: it approves the new ones
  EXPECT_EQ(actions(run_as(1)).front(), "approved 1");
  EXPECT_EQ(model.nonce, 1u);
  // owner 1 runs again: its approval and owner 2's meet
  EXPECT_EQ(actions(run_as(0)).front(), "scheduled 1");
  EXPECT_EQ(model.nonce, 4u);
}

TEST_F(RootPublisher, executes_in_seq_order_and_stops_at_the_first_still_waiting) {
  chains = {{"moha", feed_of({"11", "22"})}};
  run_as(0);
  run_as(1);
  model.now += model.min_delay;
  chains = {{"moha", feed_of({"11", "22", "33"})}};  // the feed grew meanwhile
  const auto r = run_as(0);
  EXPECT_EQ(actions(r), (std::vector<std::string>{"approved 3", "executed 1", "executed 2",
                                                  "awaiting_approvals 3"}));
  run_as(2);
  EXPECT_EQ(actions(run_as(2)), (std::vector<std::string>{"waiting_delay 3"}));
  EXPECT_EQ(registry_seq(), 2u);
}

TEST_F(RootPublisher, a_registry_that_forks_from_or_runs_ahead_of_the_feed_gets_nothing) {
  model.current[issuer_key("moha")] = {"99", 1};
  auto r = run_as(0);
  EXPECT_EQ(model.transactions, 0);
  ASSERT_EQ(r.issuers.size(), 1u);
  EXPECT_NE(r.issuers[0].error.find("root at seq 1 is not the feed's"), std::string::npos);
  model.current[issuer_key("moha")] = {"44", 4};
  r = run_as(0);
  EXPECT_EQ(model.transactions, 0);
  EXPECT_NE(r.issuers[0].error.find("ahead of the feed"), std::string::npos);
}

TEST_F(RootPublisher, a_cancelled_publication_is_not_proposed_again_unless_asked) {
  run_as(0);
  run_as(1);
  // the Safe cancels seq 2's operation (the timelock forgets it and logs Cancelled)
  const auto key = issuer_key("moha");
  auto op2 = encode_call(
      "publishRoot(bytes32,uint64,uint256,uint256)",
      {AbiValue::bytes32(key), AbiValue::uint(2), AbiValue::uint(*word_from_decimal("22", "root")),
       AbiValue::uint(*word_from_decimal("11", "prev"))});
  const Hash32 id = timelock_operation_id({model.registry, {}, *op2, {}, {}});
  ASSERT_EQ(model.state(id), OperationState::kWaiting);
  model.ready_at.erase(id);
  model.cancelled.insert(id);
  model.now += model.min_delay;
  const int before = model.transactions;
  auto r = run_as(0);
  EXPECT_EQ(actions(r),
            (std::vector<std::string>{"cancelled 2", "executed 1", "awaiting_approvals 2"}));
  EXPECT_NE(r.issuers.at(0).error.find("cancelled the publication of seq 2"), std::string::npos);
  EXPECT_EQ(model.transactions, before + 1) << "only seq 1 executed, nothing proposed";
  EXPECT_EQ(registry_seq(), 1u);
  // asked to, the owners propose it anew
  OwnerPort port(model, model.owners[1]);
  auto again = publish_roots(port, at, chains, {.repropose_cancelled = true});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(actions(*again).front(), "approved 2");
}

TEST_F(RootPublisher, issuers_are_proposed_in_name_order_whatever_the_configured_order) {
  chains = {{"tu", feed_of({"5"})}, {"moha", feed_of({"7"})}};
  run_as(0);
  chains = {{"moha", feed_of({"7"})}, {"tu", feed_of({"5"})}};
  const auto r = run_as(1);
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].issuer + " " + r.steps[0].action, "moha scheduled");
  EXPECT_EQ(r.steps[1].issuer + " " + r.steps[1].action, "tu scheduled");
}

}  // namespace
}  // namespace pg::chain
