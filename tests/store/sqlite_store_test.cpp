// SqliteStore: the shared store, outbox and audit suites on a fresh file per test, plus what only
// SQLite has (embedded migrations and upgrades, pragmas, several connections on one file).
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "account_suite.hpp"
#include "audit_suite.hpp"
#include "lifecycle_suite.hpp"
#include "outbox_suite.hpp"
#include "shared_rules_test.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_lifecycle.hpp"
#include "store_suite.hpp"
#include "sweep_suite.hpp"

namespace pg::store {
namespace {

namespace fs = std::filesystem;
using test::AccountSuite;
using test::AuditSuite;  // INSTANTIATE_TEST_SUITE_P takes the suite's bare name
using test::LifecycleSuite;
using test::OutboxSuite;
using test::StoreSuite;
using test::SweepSuite;

/// A directory of its own under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<unsigned> counter{0};
    std::random_device random;
    path_ = fs::temp_directory_path() /
            ("proofgate-store-test-" + std::to_string(random()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class SqliteBackend final : public test::StoreBackend {
 public:
  explicit SqliteBackend(std::string synchronous) : synchronous_(std::move(synchronous)) {}
  std::unique_ptr<core::Store> open() override {
    return std::make_unique<SqliteStore>(
        SqliteSettings{.path = dir_.path() / "proofgate.db", .synchronous = synchronous_});
  }

 private:
  TempDir dir_;
  std::string synchronous_;
};

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreSuite,
    ::testing::Values(
        test::StoreBackendFactory{"full", [] { return std::make_unique<SqliteBackend>("FULL"); }},
        test::StoreBackendFactory{"normal",
                                  [] { return std::make_unique<SqliteBackend>("NORMAL"); }}),
    test::backend_name);

/// Both ports on one SqliteStore per connection; every open() is a new connection to the file.
class SqliteOutboxBackend final : public test::OutboxBackend {
 public:
  explicit SqliteOutboxBackend(std::string synchronous) : synchronous_(std::move(synchronous)) {}
  test::OutboxConnection open() override {
    auto store = std::make_shared<SqliteStore>(
        SqliteSettings{.path = dir_.path() / "proofgate.db", .synchronous = synchronous_});
    return test::OutboxConnection{store, store};
  }

 private:
  TempDir dir_;
  std::string synchronous_;
};

INSTANTIATE_TEST_SUITE_P(
    Sqlite, OutboxSuite,
    ::testing::Values(
        test::OutboxBackendFactory{"full",
                                   [] { return std::make_unique<SqliteOutboxBackend>("FULL"); }},
        test::OutboxBackendFactory{"normal",
                                   [] { return std::make_unique<SqliteOutboxBackend>("NORMAL"); }}),
    test::outbox_backend_name);

INSTANTIATE_TEST_SUITE_P(Sqlite, SweepSuite,
                         ::testing::Values(test::OutboxBackendFactory{
                             "full", [] { return std::make_unique<SqliteOutboxBackend>("FULL"); }}),
                         test::outbox_backend_name);

/// A raw connection to inspect or tamper with a store's file behind its back; `create` makes the
/// file when it is missing (to build an old schema by hand).
class RawDatabase {
 public:
  explicit RawDatabase(const fs::path& path, bool create = false) {
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
  }
  ~RawDatabase() { sqlite3_close(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  void execute(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (error != nullptr ? error : "?");
    }
    sqlite3_free(error);
  }
  /// The first column of the first row, as text; empty without a row.
  std::string value(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    } else if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

/// The ports on one SqliteStore per open(); user_id (no port writes it yet) through a raw
/// connection to the same file.
class SqliteAuditBackend final : public test::AuditBackend {
 public:
  test::AuditConnection open() override {
    auto store = std::make_shared<SqliteStore>(SqliteSettings{.path = path()});
    return test::AuditConnection{store, store, store};
  }
  void set_proof_user(const std::string& proof_id, const std::string& user_id) override {
    RawDatabase raw(path());
    raw.execute("UPDATE proofs SET user_id = '" + user_id + "' WHERE id = '" + proof_id + "'");
  }
  std::optional<std::string> proof_user(const std::string& proof_id) override {
    RawDatabase raw(path());
    if (raw.value("SELECT user_id IS NULL FROM proofs WHERE id = '" + proof_id + "'") == "1") {
      return std::nullopt;
    }
    return raw.value("SELECT user_id FROM proofs WHERE id = '" + proof_id + "'");
  }

 private:
  fs::path path() const { return dir_.path() / "proofgate.db"; }
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, AuditSuite,
                         ::testing::Values(test::AuditBackendFactory{
                             "file", [] { return std::make_unique<SqliteAuditBackend>(); }}),
                         test::audit_backend_name);

INSTANTIATE_TEST_SUITE_P(Sqlite, AccountSuite,
                         ::testing::Values(test::AccountBackendFactory{
                             "file",
                             [] {
                               auto dir = std::make_shared<TempDir>();
                               return std::function<test::AccountConnection()>([dir] {
                                 auto store = std::make_shared<SqliteStore>(
                                     SqliteSettings{.path = dir->path() / "proofgate.db"});
                                 return test::AccountConnection{store, store};
                               });
                             }}),
                         test::account_backend_name);
INSTANTIATE_TEST_SUITE_P(
    Sqlite, LifecycleSuite,
    ::testing::Values(test::LifecycleBackendFactory{
        "file",
        [] {
          auto dir = std::make_shared<TempDir>();
          return std::function<test::LifecycleConnection()>([dir] {
            auto store =
                std::make_shared<SqliteStore>(SqliteSettings{.path = dir->path() / "proofgate.db"});
            return test::LifecycleConnection{
                std::shared_ptr<void>(
                    std::make_shared<
                        std::pair<std::shared_ptr<TempDir>, std::shared_ptr<SqliteStore>>>(dir,
                                                                                           store)),
                store.get(), store.get(), store.get(),
                std::make_shared<SqliteLifecycleStore>(*store)};
          });
        }}),
    test::lifecycle_backend_name);

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteSettings settings() const { return SqliteSettings{.path = dir_.path() / "proofgate.db"}; }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, embedded_migrations_ascend_from_one) {
  const auto migrations = sqlite_migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations.front().version, 1);
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(migrations[i].version, migrations[i - 1].version) << migrations[i].name;
    }
    EXPECT_FALSE(migrations[i].sql.empty()) << migrations[i].name;
  }
  EXPECT_EQ(SqliteStore::latest_schema_version(), migrations.back().version);
  EXPECT_EQ(migrations.front().name, "0001_init.sql");
}

TEST_F(SqliteStoreTest, migrations_are_applied_once_and_skipped_on_reopen) {
  const int latest = SqliteStore::latest_schema_version();
  {
    SqliteStore store(settings());
    EXPECT_EQ(store.schema_version(), latest);
    store.insert_client(test::sample_client(1));
  }
  std::string first_applied_at;
  {
    RawDatabase raw(settings().path);
    EXPECT_EQ(raw.value("SELECT count(*) FROM schema_migrations"),
              std::to_string(sqlite_migrations().size()));
    first_applied_at = raw.value("SELECT applied_at FROM schema_migrations WHERE version = 1");
  }
  for (int i = 0; i < 2; ++i) {
    SqliteStore store(settings());
    EXPECT_EQ(store.schema_version(), latest);
    EXPECT_EQ(store.list_clients().size(), 1u);
  }
  RawDatabase raw(settings().path);
  EXPECT_EQ(raw.value("SELECT count(*) FROM schema_migrations"),
            std::to_string(sqlite_migrations().size()));
  EXPECT_EQ(raw.value("SELECT applied_at FROM schema_migrations WHERE version = 1"),
            first_applied_at);
}

TEST_F(SqliteStoreTest, entries_from_before_the_chain_are_chained_in_id_order_when_it_opens) {
  {
    SqliteStore store(settings());
    store.record_audit(test::audit_entry("first", test::kNow + 20));
    store.record_audit(test::audit_entry("second", test::kNow + 30));
  }
  {
    // As migration 0007 leaves a populated trail: rows without chain fields, the head at genesis;
    // plus a row written by hand with spaced, unordered details and an earlier time.
    RawDatabase raw(settings().path);
    raw.execute("UPDATE audit_logs SET seq = NULL, prev_hash = NULL, hash = NULL");
    raw.execute(
        "INSERT INTO audit_logs (actor_type, actor_id, action, details, at) VALUES "
        "('system', NULL, 'third', '{ \"b\": 1, \"a\": 2 }', " +
        std::to_string(test::kNow) + ")");
    raw.execute("UPDATE audit_chain SET seq = 0, hash = '" + std::string(core::kAuditGenesisHash) +
                "', at = 0");
  }
  SqliteStore store(settings());
  store.record_audit(test::audit_entry("after", test::kNow + 40));
  const auto entries = store.list_audit(0, test::kNow * 2, 100);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(test::actions(entries),
            (std::vector<std::string>{"first", "second", "third", "after"}));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].seq, static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(entries[2].details_json, R"({"a":2,"b":1})");
  EXPECT_EQ(entries[2].at, test::kNow);  // an old entry keeps its recorded time
  EXPECT_EQ(entries[3].at, test::kNow + 40);
  const core::AuditChainCheck check = test::check_chain(entries, core::kAuditGenesisHash);
  EXPECT_EQ(check.verdict, core::AuditChainCheck::Verdict::kIntact) << check.reason;
}

