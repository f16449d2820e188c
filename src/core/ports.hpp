// The ports the domain needs from the outside: durable storage, a shared cache and a clock.
// SQLite (src/store/sqlite) and an in-process cache (src/cache/memory) fill them on the embedded
// default; PostgreSQL and Redis fill the same interfaces in production.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"

namespace pg::core {

/// Storage failed (I/O, corruption, constraint other than the ones a method reports). The HTTP
/// layer answers INTERNAL and records nothing.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The shared cache cannot answer (production: Redis unreachable or too slow). The service fails
/// closed: the HTTP layer answers NOT_READY (503) and records nothing; a nonce is never accepted
/// without its check.
class CacheUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Wall-clock time, replaceable in tests.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

enum class RecordOutcome { kStored, kNonceTaken };

/// Durable state. Every method is safe to call from several threads at once; each write is one
/// transaction. Methods throw StoreError when the storage fails.
class Store {
 public:
  virtual ~Store() = default;

  /// True when the storage answers a trivial query.
  virtual bool ping() noexcept = 0;

  /// Stores the partner and claims its verifier domains for it (AdminStore::create_client is the
  /// audited use case); throws StoreError, nothing written, when another partner holds one.
  virtual void insert_client(const Client& client) = 0;
  /// The partner whose API key has this prefix, unless that key was revoked or expired by `now`;
  /// key_prefix, key_hash and last_used are that key's.
  virtual std::optional<Client> find_client_by_prefix(std::string_view key_prefix,
                                                      UnixMillis now) = 0;
  /// As above at the wall clock's now.
  std::optional<Client> find_client_by_prefix(std::string_view key_prefix) {
    return find_client_by_prefix(key_prefix, SystemClock().now_ms());
  }
  virtual std::vector<Client> list_clients() = 0;
  /// Records a use of the partner's key `key_prefix` at `now` (last_used only moves forward).
  virtual void touch_client(std::string_view client_id, std::string_view key_prefix,
                            UnixMillis now) = 0;
  /// The partner with this id (its current key's prefix and hash), or nullopt.
  virtual std::optional<Client> find_client(std::string_view client_id) = 0;
  /// Partners ordered by (created_at, id) strictly after (after_created_at, after_id) — from the
  /// first when after_id is empty — at most `limit`.
  virtual std::vector<Client> list_clients_after(UnixMillis after_created_at,
                                                 std::string_view after_id, std::size_t limit) = 0;
  /// The partner's API keys, oldest first.
  virtual std::vector<ClientKey> client_keys(std::string_view client_id) = 0;

  virtual void insert_request(const ProofRequest& request) = 0;
  virtual std::optional<ProofRequest> find_request(std::string_view client_id,
                                                   std::string_view nonce) = 0;

  /// Writes the proof row, the outbox event (when given) and the idempotency record (when given)
  /// in one transaction. kNonceTaken (and nothing written) when a proof row already holds
  /// (client_id, request_nonce): the unique constraint is the last word on replays.
  virtual RecordOutcome record_proof(const ProofRecord& proof, const OutboxEvent* event,
                                     const IdempotencyRecord* idempotency) = 0;
  virtual std::optional<ProofRecord> find_proof(std::string_view proof_id) = 0;
  /// True when a proof row answers (client_id, nonce).
  virtual bool nonce_answered(std::string_view client_id, std::string_view nonce) = 0;

  /// The record for (client_id, key) unless it expired before `now`.
  virtual std::optional<IdempotencyRecord> find_idempotency(std::string_view client_id,
                                                            std::string_view key,
                                                            UnixMillis now) = 0;
  virtual void save_idempotency(const IdempotencyRecord& record) = 0;

