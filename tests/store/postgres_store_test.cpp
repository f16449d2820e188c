// PostgresStore: the shared store, outbox and audit suites on a fresh database per test, plus what
// only PostgreSQL has (migrations under a lock, monthly partitions, the analytics view and its
// partner role, several instances at once, the pool). The server is a real PostgreSQL 15 that this
// binary starts once with scripts/pg-test-server.sh and stops at the end; when it cannot start,
// every test fails (none is skipped).
#include "store/postgres/postgres_store.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "account_suite.hpp"
#include "audit_suite.hpp"
#include "lifecycle_suite.hpp"
#include "outbox_suite.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/postgres_lifecycle.hpp"
#include "store_suite.hpp"
#include "support/postgres_server.hpp"
#include "sweep_suite.hpp"

namespace pg::store {
namespace {

using test::AccountSuite;
using test::AuditSuite;  // INSTANTIATE_TEST_SUITE_P takes the suite's bare name
using test::kNow;
using test::LifecycleSuite;
using test::OutboxSuite;
using test::StoreSuite;
using test::SweepSuite;
using namespace std::chrono_literals;

// --- The server ---

using ::pg::test::PostgresServer;
using ::pg::test::Sql;

[[maybe_unused]] ::testing::Environment* const kServer =
    ::testing::AddGlobalTestEnvironment(new PostgresServer);

// --- SQL for the tests themselves ---

/// A schema of its own in the server's database, created empty and dropped with everything in it
/// at the end; the URL puts it first on the search_path, so the store migrates into it. (Schemas,
/// not databases: DROP DATABASE forces a checkpoint, a second each with fsync on.)
class Database {
 public:
  Database() {
    if (PostgresServer::url().empty()) {
      throw std::runtime_error(
          "no PostgreSQL server: it did not start (see the environment's failure)");
    }
    static std::atomic<int> counter{0};
    name_ = "test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    Sql(PostgresServer::url()).rows("CREATE SCHEMA " + name_);
  }
  ~Database() {
    try {
      Sql(PostgresServer::url()).rows("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (const std::exception& error) {
      ADD_FAILURE() << error.what();
    }
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// postgresql://...:PORT/proofgate?options=-c search_path=<schema>
  std::string url() const { return PostgresServer::url() + "?options=-c%20search_path%3D" + name_; }

 private:
  std::string name_;
};

PostgresSettings settings_for(const Database& database, std::size_t pool_size = 8) {
  PostgresSettings settings;
  settings.url = database.url();
  settings.pool_size = pool_size;
  return settings;
}

// --- The shared suites ---

class PostgresBackend final : public test::StoreBackend {
 public:
  explicit PostgresBackend(std::size_t pool_size) : pool_size_(pool_size) {}
  std::unique_ptr<core::Store> open() override {
    return std::make_unique<PostgresStore>(settings_for(database_, pool_size_));
  }

 private:
  Database database_;
  std::size_t pool_size_;
};

INSTANTIATE_TEST_SUITE_P(
    Postgres, StoreSuite,
    ::testing::Values(
        test::StoreBackendFactory{"pool8", [] { return std::make_unique<PostgresBackend>(8); }},
        // One connection: the eight threads of the concurrency test queue for it.
        test::StoreBackendFactory{"pool1", [] { return std::make_unique<PostgresBackend>(1); }}),
    test::backend_name);

/// Both ports on one PostgresStore (one pool) per open(); every open() is another instance.
class PostgresOutboxBackend final : public test::OutboxBackend {
 public:
  test::OutboxConnection open() override {
    auto store = std::make_shared<PostgresStore>(settings_for(database_));
    return test::OutboxConnection{store, store};
  }

 private:
  Database database_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, OutboxSuite,
                         ::testing::Values(test::OutboxBackendFactory{
                             "pool8", [] { return std::make_unique<PostgresOutboxBackend>(); }}),
                         test::outbox_backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, SweepSuite,
                         ::testing::Values(test::OutboxBackendFactory{
                             "pool8", [] { return std::make_unique<PostgresOutboxBackend>(); }}),
                         test::outbox_backend_name);

/// The ports on one PostgresStore per open(); user_id (no port writes it yet) through the tests'
/// own connection.
class PostgresAuditBackend final : public test::AuditBackend {
 public:
  test::AuditConnection open() override {
    auto store = std::make_shared<PostgresStore>(settings_for(database_));
    return test::AuditConnection{store, store, store};
  }
  void set_proof_user(const std::string& proof_id, const std::string& user_id) override {
    Sql(database_.url())
        .rows("UPDATE proofs SET user_id = '" + user_id + "' WHERE id = '" + proof_id + "'");
  }
  std::optional<std::string> proof_user(const std::string& proof_id) override {
    const std::string query =
        "SELECT user_id IS NULL, coalesce(user_id, '') FROM proofs WHERE id = '" + proof_id + "'";
    const auto rows = Sql(database_.url()).rows(query);
    if (rows.empty() || rows[0][0] == "t") return std::nullopt;
    return rows[0][1];
  }

 private:
  Database database_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, AuditSuite,
                         ::testing::Values(test::AuditBackendFactory{
                             "pool8", [] { return std::make_unique<PostgresAuditBackend>(); }}),
                         test::audit_backend_name);

INSTANTIATE_TEST_SUITE_P(Postgres, AccountSuite,
                         ::testing::Values(test::AccountBackendFactory{
                             "pool8",
                             [] {
                               auto database = std::make_shared<Database>();
                               return std::function<test::AccountConnection()>([database] {
                                 auto store =
                                     std::make_shared<PostgresStore>(settings_for(*database));
                                 return test::AccountConnection{store, store};
                               });
                             }}),
                         test::account_backend_name);
INSTANTIATE_TEST_SUITE_P(
    Postgres, LifecycleSuite,
    ::testing::Values(test::LifecycleBackendFactory{
        "pool8",
        [] {
          auto database = std::make_shared<Database>();
          return std::function<test::LifecycleConnection()>([database] {
            auto store = std::make_shared<PostgresStore>(settings_for(*database));
            return test::LifecycleConnection{
                std::shared_ptr<void>(
                    std::make_shared<
                        std::pair<std::shared_ptr<Database>, std::shared_ptr<PostgresStore>>>(
                        database, store)),
                store.get(), store.get(), store.get(),
                std::make_shared<PostgresLifecycleStore>(*store)};
          });
        }}),
    test::lifecycle_backend_name);

// --- What only PostgreSQL has ---

class PostgresStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<PostgresStore> open(std::size_t pool_size = 8) {
    return std::make_unique<PostgresStore>(settings_for(database_, pool_size));
  }
  Sql sql() { return Sql(database_.url()); }

  Database database_;
};

std::int64_t unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Migrations.

TEST_F(PostgresStoreTest, migrations_are_recorded_once_and_reopening_applies_nothing) {
  const int latest = PostgresStore::latest_schema_version();
  ASSERT_GE(latest, 2);
  {
    auto store = open();
    EXPECT_EQ(store->schema_version(), latest);
  }
  const auto first =
      sql().rows("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1");
  ASSERT_EQ(first.size(), postgres_migrations().size());
  ASSERT_EQ(first.size(), static_cast<std::size_t>(latest));  // 1..latest, no gap
  EXPECT_EQ(first[0][1], "0001_init.sql");
  EXPECT_EQ(first[1][1], "0002_analytics.sql");

  auto again = open();
  EXPECT_EQ(again->schema_version(), latest);
  EXPECT_EQ(sql().rows("SELECT version, name, applied_at FROM schema_migrations ORDER BY 1"),
            first);
}

TEST_F(PostgresStoreTest, entries_from_before_the_chain_are_chained_in_id_order_when_it_opens) {
  {
    auto store = open();
    store->record_audit(test::audit_entry("first", test::kNow + 20));
  }
  // As migration 0006 leaves a populated trail: rows without chain fields (details only as
  // jsonb), the head at genesis.
  sql().rows(
      "UPDATE audit_logs SET seq = NULL, prev_hash = NULL, hash = NULL, "
      "details_canonical = NULL");
  sql().rows(
      "INSERT INTO audit_logs (actor_type, action, details, at) VALUES "
      "('system', 'second', '{\"b\": 1, \"a\": [2, {\"d\": 1, \"c\": 0}]}', " +
      std::to_string(test::kNow) + ")");
  sql().rows("UPDATE audit_chain SET seq = 0, hash = '" + std::string(core::kAuditGenesisHash) +
             "', at = 0");
  auto store = open();
  store->record_audit(test::audit_entry("after", test::kNow + 40));
  const auto entries = store->list_audit(0, test::kNow * 2, 100);
  EXPECT_EQ(test::actions(entries), (std::vector<std::string>{"first", "second", "after"}));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].seq, 2);
  EXPECT_EQ(entries[1].at, test::kNow);  // an old entry keeps its recorded time
  EXPECT_EQ(entries[1].details_json, R"({"a":[2,{"c":0,"d":1}],"b":1})");
  const core::AuditChainCheck check = test::check_chain(entries, core::kAuditGenesisHash);
  EXPECT_EQ(check.verdict, core::AuditChainCheck::Verdict::kIntact) << check.reason;
}

TEST_F(PostgresStoreTest, stores_opening_at_once_migrate_the_database_exactly_once) {
  constexpr int kStores = 4;
  std::vector<std::unique_ptr<PostgresStore>> stores(kStores);
  std::vector<std::string> errors(kStores);
  std::barrier start(kStores);
  std::vector<std::thread> threads;
  for (int t = 0; t < kStores; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        stores[t] = open(2);
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kStores; ++t) {
    EXPECT_EQ(errors[t], "") << "store " << t;
    ASSERT_NE(stores[t], nullptr);
    EXPECT_EQ(stores[t]->schema_version(), PostgresStore::latest_schema_version());
  }
  EXPECT_EQ(sql().value("SELECT count(*) FROM schema_migrations"),
            std::to_string(postgres_migrations().size()));
  // Every instance works on the one schema.
  stores[0]->insert_client(test::sample_client(1));
  EXPECT_TRUE(stores[3]->find_client_by_prefix(test::sample_client(1).key_prefix).has_value());
}

TEST_F(PostgresStoreTest,
       without_migrate_an_unmigrated_database_is_refused_and_a_migrated_one_opens) {
  PostgresSettings settings = settings_for(database_);
  settings.migrate = false;
  EXPECT_THROW(PostgresStore{settings}, core::StoreError);
  EXPECT_EQ(sql().value("SELECT to_regclass('api_clients') IS NULL"), "t");  // nothing created

  open();  // migrates
  PostgresStore store(settings);
  EXPECT_EQ(store.schema_version(), PostgresStore::latest_schema_version());
}

TEST_F(PostgresStoreTest, a_database_migrated_by_a_newer_release_still_opens) {
  open();
  const int newer = PostgresStore::latest_schema_version() + 1;
  sql().rows("INSERT INTO schema_migrations (version, name) VALUES (" + std::to_string(newer) +
             ", '9999_from_the_future.sql')");
  auto store = open();  // an older instance during a rolling deploy
  EXPECT_EQ(store->schema_version(), newer);
  EXPECT_TRUE(store->ping());
}

TEST_F(PostgresStoreTest, the_schema_has_the_constraints_and_indexes_the_blueprint_asks_for) {
  open();
  Sql db = sql();
  const auto index = [&](const std::string& name) {
    return db.value(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND "
        "indexname = '" +
        name + "'");
  };
  EXPECT_NE(index("proofs_by_verifier_created").find("(verifier_id, created_at)"),
            std::string::npos);
  EXPECT_NE(index("audit_logs_details").find("USING gin (details)"), std::string::npos);
  EXPECT_NE(index("proof_counts_daily_key").find("UNIQUE"), std::string::npos);
  EXPECT_NE(index("proof_requests_verifier_id_nonce_key").find("UNIQUE"), std::string::npos);
  EXPECT_NE(index("proof_nonces_pkey").find("(verifier_id, request_nonce)"), std::string::npos);
  EXPECT_EQ(db.value("SELECT relkind FROM pg_class WHERE oid = 'proofs'::regclass"),
            "p");  // partitioned
  EXPECT_EQ(db.value("SELECT relkind FROM pg_class WHERE oid = 'proof_counts_daily'::regclass"),
            "m");
  EXPECT_EQ(db.value("SELECT count(*) FROM pg_roles WHERE rolname = 'proofgate_partner'"), "1");
}

// Partitions.

/// The name of the partition of the month `months` from now (UTC), computed by the server.
std::string partition_name(Sql& db, int months) {
  return db.value(
      "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval("
      "months => " +
      std::to_string(months) + "), '\"proofs_y\"YYYY\"m\"MM')");
}

TEST_F(PostgresStoreTest, partitions_exist_for_last_month_this_month_and_the_months_ahead) {
  auto store = open();
  Sql db = sql();
  for (int months = -1; months <= PostgresStore::kPartitionMonthsAhead; ++months) {
    const std::string name = partition_name(db, months);
    EXPECT_EQ(db.value("SELECT count(*) FROM pg_inherits WHERE inhparent = 'proofs'::regclass "
                       "AND inhrelid = to_regclass('" +
                       name + "')"),
              "1")
        << name;
  }
  const std::string partitions =
      "SELECT count(*) FROM pg_inherits WHERE inhparent = 'proofs'::regclass";
  const std::string before = db.value(partitions);
  EXPECT_EQ(before, std::to_string(PostgresStore::kPartitionMonthsAhead + 3));  // + the default
  EXPECT_EQ(store->ensure_partitions(), 0);                                     // idempotent
  EXPECT_EQ(db.value(partitions), before);
  EXPECT_EQ(store->ensure_partitions(PostgresStore::kPartitionMonthsAhead + 2), 2);
}

TEST_F(PostgresStoreTest, a_proof_lands_in_the_partition_of_its_month) {
  auto store = open();
  store->insert_client(test::sample_client(1));
  core::ProofRecord proof = test::sample_proof("proof-now", "client-1", "nonce-now");
  proof.created_at = unix_millis_now();
  proof.verified_at = proof.created_at;
  ASSERT_EQ(store->record_proof(proof, nullptr, nullptr), core::RecordOutcome::kStored);
  Sql db = sql();
  EXPECT_EQ(db.value("SELECT tableoid::regclass::text FROM proofs WHERE id = 'proof-now'"),
            partition_name(db, 0));
  test::expect_same_proof(*store->find_proof("proof-now"), proof);
}

TEST_F(PostgresStoreTest,
       a_proof_of_a_month_without_a_partition_waits_in_the_default_and_moves_in_later) {
  auto store = open();
  store->insert_client(test::sample_client(1));
  core::ProofRecord proof = test::sample_proof("proof-later", "client-1", "nonce-later");
  proof.created_at = unix_millis_now() + 2LL * 366 * 86'400'000;  // two years ahead
  const core::OutboxEvent event = test::sample_event("event-later", proof);
  ASSERT_EQ(store->record_proof(proof, &event, nullptr), core::RecordOutcome::kStored);
  Sql db = sql();
  EXPECT_EQ(db.value("SELECT tableoid::regclass::text FROM proofs WHERE id = 'proof-later'"),
            "proofs_default");

  const std::string at = "to_timestamp(" + std::to_string(proof.created_at) + " / 1000.0)";
  EXPECT_EQ(db.value("SELECT ensure_proof_partitions(0, " + at + ")"),
            "2");  // last month, its month
  const std::string month =
      db.value("SELECT to_char(" + at + " AT TIME ZONE 'UTC', '\"proofs_y\"YYYY\"m\"MM')");
  EXPECT_EQ(db.value("SELECT tableoid::regclass::text FROM proofs WHERE id = 'proof-later'"),
            month);
  EXPECT_EQ(db.value("SELECT count(*) FROM proofs_default"), "0");
  // Everything that refers to it still does.
  test::expect_same_proof(*store->find_proof("proof-later"), proof);
  EXPECT_TRUE(store->nonce_answered("client-1", "nonce-later"));
  EXPECT_EQ(store->record_proof(test::sample_proof("proof-again", "client-1", "nonce-later"),
                                nullptr, nullptr),
            core::RecordOutcome::kNonceTaken);
  EXPECT_EQ(store->pending_events(10).size(), 1u);
}

// Analytics and the partner role.

/// Proofs of two partners on kNow's day: client-1 two verified and one failed, client-2 one
/// verified.
void record_sample_proofs(PostgresStore& store) {
  store.insert_client(test::sample_client(1));
  store.insert_client(test::sample_client(2));
  int n = 0;
  for (const auto& [client, status] :
       std::vector<std::pair<std::string, std::string>>{{"client-1", "verified"},
                                                        {"client-1", "verified"},
                                                        {"client-1", "failed"},
                                                        {"client-2", "verified"}}) {
    ++n;
    core::ProofRecord proof =
        test::sample_proof("proof-" + std::to_string(n), client, "nonce-" + std::to_string(n));
    proof.status = status;
    ASSERT_EQ(store.record_proof(proof, nullptr, nullptr), core::RecordOutcome::kStored);
  }
}

TEST_F(PostgresStoreTest,
       proof_counts_daily_counts_by_day_partner_claim_and_status_once_refreshed) {
  auto store = open();
  record_sample_proofs(*store);
  Sql db = sql();
  const std::string query =
      "SELECT day, verifier_id, claim_type, status, count FROM proof_counts_daily ORDER BY 2, 4";
  EXPECT_TRUE(db.rows(query).empty());  // not refreshed yet

  store->refresh_proof_counts();
  const std::string day = "2026-09-21";  // kNow, UTC
  using Rows = std::vector<std::vector<std::string>>;
  EXPECT_EQ(db.rows(query), (Rows{{day, "client-1", "income_gte", "failed", "1"},
                                  {day, "client-1", "income_gte", "verified", "2"},
                                  {day, "client-2", "income_gte", "verified", "1"}}));
  store->refresh_proof_counts();  // again: CONCURRENTLY needs the unique index, and has it
  EXPECT_EQ(db.rows(query).size(), 3u);
}

TEST_F(PostgresStoreTest, the_partner_role_sees_only_the_rows_of_the_verifier_its_session_names) {
  auto store = open();
  record_sample_proofs(*store);
  store->refresh_proof_counts();

  Sql partner = sql();
  partner.rows("SET ROLE proofgate_partner");
  const std::string query =
      "SELECT verifier_id, status, count FROM partner_proof_counts ORDER BY 1, 2";
  using Rows = std::vector<std::vector<std::string>>;
  EXPECT_TRUE(partner.rows(query).empty());  // no app.verifier_id: nothing

  partner.rows("SET app.verifier_id = 'client-1'");
  EXPECT_EQ(partner.rows(query),
            (Rows{{"client-1", "failed", "1"}, {"client-1", "verified", "2"}}));
  partner.rows("SET app.verifier_id = 'client-2'");
  EXPECT_EQ(partner.rows(query), (Rows{{"client-2", "verified", "1"}}));
  // A predicate of its own cannot reach past the view's filter.
  EXPECT_TRUE(
      partner.rows("SELECT * FROM partner_proof_counts WHERE verifier_id = 'client-1'").empty());
  partner.rows("SET app.verifier_id = 'no-such-client'");
  EXPECT_TRUE(partner.rows(query).empty());

  // Nothing else is readable by the role.
  EXPECT_EQ(partner.error_state("SELECT * FROM proof_counts_daily"), "42501");
  EXPECT_EQ(partner.error_state("SELECT * FROM proofs"), "42501");
  EXPECT_EQ(partner.error_state("SELECT * FROM api_clients"), "42501");
  EXPECT_EQ(partner.error_state("SELECT ensure_proof_partitions(1)"), "42501");
}

// Several instances at once.

TEST_F(PostgresStoreTest, eight_stores_recording_one_nonce_at_once_store_exactly_one) {
  constexpr int kStores = 8;
  std::vector<std::unique_ptr<PostgresStore>> stores;
  for (int t = 0; t < kStores; ++t) stores.push_back(open(1));
  stores[0]->insert_client(test::sample_client(1));

  std::vector<std::optional<core::RecordOutcome>> outcomes(kStores);
  std::vector<std::string> errors(kStores);
  std::barrier start(kStores);
  std::vector<std::thread> threads;
  for (int t = 0; t < kStores; ++t) {
    threads.emplace_back([&, t] {
      const std::string n = std::to_string(t);
      const core::ProofRecord proof = test::sample_proof("proof-" + n, "client-1", "nonce-a");
      const core::OutboxEvent event = test::sample_event("event-" + n, proof);
      const core::IdempotencyRecord idempotency = test::sample_idempotency("client-1", "idem-" + n);
      start.arrive_and_wait();
      try {
        outcomes[t] = stores[t]->record_proof(proof, &event, &idempotency);
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  int stored = 0;
  for (int t = 0; t < kStores; ++t) {
    ASSERT_TRUE(outcomes[t].has_value()) << "store " << t << ": " << errors[t];
    if (*outcomes[t] == core::RecordOutcome::kStored) ++stored;
  }
  EXPECT_EQ(stored, 1);
  Sql db = sql();
  EXPECT_EQ(db.value("SELECT count(*) FROM proofs"), "1");
  EXPECT_EQ(db.value("SELECT count(*) FROM proof_nonces"), "1");
  EXPECT_EQ(db.value("SELECT count(*) FROM webhooks_outbox"), "1");
  EXPECT_EQ(db.value("SELECT count(*) FROM idempotency_keys"), "1");
}

/// Runs `work(store, worker)` on one thread per store, all released at once; the errors.
template <typename Work>
std::vector<std::string> on_every_store(std::vector<std::unique_ptr<PostgresStore>>& stores,
                                        Work work) {
  std::vector<std::string> errors(stores.size());
  std::barrier start(static_cast<std::ptrdiff_t>(stores.size()));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < stores.size(); ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        work(*stores[t], "worker-" + std::to_string(t), t);
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return errors;
}

TEST_F(PostgresStoreTest,
       four_stores_claiming_at_once_keep_the_per_partner_cap_and_never_share_a_row) {
  constexpr int kPartners = 6;
  constexpr int kRowsEach = 20;
  constexpr std::size_t kCap = 4;
  std::vector<std::unique_ptr<PostgresStore>> stores;
  for (int t = 0; t < 4; ++t) stores.push_back(open(2));
  for (int p = 1; p <= kPartners; ++p) stores[0]->insert_client(test::sample_client(p));
  for (int i = 0; i < kPartners * kRowsEach; ++i) {
    stores[0]->enqueue_event(test::bare_event("event-" + std::to_string(i),
                                              "client-" + std::to_string(1 + i % kPartners)),
                             kNow);
  }

  // Claim without finishing until nothing more comes: every partner ends at its cap exactly.
  std::vector<std::vector<core::Delivery>> held(stores.size());
  auto errors =
      on_every_store(stores, [&](PostgresStore& store, const std::string& worker, std::size_t t) {
        for (int empty = 0; empty < 3;) {
          const auto batch = store.claim_due(worker, kNow, 3, 3'600'000, kCap);
          if (batch.empty()) {
            ++empty;  // a partner another store was claiming for is skipped, not waited for
            std::this_thread::sleep_for(2ms);
            continue;
          }
          empty = 0;
          held[t].insert(held[t].end(), batch.begin(), batch.end());
        }
      });
  std::map<std::string, std::size_t> per_partner;
  std::set<std::string> seen;
  for (std::size_t t = 0; t < stores.size(); ++t) {
    EXPECT_EQ(errors[t], "") << "store " << t;
    for (const core::Delivery& row : held[t]) {
      ++per_partner[row.event.client_id];
      EXPECT_TRUE(seen.insert(row.event.event_id).second) << row.event.event_id << " twice";
    }
  }
  for (int p = 1; p <= kPartners; ++p) {
    EXPECT_EQ(per_partner["client-" + std::to_string(p)], kCap) << "client-" << p;
  }

  // Claim and finish until every row is delivered: each exactly once, by its lease holder.
  std::vector<std::size_t> finished(stores.size());
  errors = on_every_store(stores, [&](PostgresStore& store, const std::string& worker,
                                      std::size_t t) {
    for (const core::Delivery& row : held[t]) {
      if (!store.finish_attempt(worker, test::delivered_outcome(row.event.event_id, 1, kNow))) {
        throw std::runtime_error("lost the lease of " + row.event.event_id);
      }
      ++finished[t];
    }
    for (int empty = 0; empty < 3;) {
      const auto batch = store.claim_due(worker, kNow, 3, 3'600'000, 2);
      if (batch.empty()) {
        ++empty;
        std::this_thread::sleep_for(2ms);
        continue;
      }
      empty = 0;
      for (const core::Delivery& row : batch) {
        if (!store.finish_attempt(worker, test::delivered_outcome(row.event.event_id, 1, kNow))) {
          throw std::runtime_error("lost the lease of " + row.event.event_id);
        }
        ++finished[t];
      }
    }
  });
  std::size_t total = 0;
  for (std::size_t t = 0; t < stores.size(); ++t) {
    EXPECT_EQ(errors[t], "") << "store " << t;
    total += finished[t];
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kPartners * kRowsEach));
  Sql db = sql();
  EXPECT_EQ(db.value("SELECT count(*) FROM webhooks_outbox WHERE status = 'delivered' AND "
                     "attempts = 1"),
            std::to_string(kPartners * kRowsEach));
  EXPECT_EQ(db.value("SELECT count(*) FROM webhook_attempts"),
            std::to_string(kPartners * kRowsEach));
}

TEST_F(PostgresStoreTest, stores_publishing_roots_at_once_leave_one_current_root) {
  std::vector<std::unique_ptr<PostgresStore>> stores;
  for (int t = 0; t < 4; ++t) stores.push_back(open(1));
  const auto errors =
      on_every_store(stores, [](PostgresStore& store, const std::string&, std::size_t t) {
        for (int i = 0; i < 10; ++i) {
          store.publish_root(7, std::to_string(1000 * (t + 1) + i), kNow + i);
        }
      });
  for (const std::string& error : errors) EXPECT_EQ(error, "");
  EXPECT_EQ(
      sql().value("SELECT count(*) FROM issuer_roots WHERE issuer_id = 7 AND superseded_at = 0"),
      "1");
  EXPECT_EQ(sql().value("SELECT count(*) FROM issuer_roots WHERE issuer_id = 7"), "40");
}

// Errors, timeouts and the pool.

TEST_F(PostgresStoreTest, an_error_names_the_operation_and_the_sqlstate_but_no_row_values) {
  auto store = open();
  store->insert_client(test::sample_client(1));
  core::Client twin = test::sample_client(2);
  twin.key_prefix = test::sample_client(1).key_prefix;
  try {
    store->insert_client(twin);
    FAIL() << "a second client with the same key prefix was inserted";
  } catch (const core::StoreError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("insert_client"), std::string::npos) << what;
    EXPECT_NE(what.find("SQLSTATE 23505"), std::string::npos) << what;
    EXPECT_EQ(what.find(twin.key_prefix), std::string::npos) << what;  // the DETAIL stays out
  }
}

TEST_F(PostgresStoreTest, a_connection_failure_never_shows_the_password_of_the_url) {
  PostgresSettings settings;
  settings.url = "postgresql://proofgate:s3cret-pa55word@127.0.0.1:1/proofgate";
  settings.connect_timeout = 2000ms;
  try {
    PostgresStore store(settings);
    FAIL() << "connected to port 1";
  } catch (const core::StoreError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("connect"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret-pa55word"), std::string::npos) << what;
  }
}

TEST_F(PostgresStoreTest, a_connection_the_server_closed_is_replaced_on_the_next_acquire) {
  auto store = open(2);
  store->insert_client(test::sample_client(1));
  Sql db = sql();
  const std::string stores_connections =
      " FROM pg_stat_activity WHERE datname = current_database() AND application_name = "
      "'proofgate'";
  ASSERT_NE(db.value("SELECT count(*)" + stores_connections), "0");
  db.rows("SELECT pg_terminate_backend(pid)" + stores_connections);
  for (int i = 0; i < 500 && db.value("SELECT count(*)" + stores_connections) != "0"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  // The pooled connection died while idle: the next call runs on a fresh one.
  EXPECT_EQ(store->list_clients().size(), 1u);
  EXPECT_TRUE(store->ping());
  EXPECT_TRUE(store->find_client_by_prefix(test::sample_client(1).key_prefix).has_value());
}

/// Holds the nonce `nonce` of client-1 in an open transaction of its own, so that record_proof
/// for it waits; released (rolled back) when it goes.
class NonceBlocker {
 public:
  NonceBlocker(const std::string& url, const std::string& nonce) : sql_(url) {
    sql_.rows("BEGIN");
    sql_.rows(
        "INSERT INTO proof_nonces (verifier_id, request_nonce, proof_id, created_at) "
        "VALUES ('client-1', '" +
        nonce + "', 'blocker', 0)");
  }
  ~NonceBlocker() { sql_.rows("ROLLBACK"); }

 private:
  Sql sql_;
};

/// Waits until a backend of the database waits on a lock.
void wait_for_a_lock_wait(Sql& db) {
  for (int i = 0; i < 500; ++i) {
    if (db.value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                 "wait_event_type = 'Lock'") != "0") {
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
  FAIL() << "no backend waited on a lock";
}

TEST_F(PostgresStoreTest, acquire_waits_for_a_free_connection_and_gives_up_after_acquire_timeout) {
  PostgresSettings settings = settings_for(database_, 1);
  settings.acquire_timeout = 300ms;
  settings.statement_timeout = 20'000ms;
  PostgresStore store(settings);
  store.insert_client(test::sample_client(1));

  std::optional<NonceBlocker> blocker(std::in_place, database_.url(), "nonce-a");
  std::optional<core::RecordOutcome> outcome;
  std::thread writer([&] {
    outcome =
        store.record_proof(test::sample_proof("proof-1", "client-1", "nonce-a"), nullptr, nullptr);
  });
  Sql db = sql();
  wait_for_a_lock_wait(db);  // the writer holds the pool's only connection, waiting on the key

  const auto started = std::chrono::steady_clock::now();
  try {
    store.nonce_answered("client-1", "nonce-b");
    ADD_FAILURE() << "got a connection from an exhausted pool";
  } catch (const core::StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("no database connection came free"), std::string::npos)
        << error.what();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
  EXPECT_FALSE(store.ping());

  blocker.reset();  // the writer goes on and gives the connection back
  writer.join();
  EXPECT_EQ(outcome, std::optional(core::RecordOutcome::kStored));
  EXPECT_TRUE(store.nonce_answered("client-1", "nonce-a"));
}

TEST_F(PostgresStoreTest, a_statement_running_past_statement_timeout_fails_with_sqlstate_57014) {
  PostgresSettings settings = settings_for(database_, 1);
  settings.statement_timeout = 200ms;
  PostgresStore store(settings);
  store.insert_client(test::sample_client(1));
  const core::ProofRecord proof = test::sample_proof("proof-1", "client-1", "nonce-a");
  {
    NonceBlocker blocker(database_.url(), "nonce-a");
    try {
      store.record_proof(proof, nullptr, nullptr);
      ADD_FAILURE() << "record_proof went through a held key";
    } catch (const core::StoreError& error) {
      const std::string what = error.what();
      EXPECT_NE(what.find("record_proof"), std::string::npos) << what;
      EXPECT_NE(what.find("SQLSTATE 57014"), std::string::npos) << what;
    }
  }
  // The failed transaction was rolled back and the connection is reused.
  EXPECT_FALSE(store.nonce_answered("client-1", "nonce-a"));
  EXPECT_EQ(store.record_proof(proof, nullptr, nullptr), core::RecordOutcome::kStored);
}

// The sweeps: proof_nonces exists only here.

TEST_F(PostgresStoreTest, the_sweep_removes_a_nonce_past_its_window_once_nothing_needs_it) {
  auto store = open();
  store->insert_client(test::sample_client(1));
  store->insert_request(test::sample_request("client-1", "nonce-old"));  // expires kNow + 300 s
  ASSERT_EQ(store->record_proof(test::sample_proof("proof-old", "client-1", "nonce-old"), nullptr,
                                nullptr),
            core::RecordOutcome::kStored);
  const core::SweepWindows w;
  // Inside the status-lookup window: kept, and the proof's status still answers.
  core::SweepCounts c = store->sweep_batch(test::kNow + w.nonce_keep_ms - 1, w, 100, false);
  EXPECT_EQ(c.proof_nonces, 0u);
  EXPECT_EQ(c.proof_requests, 1u);  // long expired: its nonce guards nothing answerable
  EXPECT_TRUE(store->find_proof("proof-old").has_value());
  c = store->sweep_batch(test::kNow + w.nonce_keep_ms + 1, w, 100, false);
  EXPECT_EQ(c.proof_nonces, 1u);
  EXPECT_FALSE(store->find_proof("proof-old").has_value());  // past the status-lookup window
  EXPECT_FALSE(store->nonce_answered("client-1", "nonce-old"));
  EXPECT_EQ(sql().value("SELECT count(*) FROM proofs WHERE id = 'proof-old'"), "1");  // kept
}

TEST_F(PostgresStoreTest, an_instance_finding_the_sweep_lock_taken_sweeps_nothing_and_says_busy) {
  auto store = open();
  store->insert_client(test::sample_client(1));
  store->save_idempotency(test::sample_idempotency("client-1", "old"));
  Sql holder = sql();
  holder.rows("BEGIN");
  holder.rows("SELECT pg_advisory_xact_lock(1885827959)");  // 'pgsw'
  core::SweepCounts c = store->sweep_batch(test::kNow + 86'400'000, {}, 100, false);
  EXPECT_TRUE(c.busy);
  EXPECT_EQ(c.idempotency_keys, 0u);
  holder.rows("COMMIT");
  c = store->sweep_batch(test::kNow + 86'400'000, {}, 100, false);
  EXPECT_FALSE(c.busy);
  EXPECT_EQ(c.idempotency_keys, 1u);
}

}  // namespace
}  // namespace pg::store