TEST_F(SqliteStoreTest, refuses_a_database_stamped_with_a_newer_schema_version) {
  { SqliteStore store(settings()); }
  const int future = SqliteStore::latest_schema_version() + 1;
  {
    RawDatabase raw(settings().path);
    raw.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                std::to_string(future) + ", 0)");
  }
  try {
    SqliteStore store(settings());
    FAIL() << "opened a database of schema version " << future;
  } catch (const core::StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("newer than this binary knows"), std::string::npos)
        << error.what();
  }
  // Refusing wrote nothing: the stamp is still the newest row.
  RawDatabase raw(settings().path);
  EXPECT_EQ(raw.value("SELECT max(version) FROM schema_migrations"), std::to_string(future));
}

TEST_F(SqliteStoreTest, opens_in_wal_mode_with_the_chosen_synchronous_and_foreign_keys) {
  SqliteSettings normal = settings();
  normal.synchronous = "normal";  // case does not matter
  SqliteStore store(normal);
  RawDatabase raw(normal.path);
  EXPECT_EQ(raw.value("PRAGMA journal_mode"), "wal");  // WAL is a property of the file
  // Foreign keys are enforced: an outbox event must name an existing proof.
  store.insert_client(test::sample_client(1));
  const core::ProofRecord proof = test::sample_proof("proof-1", "client-1", "nonce-a");
  core::OutboxEvent orphan = test::sample_event("event-1", proof);
  orphan.proof_id = "no-such-proof";
  EXPECT_THROW(store.record_proof(proof, &orphan, nullptr), core::StoreError);
  EXPECT_FALSE(store.find_proof("proof-1").has_value());
}

