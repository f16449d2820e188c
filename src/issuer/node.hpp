// The issuer node's service (docs/issuers.md): enrolment through the authority, the tree and its
// signed root feed, revocation, key rotation and the admin reads. No HTTP here: http_routes.hpp
// maps requests to it and its errors to status codes.
#pragma once

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto/result.hpp"
#include "feed/root_feed.hpp"
#include "issuer/attributes.hpp"
#include "issuer/authority.hpp"
#include "issuer/issuer_store.hpp"
#include "issuer/tree.hpp"

namespace pg::issuer {

/// The error codes of docs/issuers.md ("Errors").
enum class NodeErrorCode {
  kInvalidRequest,
  kUnknownRecord,
  kWrongCode,
  kCodeExpired,
  kLockedOut,
  kRateLimited,
  kAuthorityUnavailable,
  kAuthorityBadAnswer,
  kRevoked,
  kNotFound,
  kUnauthorized,
  kInternal,
};
/// "INVALID_REQUEST", "UNKNOWN_RECORD", ...
std::string_view error_code_name(NodeErrorCode code) noexcept;

struct NodeError {
  NodeErrorCode code = NodeErrorCode::kInternal;
  std::string detail;          // never personal data
  unsigned retry_after_s = 0;  // LOCKED_OUT, RATE_LIMITED, an open breaker
};
template <class T>
using NodeResult = crypto::Result<T, NodeError>;

/// The issuer id of docs/protocol.md for each authority: MOHA 1, TU 2, NRB/IRD 3.
std::uint32_t issuer_id_of(AuthorityKind kind) noexcept;
/// True when `record` has the shape of the kind's record numbers (docs/issuers.md).
bool record_shape_ok(AuthorityKind kind, std::string_view record) noexcept;
/// The credential offer link the wallet opens (clients/wallet/src/enroll.mjs, parseOffer):
/// `proofgate-wallet://enroll?issuer=<issuer_url>&record=<record>`, both percent-encoded (every
/// byte but RFC 3986's unreserved characters).
std::string offer_link(std::string_view issuer_url, std::string_view record);

/// Token buckets per key (burst `capacity`, refilled at capacity per `period_ms`). Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double capacity, std::int64_t period_ms, std::size_t max_keys = 65536)
      : capacity_(capacity), period_ms_(period_ms), max_keys_(max_keys) {}
  /// 0 when `key` may go now (one token taken); else the whole seconds until a token is back.
  unsigned take(const std::string& key, std::int64_t now_ms);

 private:
  struct Bucket {
    double tokens;
    std::int64_t updated;
  };
  double capacity_;
  std::int64_t period_ms_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

struct NodeLimits {
  double starts_per_record = 5;  // per 10 minutes
  double completions_per_record = 10;
  std::int64_t record_period_ms = 10 * 60 * 1000;
  double requests_per_address = 30;  // per minute, holder routes
  std::int64_t address_period_ms = 60 * 1000;
  std::size_t max_feed_waiters = 64;  // long polls held at once; beyond, answered at once
};

struct NodeSettings {
  AuthorityKind kind = AuthorityKind::kMoha;
  std::filesystem::path data_dir;  // created 0700; holds pepper, signing.key (and issuer.db)
  std::string public_url;          // issuer_url in credentials
  NodeLimits limits;
};

/// What the node is given rather than builds (tests inject fakes).
struct NodeDeps {
  AuthorityPort* authority = nullptr;
  /// The record → credential conversion (production: credential_attributes).
  std::function<crypto::Result<CredentialAttributes, std::string>(const AuthorityRecord&,
                                                                  std::uint32_t)>
      convert;
  /// The date (yyyymmdd AD) the conversion takes as "today" (production: Nepal's date).
  std::function<std::uint32_t(std::int64_t unix_ms)> today;
  /// Unix ms now.
  std::function<std::int64_t()> now;
  /// "closed" | "open" | "half_open": the authority client's breaker, for stats.
  std::function<std::string()> breaker_state;
  /// The authority client's attempts, retries and fast fails, for stats (empty: zeros).
  std::function<std::array<std::uint64_t, 3>()> adapter_counters;
  /// Opens the store (production: PostgreSQL when the cli is given --database-url); empty: the
  /// SQLite file <data_dir>/issuer.db.
  std::function<std::unique_ptr<IssuerStore>()> open_store;
};

struct IssuedCredential {
  bool created = false;  // false: the credential existed already (the same again)
  boost::json::object credential;
};

struct RevokeAnswer {
  std::uint64_t leaf_index = 0;
  std::string root;
  std::uint64_t root_seq = 0;
};

struct CredentialStatus {
  std::uint64_t leaf_index = 0;
  bool revoked = false;
  std::int64_t issued_at = 0, revoked_at = 0;
};

struct NodeStats {
  std::uint64_t leaf_count = 0, revoked = 0;
  std::string root;
  std::uint64_t root_seq = 0;
  std::uint64_t authority_calls = 0, authority_failures = 0;
  std::uint64_t authority_attempts = 0, authority_retries = 0, authority_fast_fails = 0;
  std::string breaker = "closed";
};

struct FeedAnswer {
  std::vector<feed::FeedEntry> entries;
  std::uint64_t last_seq = 0;  // the feed's last entry (ETag)
};

/// One issuer's node. Thread-safe: writes of the tree are serialised, the authority is called
/// outside any lock.
class IssuerNode {
 public:
  /// Opens the data directory: pepper, signing key, store; rebuilds the tree and checks its root
  /// against the last feed entry. Throws std::runtime_error naming what is wrong (a root that
  /// does not match names both) — the node refuses to start.
  IssuerNode(NodeSettings settings, NodeDeps deps);
  ~IssuerNode();
  IssuerNode(const IssuerNode&) = delete;
  IssuerNode& operator=(const IssuerNode&) = delete;