  /// Publishes `root` (issuer_id, root, seq, issued_at, sandbox; the rest is ignored) as the
  /// current root of the issuer's side (live or sandbox); the previous current root is superseded
  /// at `now`. A root that was replaced before is never current again (re-publishing an old root
  /// would un-revoke every credential revoked since): kReplacedBefore and nothing written. A root
  /// the issuer's other side (sandbox or live) knows, current or past: kOtherSide, nothing written.
  virtual PublishOutcome publish_root(const IssuerRoot& root, UnixMillis now) = 0;
  /// An operator's root: no feed seq, issued now.
  PublishOutcome publish_root(std::uint32_t issuer_id, std::string_view root, UnixMillis now) {
    return publish_root(IssuerRoot{issuer_id, std::string(root), 0, 0, 0, 0}, now);
  }
  /// publish_root for a feed entry, and in the same transaction the keys that entry announced
  /// or retired. A key row is upserted: an existing row keeps its public key and announced_seq,
  /// and its valid_until only ever comes sooner (0, no end, is the latest). Only kPublished
  /// writes anything; a failure (StoreError) leaves both root and keys as they were.
  virtual PublishOutcome publish_feed_root(const IssuerRoot& root, const std::vector<FeedKey>& keys,
                                           UnixMillis now) = 0;
  /// The issuer's stored feed keys of one side (live or sandbox feed), in the order they were
  /// announced (retired configured keys, announced_seq 0, first).
  virtual std::vector<FeedKey> feed_keys(std::uint32_t issuer_id, bool sandbox) = 0;
  std::vector<FeedKey> feed_keys(std::uint32_t issuer_id) { return feed_keys(issuer_id, false); }
  /// The row of `root` for the issuer's live or sandbox side, current or replaced. Each side keeps
  /// its own chain: its own current root, seq and replaced roots.
  virtual std::optional<IssuerRoot> find_root(std::uint32_t issuer_id, std::string_view root,
                                              bool sandbox) = 0;
  std::optional<IssuerRoot> find_root(std::uint32_t issuer_id, std::string_view root) {
    return find_root(issuer_id, root, false);
  }
  /// The side's root with the highest feed seq (where a feed follower resumes).
  virtual std::optional<IssuerRoot> latest_feed_root(std::uint32_t issuer_id, bool sandbox) = 0;
  std::optional<IssuerRoot> latest_feed_root(std::uint32_t issuer_id) {
    return latest_feed_root(issuer_id, false);
  }
  /// The side's current root and every root superseded at or after `since`.
  virtual std::vector<IssuerRoot> recent_roots(std::uint32_t issuer_id, UnixMillis since,
                                               bool sandbox) = 0;
  std::vector<IssuerRoot> recent_roots(std::uint32_t issuer_id, UnixMillis since) {
    return recent_roots(issuer_id, since, false);
  }

  /// Circuit versions are enabled unless a row says otherwise.
  virtual void set_circuit_enabled(std::string_view claim_type, std::string_view version,
                                   bool enabled, UnixMillis now) = 0;
  virtual std::optional<bool> circuit_enabled(std::string_view claim_type,
                                              std::string_view version) = 0;

  /// Outbox rows not yet delivered (for tests and the webhook worker).
  virtual std::vector<OutboxEvent> pending_events(std::size_t limit) = 0;
};

/// The answer of a token bucket.
struct RateDecision {
  bool allowed = true;
  double retry_after_seconds = 0;
};

/// Shared, expiring coordination state: the fast path for single-use nonces, in-flight
/// idempotency keys and rate limits. Safe to call from several threads.
class Cache {
 public:
  virtual ~Cache() = default;
  /// Sets `key` unless it is present (SET NX PX): true when this call set it.
  virtual bool add(std::string_view key, std::chrono::milliseconds ttl) = 0;
  virtual void remove(std::string_view key) = 0;
  /// Takes one token from the bucket `bucket` refilled at `rate` per second up to `burst`.
  virtual RateDecision take_token(std::string_view bucket, double rate, double burst) = 0;
  /// True when the cache answers.
  virtual bool ping() noexcept = 0;
};

}  // namespace pg::core