TEST_F(SqliteStoreTest, refuses_a_synchronous_mode_other_than_full_or_normal) {
  for (const char* mode : {"OFF", "EXTRA", "", "FULL; DROP TABLE proofs"}) {
    SqliteSettings bad = settings();
    bad.synchronous = mode;
    EXPECT_THROW(SqliteStore store(bad), core::StoreError) << mode;
  }
}

TEST_F(SqliteStoreTest, does_not_create_a_missing_parent_directory) {
  SqliteSettings missing = settings();
  missing.path = dir_.path() / "missing" / "proofgate.db";
  EXPECT_THROW(SqliteStore store(missing), core::StoreError);
  EXPECT_FALSE(fs::exists(dir_.path() / "missing"));
}

TEST_F(SqliteStoreTest, refuses_a_file_that_is_not_a_database) {
  std::ofstream(settings().path) << "this is not an SQLite database, but it is long enough to "
                                    "have a header of one hundred bytes, which it lacks as well.";
  try {
    SqliteStore store(settings());
    FAIL() << "opened a text file";
  } catch (const core::StoreError& error) {
    EXPECT_NE(std::string(error.what()).find(settings().path.string()), std::string::npos)
        << "the message names the file: " << error.what();
  }
}

TEST_F(SqliteStoreTest, two_stores_on_one_file_store_exactly_one_proof_per_nonce) {
  // Two stores are two connections, as two processes sharing the file would have.
  SqliteStore first(settings());
  SqliteStore second(settings());
  first.insert_client(test::sample_client(1));
  constexpr int kThreads = 8;
  constexpr int kNonces = 5;
  std::vector<int> stored(kNonces, 0);
  std::atomic<int> failures{0};
  std::barrier start(kThreads);
  std::mutex stored_mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      core::Store& store = t % 2 == 0 ? static_cast<core::Store&>(first) : second;
      start.arrive_and_wait();
      for (int n = 0; n < kNonces; ++n) {
        const core::ProofRecord proof =
            test::sample_proof("proof-" + std::to_string(t) + "-" + std::to_string(n), "client-1",
                               "nonce-" + std::to_string(n));
        try {
          if (store.record_proof(proof, nullptr, nullptr) == core::RecordOutcome::kStored) {
            std::lock_guard lock(stored_mutex);
            ++stored[n];
          }
        } catch (const core::StoreError&) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stored, std::vector<int>(kNonces, 1));
}

// --- upgrades ---

