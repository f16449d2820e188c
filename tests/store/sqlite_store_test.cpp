// SqliteStore: the shared store suite on a fresh file per test, plus what only SQLite has
// (embedded migrations, pragmas, several connections on one file).
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <barrier>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/migrations.hpp"
#include "store_suite.hpp"

namespace pg::store {
namespace {

namespace fs = std::filesystem;
using test::StoreSuite;  // INSTANTIATE_TEST_SUITE_P takes the suite's bare name

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

/// A raw connection to inspect or tamper with a store's file behind its back.
class RawDatabase {
 public:
  explicit RawDatabase(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
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

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteSettings settings() const { return SqliteSettings{.path = dir_.path() / "proofgate.db"}; }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, embedded_migrations_are_numbered_one_two_three_without_gaps) {
  const auto migrations = sqlite_migrations();
  ASSERT_FALSE(migrations.empty());
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1) << migrations[i].name;
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
    EXPECT_EQ(raw.value("SELECT count(*) FROM schema_migrations"), std::to_string(latest));
    first_applied_at = raw.value("SELECT applied_at FROM schema_migrations WHERE version = 1");
  }
  for (int i = 0; i < 2; ++i) {
    SqliteStore store(settings());
    EXPECT_EQ(store.schema_version(), latest);
    EXPECT_EQ(store.list_clients().size(), 1u);
  }
  RawDatabase raw(settings().path);
  EXPECT_EQ(raw.value("SELECT count(*) FROM schema_migrations"), std::to_string(latest));
  EXPECT_EQ(raw.value("SELECT applied_at FROM schema_migrations WHERE version = 1"),
            first_applied_at);
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

}  // namespace
}  // namespace pg::store
