// The embedded default of core's Store, OutboxStore, AuditStore and AdminStore ports: one SQLite
// file in WAL mode, migrated at open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/accounts.hpp"
#include "core/audit.hpp"
#include "core/citizens.hpp"
#include "core/model.hpp"
#include "core/oauth.hpp"
#include "core/outbox.hpp"
#include "core/ports.hpp"
#include "core/sweep.hpp"
#include "core/usage.hpp"
#include "store/audit_batches.hpp"
#include "store/commit_group.hpp"
#include "store/side_writes.hpp"

struct sqlite3;

namespace pg::store {

struct SqliteSettings {
  std::filesystem::path path;        // the database file; its directory must exist
  std::string synchronous = "FULL";  // FULL (fsync at every commit) or NORMAL (WAL: at checkpoints)
  int busy_timeout_ms = 5000;        // how long a write waits for another process's lock
  // Connections that answer the verify path's reads (and ping) beside the write connection, so
  // a read never waits for a commit's fsync; 0: every read on the write connection.
  std::size_t read_connections = 4;
  // At most this many writes share one transaction (group commit, see SqliteStore); at least 1.
  std::size_t max_commit_group = 128;
};

/// core::Store, core::OutboxStore and core::AuditStore on one SQLite write connection guarded by a
/// mutex (SQLite has one writer anyway), and read connections for the verify path's reads. Each
/// write is one BEGIN IMMEDIATE transaction, except the verify path's own writes (record_proof,
/// save_idempotency, insert_request, touch_client): those go through group commit, so the writes
/// that arrive while one transaction commits share the next one and its single fsync, each in its
/// own savepoint (a refusal or failure undoes that write alone), and each call returns only once
/// its transaction is durable. Statements are prepared once at open. Other processes may open
/// the same file: the write lock and busy_timeout_ms keep them consistent (two workers claiming
/// on two connections never claim one row twice).
class SqliteStore final : public core::Store,
                          public core::OutboxStore,
                          public core::AuditStore,
                          public core::AdminStore,
                          public core::AccountStore,
                          public core::UsageStore,
                          public core::OAuthStore,
                          public core::CitizenStore,
                          public core::SweepStore {
 public:
  /// Opens (or creates) the database at settings.path, sets WAL, synchronous, foreign keys and the
  /// busy timeout, then applies the embedded migrations the file lacks, each in its own
  /// transaction. Throws core::StoreError when the file cannot be opened, `synchronous` is neither
  /// FULL nor NORMAL, or the file's schema is newer than this binary knows.
  explicit SqliteStore(const SqliteSettings& settings);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// The newest schema version this binary knows (the last embedded migration).
  static int latest_schema_version() noexcept;
  /// The newest migration recorded in the database's schema_migrations.
  int schema_version();

  bool ping() noexcept override;

  /// Group commit's figures: transactions run, writes in them, writes waiting.
  CommitGroup::Stats commit_stats() const;

  void insert_client(const core::Client& client) override;
  using core::Store::find_client_by_prefix;
  std::optional<core::Client> find_client_by_prefix(std::string_view key_prefix,
                                                    core::UnixMillis now) override;
  std::vector<core::Client> list_clients() override;
  void touch_client(std::string_view client_id, std::string_view key_prefix,
                    core::UnixMillis now) override;
  std::optional<core::Client> find_client(std::string_view client_id) override;
  std::vector<core::Client> list_clients_after(core::UnixMillis after_created_at,
                                               std::string_view after_id,
                                               std::size_t limit) override;
  std::vector<core::ClientKey> client_keys(std::string_view client_id) override;

  void insert_request(const core::ProofRequest& request) override;
  std::optional<core::ProofRequest> find_request(std::string_view client_id,
                                                 std::string_view nonce) override;

  core::RecordOutcome record_proof(const core::ProofRecord& proof, const core::OutboxEvent* event,
                                   const core::IdempotencyRecord* idempotency) override;
  std::optional<core::ProofRecord> find_proof(std::string_view proof_id) override;
  bool nonce_answered(std::string_view client_id, std::string_view nonce) override;

  std::optional<core::IdempotencyRecord> find_idempotency(std::string_view client_id,
                                                          std::string_view key,
                                                          core::UnixMillis now) override;
  void save_idempotency(const core::IdempotencyRecord& record) override;

  using core::AdminStore::publish_root;  // the operator's forms (issuer_id, root, now[, audit])
  using core::Store::publish_root;
  core::PublishOutcome publish_root(const core::IssuerRoot& root, core::UnixMillis now) override;
  core::PublishOutcome publish_feed_root(const core::IssuerRoot& root,
                                         const std::vector<core::FeedKey>& keys,
                                         core::UnixMillis now) override;
  using core::Store::feed_keys;
  using core::Store::find_root;
  using core::Store::latest_feed_root;
  using core::Store::recent_roots;
  std::vector<core::FeedKey> feed_keys(std::uint32_t issuer_id, bool sandbox) override;
  std::optional<core::IssuerRoot> find_root(std::uint32_t issuer_id, std::string_view root,
                                            bool sandbox) override;
  std::optional<core::IssuerRoot> latest_feed_root(std::uint32_t issuer_id, bool sandbox) override;
  std::vector<core::IssuerRoot> recent_roots(std::uint32_t issuer_id, core::UnixMillis since,
                                             bool sandbox) override;

  void set_circuit_enabled(std::string_view claim_type, std::string_view version, bool enabled,
                           core::UnixMillis now) override;
  std::optional<bool> circuit_enabled(std::string_view claim_type,
                                      std::string_view version) override;

  std::vector<core::OutboxEvent> pending_events(std::size_t limit) override;

  // --- core::OutboxStore ---

  std::optional<core::WebhookTarget> webhook_target(std::string_view client_id) override;
  /// Throws core::StoreError for an unknown partner. Without a current secret before, there is no
  /// previous one after (previous_until stays 0).
  void rotate_webhook_secret(std::string_view client_id, std::string_view new_secret_sealed,
                             core::UnixMillis previous_until, std::string_view url) override;

  /// The row is due at `now`; its created_at is the event's. Throws core::StoreError when the
  /// event id is taken or the partner (or a non-empty proof id) is unknown.
  void enqueue_event(const core::OutboxEvent& event, core::UnixMillis now) override;
  /// A lease is live while lease_until > now. per_client_limit counts a partner's live leases plus
  /// the rows this call claims for it, so 0 claims nothing.
  std::vector<core::Delivery> claim_due(std::string_view worker, core::UnixMillis now,
                                        std::size_t limit, std::int64_t lease_ms,
                                        std::size_t per_client_limit) override;
  /// delivered wins over dead; delivered_at = started_at + latency_ms. The attempt's number must
  /// be the row's attempts + 1 (else core::StoreError, nothing written): the worker numbers it
  /// from the Delivery it claimed.
  bool finish_attempt(std::string_view worker, const core::AttemptOutcome& outcome) override;
  /// The earliest time a pending row becomes claimable: its next_attempt_at, or the end of its
  /// lease when that is later (so a worker does not wake up for rows another worker holds).
  std::optional<core::UnixMillis> next_due() override;
  std::vector<core::Delivery> list_deliveries(std::string_view client_id, std::string_view status,
                                              std::size_t limit) override;
  std::optional<core::Delivery> find_delivery(std::string_view event_id) override;
  std::vector<core::DeliveryAttempt> delivery_attempts(std::string_view event_id) override;
  /// Also clears delivered_at; keeps last_error and the attempts.
  bool replay(std::string_view event_id, core::UnixMillis now) override;
  /// pending, delivered, dead in that order, each present (0 when none).
  std::vector<std::pair<std::string, std::int64_t>> count_by_status() override;

  // --- core::AuditStore ---

  void record_audit(const core::AuditEntry& entry) override;
  std::vector<core::AuditEntry> latest_audit(std::size_t limit) override;
  std::vector<core::AuditEntry> list_audit(core::UnixMillis from, core::UnixMillis to,
                                           std::size_t limit) override;
  /// Each batch runs under BEGIN IMMEDIATE: `archive` holds the database's write lock, so other
  /// writers (the server, on another connection) wait for it up to their busy timeout.
  std::size_t take_audit_before(
      core::UnixMillis cutoff, std::size_t batch,
      const std::function<void(const std::vector<core::AuditEntry>&)>& archive) override;
  std::size_t anonymise_user(std::string_view user_id) override;

  // --- core::AdminStore ---

  using core::AdminStore::create_client;
  std::optional<std::string> create_client(const core::Client& client,
                                           const core::Client* test_twin,
                                           const core::AuditEntry& audit) override;
  core::RevokeOutcome revoke_key(std::string_view client_id, core::UnixMillis now,
                                 const core::AuditEntry& audit) override;
  std::optional<std::string> update_client(const core::Client& client,
                                           const core::AuditEntry& audit) override;
  core::ClientChange set_client_suspended(std::string_view client_id, core::UnixMillis suspended_at,
                                          const core::AuditEntry& audit) override;
  core::ClientChange rotate_key(std::string_view client_id, const core::ClientKey& key,
                                core::UnixMillis old_expires_at,
                                const core::AuditEntry& audit) override;
  core::PublishOutcome publish_root(const core::IssuerRoot& root, core::UnixMillis now,
                                    const core::AuditEntry& audit) override;
  void set_circuit_enabled(std::string_view claim_type, std::string_view version, bool enabled,
                           core::UnixMillis now, const core::AuditEntry& audit) override;
  bool rotate_webhook_secret(std::string_view client_id, std::string_view new_secret_sealed,
                             core::UnixMillis previous_until, std::string_view url,
                             const core::AuditEntry& audit) override;
  bool replay(std::string_view event_id, core::UnixMillis now,
              const core::AuditEntry& audit) override;
  void enqueue_event(const core::OutboxEvent& event, core::UnixMillis now,
                     const core::AuditEntry& audit) override;
  std::size_t anonymise_user(std::string_view user_id,
                             const std::function<core::AuditEntry(std::size_t)>& audit) override;
  std::size_t archive_audit_before(
      core::UnixMillis cutoff, std::size_t batch,
      const std::function<core::AuditEntry(const std::vector<core::AuditEntry>&)>& archive)
      override;

  // --- core::AccountStore (sqlite_accounts.cpp) ---

  bool create_admin(const core::AdminAccount& account, const core::AuditEntry& audit) override;
  std::optional<core::AdminAccount> find_admin(std::string_view id) override;
  std::optional<core::AdminAccount> find_admin_by_email(std::string_view email) override;
  std::optional<core::AdminAccount> find_admin_by_enrolment(std::string_view sha256_hex) override;
  std::vector<core::AdminAccount> list_admins() override;
  bool update_admin(const core::AdminAccount& account, const core::AuditEntry& audit,
                    const core::AdminSession* new_session) override;
  std::optional<core::AdminSession> find_session(std::string_view token_sha256) override;
  std::optional<core::AdminAccount> count_sign_in_attempt(
      std::string_view id, core::UnixMillis now, const core::SignInLockRule& rule) override;
  void touch_session(std::string_view token_sha256, core::UnixMillis last_seen_at) override;
  bool delete_session(std::string_view token_sha256, const core::AuditEntry& audit) override;
  /// For an adapter of another port on this connection (sqlite_lifecycle.cpp): runs
  /// `work(db, side)` under the lock, inside one BEGIN IMMEDIATE transaction when `write` (kept
  /// when `work` returns true, rolled back when it returns false or throws).
  bool with_connection(std::string_view operation, bool write,
                       const std::function<bool(sqlite3*, const SideWrites&)>& work);

  // --- core::UsageStore ---
  core::UsageData usage(const core::UsageQuery& query) override;

  // --- core::OAuthStore (sqlite_oauth.cpp) ---
  std::optional<std::array<std::uint8_t, 32>> client_secret_hash(
      std::string_view client_id) override;
  bool set_client_secret(std::string_view client_id,
                         const std::array<std::uint8_t, 32>& secret_hash, core::UnixMillis now,
                         const core::AuditEntry& audit) override;
  std::vector<core::TokenKey> token_keys() override;
  bool add_token_key(const core::TokenKey& key, bool only_if_none,
                     const core::AuditEntry* audit) override;

  // --- core::CitizenStore (sqlite_citizens.cpp) ---
  std::optional<core::Citizen> find_citizen(std::string_view id) override;
  std::optional<core::Citizen> find_citizen_by_phone(std::string_view phone_mac) override;
  core::Citizen find_or_create_citizen(const core::Citizen& fresh) override;
  bool set_citizen_language(std::string_view id, std::string_view language) override;
  std::optional<core::SignInCode> sign_in_code(std::string_view phone_mac) override;
  void save_sign_in_code(const core::SignInCode& code) override;
  bool issue_sign_in_code(std::string_view phone_mac, std::string_view code_mac,
                          core::UnixMillis expires_at, core::UnixMillis now,
                          core::UnixMillis forget_before) override;
  void insert_account_link(const core::AccountLink& link, core::UnixMillis now) override;
  std::optional<std::string> take_account_link(std::string_view hash, std::string_view nonce,
                                               core::UnixMillis now) override;
  bool spend_sign_in_code(std::string_view phone_mac, std::string_view code_mac) override;
  CodeAttempt take_code_attempt(std::string_view phone_mac, core::UnixMillis now,
                                int max_attempts) override;
  void insert_refresh_token(const core::RefreshToken& token) override;
  core::RefreshOutcome rotate_refresh_token(std::string_view hash, core::UnixMillis now,
                                            core::RefreshToken& next) override;
  std::vector<core::LinkedProof> citizen_proofs(std::string_view user_id,
                                                std::size_t limit) override;
  bool delete_citizen(std::string_view user_id, core::UnixMillis now,
                      const std::function<std::vector<core::OutboxEvent>(
                          const std::vector<core::AffectedPartner>&)>& events,
                      const core::AuditEntry& audit) override;

  // --- core::SweepStore ---
  core::SweepCounts sweep_batch(core::UnixMillis now, const core::SweepWindows& windows,
                                std::size_t limit, bool dry_run) override;

 private:
  /// `work(db)` under the lock; with `audit`, inside one transaction that also writes the entry
  /// when `work` returns true (false: rolled back). Returns what `work` returned.
  bool on_connection(std::string_view operation, const core::AuditEntry* audit,
                     const std::function<bool(sqlite3*)>& work);

  /// take_audit_before and archive_audit_before: `archive` may give an entry to write with the
  /// batch's deletion.
  std::size_t take_audit(core::UnixMillis cutoff, std::size_t batch, const AuditArchive& archive);

  struct Connection;  // the sqlite3 handle and the prepared statements (sqlite_store.cpp)
  class ReadPool;     // the read connections (sqlite_store.cpp)
  class ReadLease;    // one read's connection: pooled, or the write connection under mutex_

  ReadLease read_connection();
  /// One group of CommitGroup, in one transaction on the write connection.
  void run_group(std::span<CommitGroup::Write* const> group);
  /// Runs `apply` (on the write connection, inside a transaction) through group commit.
  bool grouped(std::function<bool()> apply);

  std::mutex mutex_;  // guards connection_: one statement at a time on the write connection
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<ReadPool> readers_;  // null: reads on connection_
  std::unique_ptr<CommitGroup> group_;
};

}  // namespace pg::store