/// Builds a schema-1 database by hand, as a proofgate that knew only 0001_init.sql left it: a
/// partner with a webhook, a proof, and outbox rows (`outbox_rows`: VALUES tuples for event_id,
/// status, attempt, next_attempt_at), then a deleted newest row, so the AUTOINCREMENT counter
/// runs ahead of max(id).
void write_version_1_database(const fs::path& path, const std::string& outbox_rows) {
  RawDatabase raw(path, /*create=*/true);
  raw.execute("PRAGMA foreign_keys = ON");
  raw.execute(std::string(sqlite_migrations().front().sql));
  raw.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 1)");
  raw.execute(R"sql(
    INSERT INTO api_clients (id, name, key_prefix, key_hash, scopes, domains, webhook_url,
                             webhook_secret_sealed, created_at, last_used)
    VALUES ('client-1', 'Partner 1', 'pfx10001', zeroblob(32), '["age_over_18"]',
            '["bank.example"]', 'https://hooks.example/1', X'00FF', 1000, 1500))sql");
  raw.execute(R"sql(
    INSERT INTO proofs (id, verifier_id, claim_type, circuit_version, status, error_code,
                        public_hash, request_nonce, created_at, verified_at)
    VALUES ('proof-1', 'client-1', 'age_over_18', '1.0.0', 'verified', NULL, 'hash', 'nonce-a',
            2000, 2005))sql");
  const std::string rows = outbox_rows + ", ('event-gone', 'pending', 0, 2000)";
  raw.execute(R"sql(
    INSERT INTO webhooks_outbox (event_id, verifier_id, proof_id, event_type, payload, status,
                                 attempt, next_attempt_at, created_at)
    SELECT column1, 'client-1', 'proof-1', 'proof.verified', '{"n":1}', column2, column3,
           column4, 2000
    FROM (VALUES )sql" +
              rows + ")");
  raw.execute("DELETE FROM webhooks_outbox WHERE event_id = 'event-gone'");
}

