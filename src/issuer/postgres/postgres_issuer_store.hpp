// The issuer node's store on PostgreSQL (docs/issuers.md, "What the issuer node stores"): the same
// tables and guarantees as the SQLite store, in the issuer's own schema, with a session advisory
// lock that lets one node at a time serve an issuer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "issuer/issuer_store.hpp"

namespace pg::store::postgres {
class Connection;
}  // namespace pg::store::postgres

namespace pg::issuer {

struct PostgresIssuerSettings {
  std::string url;              // postgresql://...; never put into a message
  std::string issuer;           // "moha" | "tu" | "nrb": the schema is issuer_<issuer>
  std::uint32_t issuer_id = 0;  // docs/protocol.md's id: the advisory lock's key
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{30000};  // reading a million leaves at start
};

/// The advisory lock class of the issuer node lock ('pgis'); the second key is the issuer id.
inline constexpr std::int32_t kIssuerNodeLockClass = 0x70676973;

/// One connection behind a mutex; it holds the issuer's session advisory lock for as long as the
/// store lives. When the server closes that connection (a restart, a failover), the next call
/// reconnects, takes the lock again and checks that the feed did not move meanwhile; otherwise
/// every call throws until the node is restarted.
class PostgresIssuerStore final : public IssuerStore {
 public:
  /// Connects, takes the issuer's lock (pg_try_advisory_lock: never waits), creates the schema
  /// and applies the migrations it lacks. Throws core::StoreError naming the issuer when another
  /// node holds the lock, or when the server cannot be reached or refuses.
  explicit PostgresIssuerStore(PostgresIssuerSettings settings);
  ~PostgresIssuerStore() override;

  std::vector<std::string> leaf_values() override;
  std::optional<StoredLeaf> leaf(std::uint64_t index) override;
  std::optional<StoredLeaf> find_credential(const Mac& subject,
                                            std::string_view holder_commitment) override;
  std::vector<StoredLeaf> list_credentials(std::int64_t after, std::size_t limit) override;
  std::pair<std::uint64_t, std::uint64_t> credential_counts() override;
  std::optional<feed::FeedEntry> last_entry() override;
  std::vector<feed::FeedEntry> entries_since(std::uint64_t since, std::size_t limit) override;
  bool root_published(std::string_view root) override;
  bool append_genesis(const feed::FeedEntry& entry) override;
  void commit(const TreeChange& change) override;
  void record_audit(const AuditRecord& record) override;
  std::vector<AuditRecord> audit_trail(std::size_t limit) override;
  std::vector<KeyRecord> keys() override;
  void insert_key(const KeyRecord& key) override;

 private:
  struct Session;
  /// The connection, reopened (lock, schema, feed check) when the server closed it. Caller holds
  /// mutex_.
  Session& session(std::string_view operation);
  /// A new connection holding the lock, in the schema, migrated. `previous_pid`: the server
  /// process of this store's own lost session, which may still hold the lock (a client-side
  /// loss the server has not noticed yet): that one session is ended and the lock taken again.
  std::unique_ptr<Session> open_session(std::int64_t previous_pid = 0);

  const PostgresIssuerSettings settings_;
  const std::string schema_;
  std::mutex mutex_;
  std::unique_ptr<Session> session_;
  /// The feed's last entry as this store last saw or wrote it.
  struct FeedHead {
    std::uint64_t seq = 0;
    std::string root;
    bool operator==(const FeedHead&) const = default;
  };
  FeedHead known_;
  static FeedHead last_of(store::postgres::Connection& c, std::string_view operation);
};

}  // namespace pg::issuer
