// The SQLite building blocks the embedded stores share (the verifier's SqliteStore and the issuer
// node's IssuerStore): errors with SQLite's result code, prepared statements, a Query/Row reader,
// BEGIN IMMEDIATE transactions, opening a file in WAL mode and the migration runner.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ports.hpp"
#include "store/column_index.hpp"
#include "store/migrations.hpp"

namespace pg::store::sqlite {

inline constexpr std::string_view kStoreName = "sqlite store";  // error prefix

// --- Errors ---

/// A StoreError that keeps SQLite's extended result code, so a caller can tell a constraint
/// it expects from any other failure.
class SqliteError : public core::StoreError {
 public:
  SqliteError(const std::string& message, int code) : core::StoreError(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// Throws SqliteError("sqlite store: <operation>: <message>", code).
[[noreturn]] void fail(std::string_view operation, std::string_view message,
                       int code = SQLITE_ERROR);
/// Throws the connection's last error, which `code` (an extended result code) produced.
[[noreturn]] void fail_with(sqlite3* db, std::string_view operation, int code);

// --- Handles ---

struct DatabaseCloser {
  // sqlite3_close (not _v2): every statement is finalized before, so it cannot be left busy.
  void operator()(sqlite3* db) const noexcept { sqlite3_close(db); }
};
using DatabaseHandle = std::unique_ptr<sqlite3, DatabaseCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

/// Compiles one statement for `operation`; `persistent` for those kept for the connection's
/// lifetime.
StatementHandle prepare(sqlite3* db, std::string_view sql, std::string_view operation,
                        bool persistent = true);

/// One use of a prepared statement: binds, steps and reads columns; resets the statement and
/// clears its bindings when it goes, so bound text may point into the caller's strings
/// (SQLITE_STATIC) and the statement is ready for the next use.
class Query {
 public:
  Query(sqlite3* db, const StatementHandle& statement, std::string_view operation)
      : db_(db), statement_(statement.get()), operation_(operation) {}
  ~Query() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& text(int index, std::string_view value) {
    // A null pointer would bind NULL: an empty value binds "" instead.
    const char* data = value.data() != nullptr ? value.data() : "";
    return check(
        sqlite3_bind_text64(statement_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8));
  }
  /// Binds NULL for an empty value ("absent" in the schema).
  Query& nullable_text(int index, std::string_view value) {
    return value.empty() ? null(index) : text(index, value);
  }
  Query& blob(int index, const void* data, std::size_t size) {
    if (size == 0) return check(sqlite3_bind_zeroblob(statement_, index, 0));
    return check(sqlite3_bind_blob64(statement_, index, data, size, SQLITE_STATIC));
  }
  /// Binds NULL for an empty value.
  Query& nullable_blob(int index, std::string_view value) {
    return value.empty() ? null(index) : blob(index, value.data(), value.size());
  }
  Query& integer(int index, std::int64_t value) {
    return check(sqlite3_bind_int64(statement_, index, value));
  }
  /// Binds NULL for 0 ("never" in the model).
  Query& nullable_integer(int index, std::int64_t value) {
    return value == 0 ? null(index) : integer(index, value);
  }
  Query& null(int index) { return check(sqlite3_bind_null(statement_, index)); }

  /// Steps once: true when a row is ready, false when the statement is done.
  bool step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail_with(db_, operation_, rc);
  }
  /// Runs a statement to its end (writes).
  void run() {
    while (step()) {
    }
  }

  std::string column_text(int index) const {
    const auto* data = sqlite3_column_text(statement_, index);
    if (data == nullptr) return {};  // NULL
    return {reinterpret_cast<const char*>(data),
            static_cast<std::size_t>(sqlite3_column_bytes(statement_, index))};
  }
  std::string column_blob(int index) const {
    const void* data = sqlite3_column_blob(statement_, index);
    if (data == nullptr) return {};  // NULL or empty
    return {static_cast<const char*>(data),
            static_cast<std::size_t>(sqlite3_column_bytes(statement_, index))};
  }
  /// NULL reads as 0.
  std::int64_t column_integer(int index) const { return sqlite3_column_int64(statement_, index); }
  bool column_null(int index) const {
    return sqlite3_column_type(statement_, index) == SQLITE_NULL;
  }
  /// The position of the result column `name`, from the statement's column names (read once per
  /// use of the statement).
  int column(std::string_view name) const {
    if (columns_.empty()) {
      std::vector<std::string> names;
      const int count = sqlite3_column_count(statement_);
      for (int i = 0; i < count; ++i) names.emplace_back(sqlite3_column_name(statement_, i));
      columns_ = ColumnIndex(std::move(names));
    }
    return columns_.at(name, operation_, kStoreName);
  }

 private:
  Query& check(int rc) {
    if (rc != SQLITE_OK) fail_with(db_, operation_, rc);
    return *this;
  }

  sqlite3* db_;
  sqlite3_stmt* statement_;
  std::string_view operation_;
  mutable ColumnIndex columns_;
};

/// The current row of a stepped Query, read by column name (the reader store/rows.hpp expects).
class Row {
 public:
  explicit Row(const Query& query) : query_(query) {}
  std::string text(std::string_view name) const { return query_.column_text(query_.column(name)); }
  std::string bytes(std::string_view name) const { return query_.column_blob(query_.column(name)); }
  std::int64_t integer(std::string_view name) const {
    return query_.column_integer(query_.column(name));
  }
  bool is_null(std::string_view name) const { return query_.column_null(query_.column(name)); }
  /// Booleans are INTEGER 0 or 1.
  bool boolean(std::string_view name) const { return integer(name) != 0; }
  /// JSON columns are TEXT holding what was written.
  std::string json(std::string_view name) const { return text(name); }