TEST_F(SqliteStoreTest, migration_2_upgrades_a_populated_version_1_database_keeping_its_rows) {
  write_version_1_database(settings().path,
                           "('event-1', 'pending', 2, 9000), ('event-2', 'pending', 0, 2000)");
  std::string sequence_before;
  {
    RawDatabase raw(settings().path);
    ASSERT_EQ(raw.value("SELECT max(id) FROM webhooks_outbox"), "2");
    sequence_before = raw.value("SELECT seq FROM sqlite_sequence WHERE name = 'webhooks_outbox'");
    ASSERT_EQ(sequence_before, "3");
  }

  SqliteStore store(settings());
  EXPECT_EQ(store.schema_version(), SqliteStore::latest_schema_version());

  const std::optional<core::Client> client = store.find_client_by_prefix("pfx10001");
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(client->id, "client-1");
  EXPECT_EQ(client->webhook_url, "https://hooks.example/1");
  EXPECT_EQ(client->webhook_secret_sealed, std::string("\x00\xff", 2));
  EXPECT_EQ(client->last_used, 1500);
  const std::optional<core::WebhookTarget> target = store.webhook_target("client-1");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->secret_sealed, std::string("\x00\xff", 2));
  EXPECT_EQ(target->previous_secret_sealed, "");
  EXPECT_EQ(target->previous_until, 0);

  const std::optional<core::ProofRecord> proof = store.find_proof("proof-1");
  ASSERT_TRUE(proof.has_value());
  EXPECT_EQ(proof->verified_at, 2005);
  EXPECT_TRUE(store.nonce_answered("client-1", "nonce-a"));

  const std::optional<core::Delivery> first = store.find_delivery("event-1");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->event.client_id, "client-1");
  EXPECT_EQ(first->event.proof_id, "proof-1");
  EXPECT_EQ(first->event.event_type, "proof.verified");
  EXPECT_EQ(first->event.payload, R"({"n":1})");
  EXPECT_EQ(first->event.created_at, 2000);
  EXPECT_EQ(first->status, core::kDeliveryPending);
  EXPECT_EQ(first->attempts, 2);  // 0001's "attempt" column
  EXPECT_EQ(first->next_attempt_at, 9000);
  EXPECT_EQ(first->delivered_at, 0);
  EXPECT_EQ(first->last_error, "");
  EXPECT_EQ(first->lease_owner, "");
  EXPECT_EQ(first->lease_until, 0);
  EXPECT_EQ(store.pending_events(10).size(), 2u);

  // The upgraded rows work as new ones: claimed oldest first, finished, numbered on.
  const std::vector<core::Delivery> claimed = store.claim_due("worker-a", 9000, 10, 30'000, 10);
  ASSERT_EQ(test::event_ids(claimed), (std::vector<std::string>{"event-1", "event-2"}));
  EXPECT_TRUE(store.finish_attempt("worker-a", test::delivered_outcome("event-1", 3, 9001)));
  EXPECT_EQ(store.delivery_attempts("event-1").size(), 1u);

  // AUTOINCREMENT kept its counter: the deleted id 3 is not handed out again.
  store.enqueue_event(test::bare_event("event-3", "client-1"), 9002);
  RawDatabase raw(settings().path);
  EXPECT_EQ(raw.value("SELECT id FROM webhooks_outbox WHERE event_id = 'event-3'"), "4");
  EXPECT_EQ(raw.value("SELECT id FROM webhooks_outbox WHERE event_id = 'event-1'"), "1");
  EXPECT_EQ(raw.value("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.value("PRAGMA foreign_key_check"), "");
  EXPECT_EQ(raw.value("SELECT count(*) FROM sqlite_master WHERE name IN ('webhooks_outbox_due', "
                      "'webhooks_outbox_leases', 'webhook_attempts')"),
            "3");
  EXPECT_EQ(raw.value("SELECT count(*) FROM sqlite_master WHERE name = 'webhooks_outbox_new'"),
            "0");
}

TEST_F(SqliteStoreTest, an_upgrade_that_fails_leaves_the_version_1_database_as_it_was) {
  // 0001 had no CHECK on the outbox status; 0002 refuses one it does not know.
  write_version_1_database(settings().path, "('event-1', 'sent', 1, 2000)");
  try {
    SqliteStore store(settings());
    FAIL() << "upgraded an outbox row of status 'sent'";
  } catch (const core::StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("0002_webhook_delivery.sql"), std::string::npos)
        << error.what();
  }
  RawDatabase raw(settings().path);
  EXPECT_EQ(raw.value("SELECT max(version) FROM schema_migrations"), "1");
  EXPECT_EQ(raw.value("SELECT status || ' ' || attempt FROM webhooks_outbox"), "sent 1");
  EXPECT_EQ(raw.value("SELECT count(*) FROM sqlite_master WHERE name IN ('webhooks_outbox_new', "
                      "'webhook_attempts')"),
            "0");
  EXPECT_EQ(raw.value("SELECT count(*) FROM pragma_table_info('api_clients') "
                      "WHERE name = 'webhook_previous_until'"),
            "0");
}

/// Waits (polling) until `ready` holds; fails the test after a minute.
void wait_until(const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!ready()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the state never came";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

/// Another connection on the store's file holding the database's write lock (BEGIN IMMEDIATE)
/// until release(): the store's next write transaction waits for it in its busy timeout.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const fs::path& path) {
    if (sqlite3_open(path.string().c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open");
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw std::runtime_error("BEGIN IMMEDIATE");
    }
  }
  void release() {
    if (db_ != nullptr) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }
  ~WriteLockHolder() {
    release();
    sqlite3_close(db_);
  }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;

 private:
  sqlite3* db_ = nullptr;
};

TEST_F(SqliteStoreTest,
       writes_that_wait_for_a_commit_share_the_next_transaction_each_with_its_outcome) {
  SqliteSettings s = settings();
  s.busy_timeout_ms = 120'000;  // the held lock below ends when the test says, not by timeout
  SqliteStore store(s);
  store.insert_client(test::sample_client(1));
  const auto before = store.commit_stats();

  auto lock = std::make_unique<WriteLockHolder>(s.path);
  // The first write leads a group and waits for the lock inside its transaction.
  std::thread leader([&] {
    EXPECT_EQ(store.record_proof(test::sample_proof("p0", "client-1", "n0"), nullptr, nullptr),
              core::RecordOutcome::kStored);
  });
  wait_until([&] { return store.commit_stats().running == 1; });

  // Seven more arrive meanwhile, one after another (so their order in the group is known): four
  // new nonces with an outbox event and an idempotency answer, a second proof for nonce n1, a
  // proof of an unknown partner, and a proof whose outbox event reuses p1's event id (its proof
  // row is written before the event fails: the savepoint must undo it).
  struct Outcome {
    std::optional<core::RecordOutcome> recorded;
    std::string error;
  };
  std::vector<Outcome> outcomes(7);
  std::vector<core::ProofRecord> proofs;
  for (int i = 1; i <= 4; ++i) {
    proofs.push_back(
        test::sample_proof("p" + std::to_string(i), "client-1", "n" + std::to_string(i)));
  }
  proofs.push_back(test::sample_proof("p5", "client-1", "n1"));
  proofs.push_back(test::sample_proof("p6", "client-unknown", "n6"));
  proofs.push_back(test::sample_proof("p7", "client-1", "n7"));
  std::vector<core::OutboxEvent> events;
  std::vector<core::IdempotencyRecord> answers;
  for (const auto& p : proofs) {
    events.push_back(test::sample_event("e-" + p.id, p));
    answers.push_back(test::sample_idempotency(p.client_id, "k-" + p.id));
  }
  events[6].event_id = "e-p1";
  std::vector<std::thread> waiting;
  for (std::size_t i = 0; i < proofs.size(); ++i) {
    waiting.emplace_back([&, i] {
      try {
        outcomes[i].recorded = store.record_proof(proofs[i], &events[i], &answers[i]);
      } catch (const core::StoreError& e) {
        outcomes[i].error = e.what();
      }
    });
    wait_until([&] { return store.commit_stats().queued == i + 1; });
  }
  lock->release();
  leader.join();
  for (auto& t : waiting) t.join();

  const auto after = store.commit_stats();
  EXPECT_EQ(after.groups - before.groups, 2u) << "the seven waiting writes share one transaction";
  EXPECT_EQ(after.writes - before.writes, 8u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(outcomes[i].recorded, core::RecordOutcome::kStored) << i << outcomes[i].error;
    ASSERT_TRUE(store.find_proof(proofs[i].id)) << proofs[i].id;
    EXPECT_TRUE(store.find_idempotency("client-1", "k-" + proofs[i].id, test::kNow));
  }
  EXPECT_EQ(outcomes[4].recorded, core::RecordOutcome::kNonceTaken) << "n1 went to p1 just before";
  EXPECT_FALSE(store.find_proof("p5"));
  EXPECT_FALSE(store.find_idempotency("client-1", "k-p5", test::kNow))
      << "a refusal writes nothing";
  EXPECT_FALSE(outcomes[5].recorded);
  EXPECT_NE(outcomes[5].error.find("FOREIGN KEY"), std::string::npos) << outcomes[5].error;
  EXPECT_FALSE(store.find_proof("p6"));
  EXPECT_FALSE(outcomes[6].recorded);
  EXPECT_NE(outcomes[6].error.find("UNIQUE"), std::string::npos) << outcomes[6].error;
  EXPECT_FALSE(store.find_proof("p7")) << "the failed write's proof row was undone";
  EXPECT_FALSE(store.nonce_answered("client-1", "n7"));
  // One outbox row per stored proof (p0 had none): p1..p4.
  EXPECT_EQ(store.pending_events(100).size(), 4u);
  ASSERT_TRUE(store.find_proof("p0"));
}

TEST_F(SqliteStoreTest, a_read_does_not_wait_for_a_write_transaction_in_progress) {
  SqliteSettings s = settings();
  s.busy_timeout_ms = 120'000;
  SqliteStore store(s);
  const core::Client client = test::sample_client(1);
  store.insert_client(client);
  ASSERT_EQ(store.record_proof(test::sample_proof("p0", "client-1", "n0"), nullptr, nullptr),
            core::RecordOutcome::kStored);

  auto lock = std::make_unique<WriteLockHolder>(s.path);
  std::thread writer([&] {
    EXPECT_EQ(store.record_proof(test::sample_proof("p1", "client-1", "n1"), nullptr, nullptr),
              core::RecordOutcome::kStored);
  });
  // The write connection is now busy inside a transaction that cannot finish yet.
  wait_until([&] { return store.commit_stats().running == 1; });
  auto reads = std::async(std::launch::async, [&] {
    return store.ping() && store.find_proof("p0").has_value() && !store.find_proof("p1") &&
           store.find_client_by_prefix(client.key_prefix, test::kNow).has_value() &&
           store.nonce_answered("client-1", "n0") && !store.nonce_answered("client-1", "n1");
  });
  const bool answered = reads.wait_for(std::chrono::minutes(1)) == std::future_status::ready;
  EXPECT_TRUE(answered) << "a read waited behind the write transaction";
  lock->release();
  writer.join();
  if (answered) {
    EXPECT_TRUE(reads.get());
  }
  EXPECT_TRUE(store.find_proof("p1")) << "the read connections see the write once committed";
}

TEST_F(SqliteStoreTest, concurrent_writes_on_one_store_store_exactly_one_proof_per_nonce) {
  SqliteStore store(settings());
  store.insert_client(test::sample_client(1));
  constexpr int kThreads = 8;
  constexpr int kNonces = 40;
  std::vector<std::atomic<int>> stored(kNonces);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int n = 0; n < kNonces; ++n) {
        // Each nonce is wanted by two threads.
        const int nonce = (n + (t / 2) * 7) % kNonces;
        const auto proof = test::sample_proof("p-" + std::to_string(t) + "-" + std::to_string(n),
                                              "client-1", "nonce-" + std::to_string(nonce));
        if (store.record_proof(proof, nullptr, nullptr) == core::RecordOutcome::kStored) {
          ++stored[nonce];
        }
        EXPECT_TRUE(store.nonce_answered("client-1", "nonce-" + std::to_string(nonce)));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int n = 0; n < kNonces; ++n) EXPECT_EQ(stored[n].load(), 1) << "nonce-" << n;
  EXPECT_EQ(store.commit_stats().writes, static_cast<std::uint64_t>(kThreads * kNonces));
}