  std::uint32_t issuer_id() const noexcept { return issuer_id_; }

  NodeResult<CodeSent> start_enrolment(std::string_view record, std::string_view source);
  NodeResult<IssuedCredential> complete_enrolment(std::string_view record, std::string_view code,
                                                  std::string_view holder_commitment,
                                                  std::string_view source);
  /// {"leaf_index", "leaf", "root", "root_seq", "siblings", "path_indices"}.
  NodeResult<boost::json::object> credential_path(std::uint64_t leaf_index);
  /// Entries after `since`; when there are none, waits up to `wait` (at most 30 s) for one.
  FeedAnswer feed_since(std::uint64_t since, std::chrono::milliseconds wait);
  /// Long polls held now (tests wait for one to be parked).
  std::size_t feed_waiters();
  /// Wakes every held long poll (shutdown).
  void stop_waiting();

  /// A credential offer for `record` (its shape checked for the node's kind): the link, with the
  /// node's public URL. Audited as `offer` with the record's peppered subject hash, never the
  /// number itself.
  NodeResult<std::string> offer(std::string_view record, std::string_view actor);
  NodeResult<RevokeAnswer> revoke(std::uint64_t leaf_index, std::string_view reason,
                                  std::string_view actor);
  std::vector<CredentialStatus> list(std::int64_t after, std::size_t limit, std::string_view actor);
  NodeStats stats(std::string_view actor);
  /// One page of the audit trail, newest first: records with id < `before` (INT64_MAX: from the
  /// newest), at most `limit`.
  /// The read is audited first (`read_audit`), so a first page shows it.
  std::vector<AuditRow> audit_page(std::int64_t before, std::size_t limit, std::string_view actor);
  /// A new signing key, announced in the feed by the current one, which stays valid for
  /// `overlap_seconds`.
  NodeResult<KeyRecord> rotate_key(std::int64_t overlap_seconds, std::string_view actor);
  std::vector<KeyRecord> keys();
  /// Records an admin call that changes nothing (a failed authentication, say).
  void audit(std::string_view actor, std::string_view action, std::string_view target,
             std::string_view detail);
  /// A failed admin authentication from `source` (http::throttle_key of the peer): 0 while the
  /// address is within kAdminFailuresPerMinute (the caller audits it), else the seconds until it
  /// may try again (the caller answers 429 and writes nothing: a flood of bad tokens cannot fill
  /// the audit table).
  unsigned admin_auth_failure(std::string_view source);
  static constexpr double kAdminFailuresPerMinute = 10;

  /// The current root and its seq (tests, stats).
  std::pair<std::string, std::uint64_t> current_root();
  IssuerStore& store() noexcept { return *store_; }

 private:
  /// Applies one change to the tree, appends a padding leaf when the root was published before,
  /// signs the entry and commits everything in one transaction. Caller holds tree_mutex_.
  feed::FeedEntry apply_change(std::vector<NewLeaf> appended, std::optional<std::uint64_t> revoked,
                               std::optional<AuditRecord> audit, bool force_padding,
                               const feed::SigningKey* next_key, std::int64_t overlap_ms);
  boost::json::object with_path(const boost::json::object& stored, std::uint64_t leaf_index);
  NodeError authority_error(const AuthorityFailure& failure);
  Mac mac(std::string_view label, std::string_view text) const;
  void reload_tree();
  static std::int64_t core_now_ms();
  void load_signing_key();

  NodeSettings settings_;
  NodeDeps deps_;
  std::uint32_t issuer_id_;
  std::string pepper_;
  std::unique_ptr<IssuerStore> store_;

  std::mutex tree_mutex_;  // guards tree_, last_, signing_key_
  MerkleTree tree_;
  feed::FeedEntry last_;
  std::optional<feed::SigningKey> signing_key_;

  std::mutex feed_mutex_;  // guards last_seq_ for the long polls
  std::condition_variable feed_cv_;
  std::uint64_t last_seq_ = 0;
  std::size_t waiters_ = 0;
  bool stopping_ = false;

  RateLimiter per_address_, starts_per_record_, completions_per_record_;
  RateLimiter admin_failures_{kAdminFailuresPerMinute, 60 * 1000};
  std::atomic<std::uint64_t> authority_calls_{0}, authority_failures_{0};
};

}  // namespace pg::issuer
