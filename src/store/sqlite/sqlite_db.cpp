// The shared SQLite building blocks of sqlite_db.hpp: error reporting, statement preparation,
// opening a database file and the migration runner.
#include "store/sqlite/sqlite_db.hpp"

#include <chrono>

namespace pg::store::sqlite {
namespace {

constexpr std::string_view kSchemaMigrationsExists =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr std::string_view kAppliedVersion =
    "SELECT coalesce(max(version), 0) AS version FROM schema_migrations";
constexpr std::string_view kRecordMigration =
    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)";

}  // namespace

int applied_schema_version(sqlite3* db) {
  constexpr std::string_view kOperation = "read schema version";
  {
    const StatementHandle exists = prepare(db, kSchemaMigrationsExists, kOperation, false);
    if (!Query(db, exists, kOperation).step()) return 0;
  }
  const StatementHandle version = prepare(db, kAppliedVersion, kOperation, false);
  Query query(db, version, kOperation);
  query.step();
  return static_cast<int>(Row(query).integer("version"));
}

void fail(std::string_view operation, std::string_view message, int code) {
  throw SqliteError("sqlite store: " + std::string(operation) + ": " + std::string(message), code);
}

void fail_with(sqlite3* db, std::string_view operation, int code) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  message += " (SQLite code " + std::to_string(code) + ")";
  fail(operation, message, code);
}

StatementHandle prepare(sqlite3* db, std::string_view sql, std::string_view operation,
                        bool persistent) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, &tail);
  StatementHandle statement(raw);
  if (rc != SQLITE_OK) {
    fail_with(db, std::string(operation) + ": preparing `" + std::string(sql) + "`", rc);
  }
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (raw == nullptr || rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    fail(operation, "expected exactly one statement in `" + std::string(sql) + "`");
  }
  return statement;
}

std::int64_t unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void execute(sqlite3* db, std::string_view sql, std::string_view operation) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    const std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    fail(operation, message + " (SQLite code " + std::to_string(rc) + ")", rc);
  }
}

std::string pragma_value(sqlite3* db, std::string_view sql, std::string_view operation) {
  const StatementHandle statement = prepare(db, sql, operation, false);
  Query query(db, statement, operation);
  return query.step() ? query.column_text(0) : std::string();
}

DatabaseHandle open_database(const std::string& path, const std::string& synchronous,
                             int busy_timeout_ms, std::string_view operation) {
  sqlite3* raw = nullptr;
  // NOMUTEX: each store serializes every use of its connection with its own mutex.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DatabaseHandle db(raw);
  if (rc != SQLITE_OK) fail_with(raw, operation, rc);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);

  const std::string journal_mode = pragma_value(raw, "PRAGMA journal_mode = WAL", operation);
  if (journal_mode != "wal" && journal_mode != "memory") {
    fail(operation, "journal_mode stays '" + journal_mode + "' instead of WAL");
  }
  execute(raw, "PRAGMA synchronous = " + synchronous, operation);
  execute(raw, "PRAGMA foreign_keys = ON", operation);
  if (pragma_value(raw, "PRAGMA foreign_keys", operation) != "1") {
    fail(operation, "this SQLite does not enforce foreign keys");
  }
  return db;
}

DatabaseHandle open_reader(const std::string& path, int busy_timeout_ms,
                           std::string_view operation) {
  sqlite3* raw = nullptr;
  // Read-write but query_only: a read-only connection could not recover the WAL index should it
  // need to. No CREATE: the database exists (open_database made it).
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  DatabaseHandle db(raw);
  if (rc != SQLITE_OK) fail_with(raw, operation, rc);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  const std::string journal_mode = pragma_value(raw, "PRAGMA journal_mode", operation);
  if (journal_mode != "wal") {
    fail(operation, "a read connection needs WAL, the database is in '" + journal_mode + "'");
  }
  execute(raw, "PRAGMA query_only = ON", operation);
  return db;
}

void migrate(sqlite3* db, const StatementHandle& begin, const StatementHandle& commit,
             const StatementHandle& rollback, std::span<const Migration> migrations,
             std::string_view open_operation) {
  const int latest = migrations.back().version;
  for (const Migration& migration : migrations) {
    const std::string operation =
        std::string(open_operation) + ": migration " + std::string(migration.name);
    Transaction transaction(db, begin, commit, rollback, operation);
    const int applied = applied_schema_version(db);
    if (applied > latest) {
      fail(open_operation, "the database's schema version " + std::to_string(applied) +
                               " is newer than this binary knows (" + std::to_string(latest) +
                               "); refusing to open it with an older proofgate");
    }
    if (applied >= migration.version) continue;  // rolls back the empty transaction
    execute(db, migration.sql, operation);
    const StatementHandle record = prepare(db, kRecordMigration, operation, false);
    Query(db, record, operation).integer(1, migration.version).integer(2, unix_millis_now()).run();
    transaction.commit();
  }
}

}  // namespace pg::store::sqlite