TEST_F(SqliteStoreTest, refuses_a_commit_group_bound_of_zero) {
  SqliteSettings s = settings();
  s.max_commit_group = 0;
  try {
    SqliteStore store(s);
    FAIL() << "opened";
  } catch (const core::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("max_commit_group"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteStoreTest, a_write_outside_the_group_waits_for_the_running_group) {
  // The group and the other writes share the write connection: a group in progress holds it.
  SqliteSettings s = settings();
  s.busy_timeout_ms = 120'000;
  SqliteStore store(s);
  store.insert_client(test::sample_client(1));
  auto lock = std::make_unique<WriteLockHolder>(s.path);
  std::thread leader([&] {
    EXPECT_EQ(store.record_proof(test::sample_proof("p0", "client-1", "n0"), nullptr, nullptr),
              core::RecordOutcome::kStored);
  });
  wait_until([&] { return store.commit_stats().running == 1; });
  auto other = std::async(std::launch::async, [&] { store.insert_client(test::sample_client(2)); });
  // Not done while the group holds the connection (a slow machine only makes this weaker).
  EXPECT_EQ(other.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  lock->release();
  leader.join();
  EXPECT_NO_THROW(other.get());
  EXPECT_TRUE(store.find_client("client-2"));
  EXPECT_TRUE(store.find_proof("p0"));
}

TEST_F(SqliteStoreTest,
       without_read_connections_reads_and_grouped_writes_share_the_write_connection) {
  SqliteSettings s = settings();
  s.read_connections = 0;
  SqliteStore store(s);
  const core::Client client = test::sample_client(1);
  store.insert_client(client);
  constexpr int kThreads = 6;
  std::barrier start(kThreads);
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int n = 0; n < 20; ++n) {
        const std::string id = "p-" + std::to_string(t) + "-" + std::to_string(n);
        // Two threads want each nonce.
        const std::string nonce = "n-" + std::to_string(t / 2) + "-" + std::to_string(n);
        if (store.record_proof(test::sample_proof(id, "client-1", nonce), nullptr, nullptr) ==
            core::RecordOutcome::kStored) {
          ++stored;
        }
        EXPECT_TRUE(store.nonce_answered("client-1", nonce));
        EXPECT_TRUE(store.find_client_by_prefix(client.key_prefix, test::kNow));
        EXPECT_TRUE(store.ping());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stored.load(), kThreads / 2 * 20);
}

/// A VFS over the default one whose WAL fsyncs fail while `fail_wal_sync` is set: a commit that
/// cannot be made durable, as a full or failing disk gives it.
class FailingSyncVfs {
 public:
  FailingSyncVfs() {
    real_ = sqlite3_vfs_find(nullptr);
    vfs_ = *real_;
    vfs_.zName = "proofgate-failing-sync";
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
    vfs_.xOpen = &open;
    vfs_.pAppData = this;
    if (sqlite3_vfs_register(&vfs_, /*makeDflt=*/1) != SQLITE_OK) throw std::runtime_error("vfs");
  }
  ~FailingSyncVfs() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(real_, 1);
  }
  FailingSyncVfs(const FailingSyncVfs&) = delete;
  FailingSyncVfs& operator=(const FailingSyncVfs&) = delete;

  std::atomic<bool> fail_wal_sync{false};
  std::atomic<int> failed_syncs{0};

 private:
  struct File {
    sqlite3_file base;
    sqlite3_file* real;
    FailingSyncVfs* owner;
    bool wal;
  };
  static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out) {
    auto* self = static_cast<FailingSyncVfs*>(vfs->pAppData);
    auto* f = reinterpret_cast<File*>(file);
    f->real = reinterpret_cast<sqlite3_file*>(f + 1);
    f->owner = self;
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = nullptr;
    const int rc = self->real_->xOpen(self->real_, name, f->real, flags, out);
    if (rc == SQLITE_OK && f->real->pMethods != nullptr) {
      self->methods_ = *f->real->pMethods;  // the same for every file of the default VFS
      self->methods_.xClose = [](sqlite3_file* x) { return real(x)->pMethods->xClose(real(x)); };
      self->methods_.xRead = [](sqlite3_file* x, void* b, int n, sqlite3_int64 o) {
        return real(x)->pMethods->xRead(real(x), b, n, o);
      };
      self->methods_.xWrite = [](sqlite3_file* x, const void* b, int n, sqlite3_int64 o) {
        return real(x)->pMethods->xWrite(real(x), b, n, o);
      };
      self->methods_.xTruncate = [](sqlite3_file* x, sqlite3_int64 n) {
        return real(x)->pMethods->xTruncate(real(x), n);
      };
      self->methods_.xSync = [](sqlite3_file* x, int flags) {
        auto* f = reinterpret_cast<File*>(x);
        if (f->wal && f->owner->fail_wal_sync.load()) {
          ++f->owner->failed_syncs;
          return SQLITE_IOERR_FSYNC;
        }
        return real(x)->pMethods->xSync(real(x), flags);
      };
      self->methods_.xFileSize = [](sqlite3_file* x, sqlite3_int64* n) {
        return real(x)->pMethods->xFileSize(real(x), n);
      };
      self->methods_.xLock = [](sqlite3_file* x, int l) {
        return real(x)->pMethods->xLock(real(x), l);
      };
      self->methods_.xUnlock = [](sqlite3_file* x, int l) {
        return real(x)->pMethods->xUnlock(real(x), l);
      };
      self->methods_.xCheckReservedLock = [](sqlite3_file* x, int* r) {
        return real(x)->pMethods->xCheckReservedLock(real(x), r);
      };
      self->methods_.xFileControl = [](sqlite3_file* x, int op, void* a) {
        return real(x)->pMethods->xFileControl(real(x), op, a);
      };
      self->methods_.xSectorSize = [](sqlite3_file* x) {
        return real(x)->pMethods->xSectorSize(real(x));
      };
      self->methods_.xDeviceCharacteristics = [](sqlite3_file* x) {
        return real(x)->pMethods->xDeviceCharacteristics(real(x));
      };
      self->methods_.xShmMap = [](sqlite3_file* x, int r, int s, int e, void volatile** p) {
        return real(x)->pMethods->xShmMap(real(x), r, s, e, p);
      };
      self->methods_.xShmLock = [](sqlite3_file* x, int o, int n, int f) {
        return real(x)->pMethods->xShmLock(real(x), o, n, f);
      };
      self->methods_.xShmBarrier = [](sqlite3_file* x) { real(x)->pMethods->xShmBarrier(real(x)); };
      self->methods_.xShmUnmap = [](sqlite3_file* x, int d) {
        return real(x)->pMethods->xShmUnmap(real(x), d);
      };
      self->methods_.xFetch = [](sqlite3_file* x, sqlite3_int64 o, int n, void** p) {
        return real(x)->pMethods->xFetch(real(x), o, n, p);
      };
      self->methods_.xUnfetch = [](sqlite3_file* x, sqlite3_int64 o, void* p) {
        return real(x)->pMethods->xUnfetch(real(x), o, p);
      };
      f->base.pMethods = &self->methods_;
    }
    return rc;
  }

  sqlite3_vfs* real_;
  sqlite3_vfs vfs_{};
  sqlite3_io_methods methods_{};
};

