// publish-roots' pass: registry vs feed per issuer, Safe approvals and executions of the timelock
// schedules, then the timelock executions whose delay has passed.
#include "chain/root_publisher.hpp"

#include <algorithm>
#include <stdexcept>

#include "chain/safe_timelock.hpp"

namespace pg::chain {
namespace {

/// eth_call of `signature` with `args`, its return data decoded as `returns`.
Result<std::vector<AbiValue>> read(ChainPort& chain, const Address& to, std::string_view signature,
                                   const std::vector<AbiValue>& args, std::string_view returns) {
  auto data = chain.call(to, must_encode_call(signature, args));
  if (!data) return data.error();
  const std::string what = std::string(signature.substr(0, signature.find('('))) + "() result";
  return decode(returns, *data, what);
}

Result<std::uint64_t> read_u64(ChainPort& chain, const Address& to, std::string_view signature,
                               const std::vector<AbiValue>& args) {
  auto v = read(chain, to, signature, args, "(uint256)");
  if (!v) return v.error();
  const auto n = (*v)[0].as_u64();
  if (!n) return Error{std::string(signature), "the value does not fit 64 bits"};
  return *n;
}

struct Current {
  std::string root;  // decimal, "0" before the first
  std::uint64_t seq = 0;
};

Result<Current> registry_current(ChainPort& chain, const Address& registry, const Word& key) {
  auto v = read(chain, registry, "current(bytes32)", {AbiValue::bytes32(key)},
                "(uint256,uint64,uint64)");
  if (!v) return v.error();
  return Current{word_to_decimal((*v)[0].word), (*v)[1].as_u64().value_or(0)};
}

Result<OperationState> operation_state(ChainPort& chain, const Address& timelock,
                                       const Hash32& id) {
  auto v = read(chain, timelock, "getOperationState(bytes32)", {AbiValue::bytes32(id)}, "(uint8)");
  if (!v) return v.error();
  const auto n = (*v)[0].as_u64().value_or(0);
  if (n > 3) return Error{"getOperationState", "unknown state " + std::to_string(n)};
  return static_cast<OperationState>(n);
}

Result<bool> has_approved(ChainPort& chain, const Address& safe, const Address& owner,
                          const Hash32& hash) {
  auto v = read(chain, safe, "approvedHashes(address,bytes32)",
                {AbiValue::address(owner), AbiValue::bytes32(hash)}, "(uint256)");
  if (!v) return v.error();
  const Word& w = (*v)[0].word;
  return std::any_of(w.begin(), w.end(), [](std::uint8_t b) { return b != 0; });
}

/// The timelock operation publishing one feed entry: no predecessor, salt 0 (the call itself is
/// unique: a root never repeats for an issuer).
Result<TimelockOp> publish_op(const Address& registry, const Word& key, const feed::FeedEntry& e) {
  auto root = word_from_decimal(e.root, "root");
  if (!root) return root.error();
  auto prev = word_from_decimal(e.prev_root, "prev_root");
  if (!prev) return prev.error();
  TimelockOp op;
  op.target = registry;
  op.data = must_encode_call("publishRoot(bytes32,uint64,uint256,uint256)",
                             {AbiValue::bytes32(key), AbiValue::uint(e.seq), AbiValue::uint(*root),
                              AbiValue::uint(*prev)});
  return op;
}

std::string hex_of(const Hash32& h) {
  return to_hex(h);
}

/// topic0 of OpenZeppelin TimelockController's `Cancelled(bytes32 indexed id)`.
const Hash32 kCancelledTopic = keccak256(std::string_view("Cancelled(bytes32)"));

struct Pending {
  std::string issuer;
  std::uint64_t seq = 0;
  TimelockOp op;
};

}  // namespace

Word issuer_key(std::string_view issuer) {
  return keccak256(issuer);
}

Result<PublishReport> publish_roots(ChainPort& chain, const GovernanceAddresses& at,
                                    const std::vector<IssuerChain>& issuers,
                                    const PublishOptions& options) {
  PublishReport report;
  const Address me = chain.sender();

  auto owners_v = read(chain, at.safe, "getOwners()", {}, "(address[])");
  if (!owners_v) return owners_v.error();
  std::vector<Address> owners;
  for (const AbiValue& o : (*owners_v)[0].items) owners.push_back(o.as_address());
  if (std::find(owners.begin(), owners.end(), me) == owners.end()) {
    return Error{"--key-file", "the key's account " + me.to_checksum() +
                                   " is not an owner of the Safe " + at.safe.to_checksum()};
  }
  auto threshold = read_u64(chain, at.safe, "getThreshold()", {});
  if (!threshold) return threshold.error();
  auto delay = read(chain, at.timelock, "getMinDelay()", {}, "(uint256)");
  if (!delay) return delay.error();
  const Word min_delay = (*delay)[0].word;

  // 1. What each issuer's registry state lacks, and which of those operations nobody scheduled.
  std::vector<Pending> to_schedule;
  std::vector<bool> usable(issuers.size(), true);
  for (std::size_t i = 0; i < issuers.size(); ++i) {
    const IssuerChain& ic = issuers[i];
    const Word key = issuer_key(ic.issuer);
    IssuerOutcome outcome{ic.issuer, ic.entries.empty() ? 0 : ic.entries.back().seq, 0, ""};
    auto cur = registry_current(chain, at.root_registry, key);
    if (!cur) return cur.error();
    outcome.registry_seq = cur->seq;
    if (cur->seq > outcome.feed_seq) {
      outcome.error = "the registry is at seq " + std::to_string(cur->seq) +
                      ", ahead of the feed's last entry " + std::to_string(outcome.feed_seq);
    } else if (cur->seq > 0 && ic.entries[cur->seq - 1].root != cur->root) {
      outcome.error = "the registry's root at seq " + std::to_string(cur->seq) +
                      " is not the feed's (" + cur->root + ")";
    }
    if (!outcome.error.empty()) {
      usable[i] = false;
      report.issuers.push_back(std::move(outcome));
      continue;
    }
    for (const feed::FeedEntry& e : ic.entries) {
      if (e.seq <= cur->seq) continue;
      auto op = publish_op(at.root_registry, key, e);
      if (!op) return op.error();
      const Hash32 id = timelock_operation_id(*op);
      auto state = operation_state(chain, at.timelock, id);
      if (!state) return state.error();
      if (*state != OperationState::kUnset) continue;
      if (!options.repropose_cancelled) {
        auto cancelled = chain.count_logs(at.timelock, {kCancelledTopic, id}, at.deployed_block);
        if (!cancelled) return cancelled.error();
        if (*cancelled > 0) {
          // Later entries need this one first: the issuer stops here.
          report.steps.push_back({ic.issuer, e.seq, "cancelled", "operation " + hex_of(id)});
          outcome.error = "the Safe cancelled the publication of seq " + std::to_string(e.seq) +
                          "; not proposed again (--repropose-cancelled proposes it anew)";
          break;
        }
      }
      to_schedule.push_back({ic.issuer, e.seq, *op});
    }
    report.issuers.push_back(std::move(outcome));
  }

  // 2. One Safe transaction per operation, at consecutive Safe nonces in (issuer, seq) order:
  // every owner running this on the same chain state computes the same hashes, so approvals
  // meet. The one at the Safe's current nonce is executed once approvals reach the threshold
  // (this account counting as the sender); the others are approved for a later run.
  std::sort(to_schedule.begin(), to_schedule.end(), [](const Pending& a, const Pending& b) {
    return a.issuer != b.issuer ? a.issuer < b.issuer : a.seq < b.seq;
  });
  auto nonce = read_u64(chain, at.safe, "nonce()", {});
  if (!nonce) return nonce.error();
  const std::uint64_t base = *nonce;
  std::uint64_t next_nonce = base;
  for (std::size_t i = 0; i < to_schedule.size(); ++i) {
    const Pending& p = to_schedule[i];
    SafeTx tx;
    tx.to = at.timelock;
    tx.data = timelock_schedule_calldata(p.op, min_delay);
    tx.nonce = word_from_u64(base + i);
    const Hash32 hash = safe_tx_hash(chain.chain_id(), at.safe, tx);
    std::vector<Address> approvers{me};
    bool mine = false;
    for (const Address& o : owners) {
      auto approved = has_approved(chain, at.safe, o, hash);
      if (!approved) return approved.error();
      if (!*approved) continue;
      if (o == me) {
        mine = true;
      } else if (approvers.size() < *threshold) {
        approvers.push_back(o);
      }
    }
    const std::string nonce_text = "safe nonce " + std::to_string(base + i);
    if (base + i == next_nonce && approvers.size() >= *threshold) {
      auto sent = chain.transact(
          at.safe, exec_transaction_calldata(tx, approved_hash_signatures(approvers)));
      if (!sent) return sent.error();
      report.steps.push_back({p.issuer, p.seq, "scheduled", nonce_text + ", tx " + hex_of(*sent)});
      ++next_nonce;
    } else if (!mine) {
      auto sent = chain.transact(
          at.safe, must_encode_call("approveHash(bytes32)", {AbiValue::bytes32(hash)}));
      if (!sent) return sent.error();
      report.steps.push_back(
          {p.issuer, p.seq, "approved", nonce_text + ", safeTxHash " + hex_of(hash)});
    } else {
      report.steps.push_back(
          {p.issuer, p.seq, "already_approved", nonce_text + ", safeTxHash " + hex_of(hash)});
    }
  }

  // 3. Operations past their delay, in seq order per issuer (publishRoot needs the one before).
  for (std::size_t i = 0; i < issuers.size(); ++i) {
    if (!usable[i]) continue;
    const IssuerChain& ic = issuers[i];
    const Word key = issuer_key(ic.issuer);
    auto cur = registry_current(chain, at.root_registry, key);
    if (!cur) return cur.error();
    for (const feed::FeedEntry& e : ic.entries) {
      if (e.seq <= cur->seq) continue;
      auto op = publish_op(at.root_registry, key, e);
      if (!op) return op.error();
      const Hash32 id = timelock_operation_id(*op);
      auto state = operation_state(chain, at.timelock, id);
      if (!state) return state.error();
      if (*state == OperationState::kReady) {
        auto sent = chain.transact(at.timelock, timelock_execute_calldata(*op));
        if (!sent) return sent.error();
        report.steps.push_back({ic.issuer, e.seq, "executed", "tx " + hex_of(*sent)});
        continue;
      }
      if (*state == OperationState::kWaiting) {
        auto ready_at =
            read_u64(chain, at.timelock, "getTimestamp(bytes32)", {AbiValue::bytes32(id)});
        if (!ready_at) return ready_at.error();
        report.steps.push_back(
            {ic.issuer, e.seq, "waiting_delay", "ready at " + std::to_string(*ready_at)});
      } else if (*state == OperationState::kUnset) {
        report.steps.push_back({ic.issuer, e.seq, "awaiting_approvals", ""});
      }
      break;
    }
    auto after = registry_current(chain, at.root_registry, key);
    if (!after) return after.error();
    for (IssuerOutcome& o : report.issuers) {
      if (o.issuer == ic.issuer) o.registry_seq = after->seq;
    }
  }
  return report;
}

}  // namespace pg::chain
