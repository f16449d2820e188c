// The issuer node's store on PostgreSQL (docs/issuers.md, "What the issuer node stores"): the same
// tables and guarantees as the SQLite store, in the issuer's own schema, with a session advisory
// lock that lets one node at a time serve an issuer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "issuer/issuer_store.hpp"

namespace pg::store::postgres {
class Connection;
}  // namespace pg::store::postgres

namespace pg::issuer {

/// Tests only: faults the next feed write (commit(), append_genesis()) meets, each taken once.
/// Shared so that a test can arm it on a running store.
struct CommitFaults {
  /// The connection is lost before COMMIT is sent: the server rolls the transaction back.
  std::atomic<bool> drop_before_commit{false};
  /// The connection is lost while COMMIT is on its way, before the server performs it. Simulated:
  /// the store rolls back, closes the connection and goes on as when libpq reports the
  /// connection lost during COMMIT.
  std::atomic<bool> lose_commit{false};
  /// COMMIT's answer is lost. Simulated: the store commits, then closes the connection and goes
  /// on exactly as when libpq reports the connection lost while it waited for that answer.
  std::atomic<bool> lose_commit_answer{false};
  /// Called after one of the faults above closed the connection, before the store reconnects
  /// (e.g. for another node to write meanwhile).
  std::function<void()> while_disconnected;
};

struct PostgresIssuerSettings {
  std::string url;              // postgresql://...; never put into a message
  std::string issuer;           // "moha" | "tu" | "nrb": the schema is issuer_<issuer>
  std::uint32_t issuer_id = 0;  // docs/protocol.md's id: the advisory lock's key
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{30000};  // reading a million leaves at start
  /// After a failed reconnect, calls fail at once until this delay has passed; it doubles after
  /// each failed attempt up to reconnect_delay_max and is back to the minimum after a success.
  std::chrono::milliseconds reconnect_delay_min{100};
  std::chrono::milliseconds reconnect_delay_max{5000};
  std::shared_ptr<CommitFaults> faults;  // tests only; null in production
};

/// The advisory lock class of the issuer node lock ('pgis'); the second key is the issuer id.
inline constexpr std::int32_t kIssuerNodeLockClass = 0x70676973;

/// One connection behind a mutex; it holds the issuer's session advisory lock for as long as the
/// store lives. When the server closes that connection (a restart, a failover), the next call
/// reconnects, takes the lock again and checks that the feed did not move meanwhile; otherwise
/// every call throws until the node is restarted. A feed write whose COMMIT answer is lost is
/// resolved by reading the feed's head after reconnecting (docs/issuers.md, "PostgreSQL"). While
/// reconnecting fails, calls fail fast between attempts spaced 100 ms doubling to 5 s.
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
  std::vector<AuditRow> audit_page(std::int64_t before, std::size_t limit) override;
  std::vector<KeyRecord> keys() override;
  void insert_key(const KeyRecord& key) override;

  /// How many times this store has tried to open a connection (the first one included).
  std::uint64_t connect_attempts() const noexcept { return connect_attempts_.load(); }

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
  /// A feed's last entry: seq and root, and the entry's signature, which tells this node's entry
  /// from another one with the same seq and root (empty feed: all empty).
  struct FeedHead {
    std::uint64_t seq = 0;
    std::string root;
    std::string signature;
    bool operator==(const FeedHead&) const = default;
  };
  static FeedHead last_of(store::postgres::Connection& c, std::string_view operation);
  static FeedHead head_of(const feed::FeedEntry& entry);
  std::string describe(const FeedHead& head) const;

  /// One connection attempt: the backoff's bookkeeping (and its log lines, once per change of
  /// state) around open_session(). Caller holds mutex_.
  std::unique_ptr<Session> reconnect(std::string_view operation);
  /// The feed write `write` (it returns false to write nothing) in one transaction that leaves
  /// `target` as the feed's head; the faults of settings_.faults. Caller holds mutex_.
  template <typename Write>
  bool write_feed(std::string_view operation, const FeedHead& target, Write&& write);
  /// After COMMIT's answer was lost: reconnect and read the head. Returns when it is `target`
  /// (the write landed); throws a retryable error when it is still known_ (it did not), and
  /// otherwise leaves the store failing until a restart. Caller holds mutex_.
  void resolve_lost_commit(std::string_view operation, const FeedHead& target);
  [[noreturn]] void fail_until_restart(std::string_view operation, std::string message);

  FeedHead known_;  // the feed's head as this store last saw or wrote it
  /// A write whose COMMIT answer was lost and which could not be resolved (the database was
  /// unreachable): the next reconnect decides.
  std::optional<FeedHead> unresolved_;
  std::string fatal_;          // non-empty: every call throws it (the node must restart)
  std::int64_t last_pid_ = 0;  // the server process of the last session this store held
  std::atomic<std::uint64_t> connect_attempts_{0};
  bool unreachable_ = false;  // the last connection attempt failed
  std::chrono::milliseconds delay_{0};
  std::chrono::steady_clock::time_point next_attempt_{};
  std::string last_error_;
};

}  // namespace pg::issuer