TEST_F(SqliteStoreTest, a_commit_that_cannot_be_made_durable_fails_every_write_of_its_group) {
  FailingSyncVfs vfs;
  SqliteSettings s = settings();
  s.busy_timeout_ms = 120'000;
  SqliteStore store(s);
  store.insert_client(test::sample_client(1));

  // The first write leads and waits for the lock; three join the next group meanwhile. Both
  // groups' commits then meet a failing fsync.
  auto lock = std::make_unique<WriteLockHolder>(s.path);
  std::vector<std::string> errors(4);
  const auto write = [&](int i) {
    const auto proof =
        test::sample_proof("p" + std::to_string(i), "client-1", "n" + std::to_string(i));
    const auto answer = test::sample_idempotency("client-1", "k" + std::to_string(i));
    try {
      store.record_proof(proof, nullptr, &answer);
    } catch (const core::StoreError& e) {
      errors[i] = e.what();
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(write, 0);
  wait_until([&] { return store.commit_stats().running == 1; });
  for (int i = 1; i <= 3; ++i) {
    threads.emplace_back(write, i);
    wait_until([&] { return store.commit_stats().queued == static_cast<std::size_t>(i); });
  }
  vfs.fail_wal_sync = true;
  lock->release();
  for (auto& t : threads) t.join();
  vfs.fail_wal_sync = false;

  EXPECT_GE(vfs.failed_syncs.load(), 2);
  for (int i = 0; i <= 3; ++i) {
    EXPECT_NE(errors[i], "") << "write " << i << " was answered as durable";
    EXPECT_FALSE(store.find_proof("p" + std::to_string(i))) << i;
    EXPECT_FALSE(store.nonce_answered("client-1", "n" + std::to_string(i)));
    EXPECT_FALSE(store.find_idempotency("client-1", "k" + std::to_string(i), test::kNow));
  }
  const auto stats = store.commit_stats();
  EXPECT_EQ(stats.failed_groups, 2u) << "the lone leader's group and the group of three";
  // The store goes on: the same writes succeed once the disk does.
  for (int i = 0; i <= 3; ++i) {
    EXPECT_EQ(store.record_proof(
                  test::sample_proof("p" + std::to_string(i), "client-1", "n" + std::to_string(i)),
                  nullptr, nullptr),
              core::RecordOutcome::kStored);
    EXPECT_TRUE(store.find_proof("p" + std::to_string(i)));
  }
}

}  // namespace
}  // namespace pg::store