 private:
  const Query& query_;
};

/// BEGIN IMMEDIATE (the write lock up front, so a read inside cannot fail to upgrade later) ...
/// COMMIT; ROLLBACK when it goes without commit() (an exception or an early return).
class Transaction {
 public:
  Transaction(sqlite3* db, const StatementHandle& begin, const StatementHandle& commit,
              const StatementHandle& rollback, std::string_view operation)
      : db_(db), commit_(commit), rollback_(rollback), operation_(operation) {
    Query(db_, begin, operation_).run();
  }
  ~Transaction() {
    // SQLite may have rolled back already (I/O error, disk full): then there is nothing to undo.
    if (!committed_ && sqlite3_get_autocommit(db_) == 0) {
      sqlite3_step(rollback_.get());
      sqlite3_reset(rollback_.get());
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() {
    Query(db_, commit_, operation_).run();
    committed_ = true;
  }

 private:
  sqlite3* db_;
  const StatementHandle& commit_;
  const StatementHandle& rollback_;
  std::string_view operation_;
  bool committed_ = false;
};

/// Unix time in milliseconds.
std::int64_t unix_millis_now();

/// Runs `sql` (any number of statements) outside a prepared statement.
void execute(sqlite3* db, std::string_view sql, std::string_view operation);
/// The first column of the first row of a PRAGMA (or any query), "" when there is none.
std::string pragma_value(sqlite3* db, std::string_view sql, std::string_view operation);

/// The newest migration recorded in the database's schema_migrations; 0 when it has none.
int applied_schema_version(sqlite3* db);

/// Opens (or creates) the database at `path` and sets WAL, `synchronous` (FULL or NORMAL, checked
/// by the caller), foreign keys and the busy timeout; throws SqliteError when any step fails.
DatabaseHandle open_database(const std::string& path, const std::string& synchronous,
                             int busy_timeout_ms, std::string_view operation);

/// Opens a read connection to the existing WAL database at `path` (opened by open_database
/// first): query_only, with the busy timeout; throws SqliteError when it cannot.
DatabaseHandle open_reader(const std::string& path, int busy_timeout_ms,
                           std::string_view operation);

/// Applies the `migrations` the database lacks (the first must create schema_migrations), each
/// in its own transaction that first re-reads the applied version (another process may be
/// migrating the same file). Refuses a database whose schema is newer than `migrations`.
void migrate(sqlite3* db, const StatementHandle& begin, const StatementHandle& commit,
             const StatementHandle& rollback, std::span<const Migration> migrations,
             std::string_view open_operation);

}  // namespace pg::store::sqlite
