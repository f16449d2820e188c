// `proofgate chain publish-roots`: brings the CredentialRootRegistry up to each issuer's signed
// feed through the governance (a Safe proposing to a TimelockController). For every feed entry the
// registry lacks, the operation publishRoot(issuer, seq, root, prevRoot) is scheduled on the
// timelock by a Safe transaction: this owner approves it (Safe.approveHash), or executes it when
// the other owners' approvals and its own reach the threshold; operations whose delay has passed
// are executed, in seq order. Each step is decided from the chain's state, so a second run (or
// another owner's) repeats nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/abi.hpp"
#include "chain/error.hpp"
#include "chain/keccak.hpp"
#include "feed/root_feed.hpp"

namespace pg::chain {

/// What the publisher needs of a node: reads, and transactions from the account whose key it holds.
class ChainPort {
 public:
  virtual ~ChainPort() = default;
  /// The account transactions are sent from.
  virtual Address sender() const = 0;
  virtual std::uint64_t chain_id() const = 0;
  /// eth_call at the latest block.
  virtual Result<Bytes> call(const Address& to, const Bytes& data) = 0;
  /// Sends a transaction, waits for its receipt and refuses a reverted one; the transaction hash.
  virtual Result<Hash32> transact(const Address& to, const Bytes& data) = 0;
};

struct GovernanceAddresses {
  Address root_registry;
  Address timelock;
  Address safe;
};

/// One issuer's verified feed chain (feed::read_verified_chain), from seq 1.
struct IssuerChain {
  std::string issuer;  // "moha": on chain keccak256(bytes("moha"))
  std::vector<feed::FeedEntry> entries;
};

/// One thing done (or found waiting) for one feed entry.
struct PublishStep {
  std::string issuer;
  std::uint64_t seq = 0;
  /// "approved" (approveHash sent), "scheduled" (the Safe transaction executed), "executed" (the
  /// timelock ran publishRoot), "awaiting_approvals", "waiting_delay", "already_approved".
  std::string action;
  std::string detail;  // a hash, the Safe nonce, the ready time
};

struct IssuerOutcome {
  std::string issuer;
  std::uint64_t feed_seq = 0;      // the feed's last entry
  std::uint64_t registry_seq = 0;  // the registry's after this run
  std::string error;               // empty unless this issuer's chain and registry disagree
};

struct PublishReport {
  std::vector<PublishStep> steps;
  std::vector<IssuerOutcome> issuers;
};

/// Runs one pass over all issuers. An RPC failure stops the pass with its error; an issuer whose
/// registry state disagrees with its feed (a different root at a seq, a registry ahead of the
/// feed) is reported in its outcome and nothing is proposed for it.
Result<PublishReport> publish_roots(ChainPort& chain, const GovernanceAddresses& at,
                                    const std::vector<IssuerChain>& issuers);

/// The registry's key of an issuer: keccak256(bytes(issuer_id)).
Word issuer_key(std::string_view issuer);

}  // namespace pg::chain
