// The embedded default of core's Store port: one SQLite file in WAL mode, migrated at open.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/ports.hpp"

namespace pg::store {

struct SqliteSettings {
  std::filesystem::path path;        // the database file; its directory must exist
  std::string synchronous = "FULL";  // FULL (fsync at every commit) or NORMAL (WAL: at checkpoints)
  int busy_timeout_ms = 5000;        // how long a write waits for another process's lock
};

/// core::Store on one SQLite connection guarded by a mutex (SQLite has one writer anyway). Each
/// write is one BEGIN IMMEDIATE transaction; statements are prepared once at open. Other processes
/// may open the same file: the write lock and busy_timeout_ms keep them consistent.
class SqliteStore final : public core::Store {
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

  void insert_client(const core::Client& client) override;
  std::optional<core::Client> find_client_by_prefix(std::string_view key_prefix) override;
  std::vector<core::Client> list_clients() override;
  void touch_client(std::string_view client_id, core::UnixMillis now) override;

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

  void publish_root(std::uint32_t issuer_id, std::string_view root, core::UnixMillis now) override;
  std::vector<core::IssuerRoot> recent_roots(std::uint32_t issuer_id,
                                             core::UnixMillis since) override;

  void set_circuit_enabled(std::string_view claim_type, std::string_view version, bool enabled,
                           core::UnixMillis now) override;
  std::optional<bool> circuit_enabled(std::string_view claim_type,
                                      std::string_view version) override;

  std::vector<core::OutboxEvent> pending_events(std::size_t limit) override;

 private:
  struct Connection;  // the sqlite3 handle and the prepared statements (sqlite_store.cpp)

  std::mutex mutex_;  // guards connection_: one statement at a time on the one connection
  std::unique_ptr<Connection> connection_;
};

}  // namespace pg::store
