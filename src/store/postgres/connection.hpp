// libpq underneath the PostgreSQL store: one connection with its session settings and prepared
// statements, statement parameters, results, transactions, and errors that carry the SQLSTATE.
// Internal to src/store/postgres: the store's users see core::StoreError only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/ports.hpp"

struct pg_conn;    // libpq's PGconn
struct pg_result;  // libpq's PGresult

namespace pg::store::postgres {

/// A failed statement or connection. what() names the operation and the SQLSTATE, and holds the
/// server's primary message only: never the DETAIL (it may quote row values) nor parameters.
class PostgresError : public core::StoreError {
 public:
  PostgresError(const std::string& message, std::string sqlstate, std::string constraint)
      : core::StoreError(message),
        sqlstate_(std::move(sqlstate)),
        constraint_(std::move(constraint)) {}
  /// The five-character SQLSTATE ("23505"), empty when the connection failed before an answer.
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// The violated constraint's name, for integrity errors (class 23); else empty.
  const std::string& constraint() const noexcept { return constraint_; }

 private:
  std::string sqlstate_;
  std::string constraint_;
};

/// Throws a PostgresError "postgres store: <operation>: <message>" without a SQLSTATE.
[[noreturn]] void fail(std::string_view operation, std::string_view message);

/// One SQL statement of the store: a named constant. `prepared` ones are prepared on every
/// connection once (the hot path: PQexecPrepared); the others are sent with their text each time.
struct Statement {
  const char* name;  // the prepared statement's name; unique within the store
  const char* sql;   // one statement, parameters $1, $2, ...
  bool prepared;
};

/// The parameters of one execution, in order. Text goes in text format; bytea in binary format,
/// so sealed secrets with NUL bytes pass unchanged.
class Params {
 public:
  Params& text(std::string_view value);
  /// NULL for an empty value ("absent" in the schema).
  Params& nullable_text(std::string_view value);
  Params& bytes(std::string_view value);
  /// NULL for an empty value.
  Params& nullable_bytes(std::string_view value);
  Params& integer(std::int64_t value);
  /// NULL for 0 ("never" in the model).
  Params& nullable_integer(std::int64_t value);
  Params& boolean(bool value);
  Params& null();

  int size() const noexcept { return static_cast<int>(values_.size()); }
  /// The arrays libpq takes; valid until the next change to this object.
  const char* const* values() const;
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  mutable std::vector<const char*> pointers_;
};

struct ResultDeleter {
  void operator()(pg_result* result) const noexcept;
};

/// The rows of a statement, in text format. Reading a column of the wrong shape throws.
class Result {
 public:
  explicit Result(pg_result* result, std::string_view operation)
      : result_(result), operation_(operation) {}

  int rows() const noexcept;
  bool is_null(int row, int column) const noexcept;
  /// "" for NULL.
  std::string text(int row, int column) const;
  /// 0 for NULL.
  std::int64_t integer(int row, int column) const;
  /// false for NULL.
  bool boolean(int row, int column) const;
  /// A bytea column (hex output format); "" for NULL.
  std::string bytes(int row, int column) const;
  /// The result's column names in their order.
  std::vector<std::string> column_names() const;

 private:
  std::unique_ptr<pg_result, ResultDeleter> result_;
  std::string operation_;
};

struct ConnectionSettings {
  std::string url;  // postgresql://... or key=value; never put into a message
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{5000};  // 0: none
};

/// One libpq connection: UTF-8, the statement timeout set, notices discarded, the given
/// statements prepared. Not thread-safe: the pool hands it to one thread at a time.
class Connection {
 public:
  /// Connects and prepares `prepare`. Throws PostgresError when the server cannot be reached or
  /// refuses the session; the message never holds the URL.
  static std::unique_ptr<Connection> open(const ConnectionSettings& settings,
                                          std::span<const Statement* const> prepare);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one statement (prepared on this connection first if it is not yet). Throws
  /// PostgresError naming `operation` when the server answers an error.
  Result run(const Statement& statement, const Params& params, std::string_view operation);
  /// One statement of run_pipelined and its parameters.
  struct Step {
    const Statement* statement;
    const Params* params;
  };
  /// Runs `steps` in one round trip (libpq pipeline mode, one Sync) as one implicit transaction:
  /// all of them are committed, or none when one fails. Call it outside a transaction. Throws the
  /// first failing statement's PostgresError (naming `operation`) after the rollback; results
  /// are not returned (writes only).
  void run_pipelined(std::span<const Step> steps, std::string_view operation);
  /// Runs SQL text without parameters (simple query protocol: several statements allowed).
  void execute(std::string_view sql, std::string_view operation);

  /// Whether the connection can take the next statement: connected, outside any transaction, and
  /// not closed by the server while it sat idle (an administrator's pg_terminate_backend, a
  /// restart), which this notices by reading what arrived on the socket.
  bool healthy() noexcept;
  /// Connected and outside any transaction, without looking at the socket.
  bool idle() const noexcept;
  /// Inside a transaction that a failed statement aborted (only ROLLBACK is possible).
  bool transaction_failed() const noexcept;

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  void prepare(const Statement& statement, std::string_view operation);
  /// libpq's notice receiver: discards notices, but remembers a FATAL the server sent while the
  /// connection was idle (it is about to close it).
  static void on_notice(void* self, const pg_result* notice);

  pg_conn* conn_;
  std::vector<const Statement*> prepared_;
  bool doomed_ = false;  // the server announced it is closing this connection
};

/// BEGIN ... COMMIT; ROLLBACK when it goes without commit() (an exception or an early return).
/// READ COMMITTED, the server's default: each statement sees what committed before it started.
class Transaction {
 public:
  Transaction(Connection& connection, std::string_view operation);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  std::string_view operation_;
  bool done_ = false;
};

}  // namespace pg::store::postgres
