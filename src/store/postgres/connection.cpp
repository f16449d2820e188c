// libpq underneath the PostgreSQL store: connecting, preparing, executing, reading text results,
// and turning every failure into a PostgresError that names the operation and the SQLSTATE.
#include "store/postgres/connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <string>
#include <utility>

#include "core/secrets.hpp"

namespace pg::store::postgres {
namespace {

/// The first line of a libpq message, without its trailing newline (libpq adds hints on the
/// following lines: "This probably means the server terminated abnormally ...").
std::string first_line(const char* message) {
  std::string text = message != nullptr ? message : "";
  const std::size_t end = text.find('\n');
  if (end != std::string::npos) text.resize(end);
  return text.empty() ? "unknown libpq error" : text;
}

/// The error of `result` (or of the connection, when libpq produced no result).
[[noreturn]] void fail_with(PGconn* conn, const PGresult* result, std::string_view operation) {
  std::string sqlstate;
  std::string constraint;
  std::string message;
  if (result != nullptr) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char* name = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    if (state != nullptr) sqlstate = state;
    if (name != nullptr) constraint = name;
    if (primary != nullptr) message = primary;
  }
  if (message.empty()) message = first_line(PQerrorMessage(conn));
  std::string what = "postgres store: " + std::string(operation) + ": " + message;
  if (!sqlstate.empty()) {
    what += " (SQLSTATE " + sqlstate + ")";
  } else if (PQstatus(conn) != CONNECTION_OK) {
    what += " (connection lost)";
  }
  throw PostgresError(what, std::move(sqlstate), std::move(constraint));
}

Result checked(PGconn* conn, PGresult* raw, std::string_view operation) {
  Result result(raw, operation);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail_with(conn, raw, operation);
  return result;
}

}  // namespace

void fail(std::string_view operation, std::string_view message) {
  throw PostgresError("postgres store: " + std::string(operation) + ": " + std::string(message), "",
                      "");
}

// --- Params ---

Params& Params::text(std::string_view value) {
  values_.emplace_back(value);
  nulls_.push_back(false);
  lengths_.push_back(0);  // text format: libpq reads up to the NUL
  formats_.push_back(0);
  return *this;
}

Params& Params::nullable_text(std::string_view value) {
  return value.empty() ? null() : text(value);
}

Params& Params::bytes(std::string_view value) {
  values_.emplace_back(value);
  nulls_.push_back(false);
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(1);  // binary: the bytes as they are
  return *this;
}

Params& Params::nullable_bytes(std::string_view value) {
  return value.empty() ? null() : bytes(value);
}

Params& Params::integer(std::int64_t value) {
  return text(std::to_string(value));
}

Params& Params::nullable_integer(std::int64_t value) {
  return value == 0 ? null() : integer(value);
}

Params& Params::boolean(bool value) {
  return text(value ? "true" : "false");
}

Params& Params::null() {
  values_.emplace_back();
  nulls_.push_back(true);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

const char* const* Params::values() const {
  pointers_.resize(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    pointers_[i] = nulls_[i] ? nullptr : values_[i].c_str();
  }
  return pointers_.data();
}

// --- Result ---

void ResultDeleter::operator()(pg_result* result) const noexcept {
  PQclear(result);
}

int Result::rows() const noexcept {
  return PQntuples(result_.get());
}

bool Result::is_null(int row, int column) const noexcept {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string Result::text(int row, int column) const {
  if (is_null(row, column)) return {};
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::int64_t Result::integer(int row, int column) const {
  if (is_null(row, column)) return 0;
  const char* begin = PQgetvalue(result_.get(), row, column);
  const char* end = begin + PQgetlength(result_.get(), row, column);
  std::int64_t value = 0;
  const auto [stop, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || stop != end) {
    fail(operation_,
         "column " + std::string(PQfname(result_.get(), column)) + " is not an integer");
  }
  return value;
}

bool Result::boolean(int row, int column) const {
  if (is_null(row, column)) return false;
  return PQgetvalue(result_.get(), row, column)[0] == 't';
}

std::vector<std::string> Result::column_names() const {
  std::vector<std::string> names;
  const int count = PQnfields(result_.get());
  names.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) names.emplace_back(PQfname(result_.get(), i));
  return names;
}

std::string Result::bytes(int row, int column) const {
  if (is_null(row, column)) return {};
  const std::string_view hex(PQgetvalue(result_.get(), row, column),
                             static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
  // bytea_output = 'hex' (set on every connection): "\x" then two digits a byte.
  if (hex.size() < 2 || hex[0] != '\\' || hex[1] != 'x' || hex.size() % 2 != 0) {
    fail(operation_, "column " + std::string(PQfname(result_.get(), column)) + " is not hex bytea");
  }
  std::string out;
  out.reserve((hex.size() - 2) / 2);
  for (std::size_t i = 2; i < hex.size(); i += 2) {
    const int high = core::hex_digit_value(hex[i]);
    const int low = core::hex_digit_value(hex[i + 1]);
    if (high < 0 || low < 0) fail(operation_, "a bytea column holds a non-hex digit");
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return out;
}

// --- Connection ---

std::unique_ptr<Connection> Connection::open(const ConnectionSettings& settings,
                                             std::span<const Statement* const> prepare) {
  constexpr std::string_view kOperation = "connect";
  if (settings.url.empty()) fail(kOperation, "no database URL");
  // libpq counts connect_timeout in whole seconds (and takes at least 2): round up.
  const auto timeout_ms = std::max<std::int64_t>(settings.connect_timeout.count(), 1);
  const std::string timeout_s = std::to_string((timeout_ms + 999) / 1000);
  // expand_dbname = 1: "dbname" holds the whole URL; the keywords after it override the URL's.
  // libpq's parse errors quote the token they stumble on, which may be the password
  // ("invalid percent-encoded token: ..."): a URL that does not parse is named, never quoted.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(settings.url.c_str(), &parse_error);
  if (parsed == nullptr) {
    PQfreemem(parse_error);
    fail(kOperation,
         "the database URL is malformed (its text is not shown: it may hold a password); check "
         "its percent-encoding and parameters");
  }
  PQconninfoFree(parsed);
  const char* const keywords[] = {"dbname", "connect_timeout", "client_encoding",
                                  "fallback_application_name", nullptr};
  const char* const values[] = {settings.url.c_str(), timeout_s.c_str(), "UTF8", "proofgate",
                                nullptr};
  PGconn* raw = PQconnectdbParams(keywords, values, 1);
  if (raw == nullptr) fail(kOperation, "out of memory");
  std::unique_ptr<Connection> connection(new Connection(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    // libpq's message names the host and port and the server's refusal, never the password.
    fail(kOperation, first_line(PQerrorMessage(raw)));
  }
  // Notices (e.g. "relation already exists, skipping") would go to stderr: they are not ours to
  // print.
  PQsetNoticeReceiver(raw, &Connection::on_notice, connection.get());
  connection->execute(
      "SET statement_timeout = " +
          std::to_string(std::max<std::int64_t>(settings.statement_timeout.count(), 0)) +
          "; SET bytea_output = 'hex'",
      kOperation);
  for (const Statement* statement : prepare) connection->prepare(*statement, kOperation);
  return connection;
}

Connection::~Connection() {
  PQfinish(conn_);
}

void Connection::prepare(const Statement& statement, std::string_view operation) {
  PGresult* raw = PQprepare(conn_, statement.name, statement.sql, 0, nullptr);
  checked(conn_, raw, std::string(operation) + ": preparing " + statement.name);
  prepared_.push_back(&statement);
}

Result Connection::run(const Statement& statement, const Params& params,
                       std::string_view operation) {
  PGresult* raw = nullptr;
  if (statement.prepared) {
    if (std::find(prepared_.begin(), prepared_.end(), &statement) == prepared_.end()) {
      prepare(statement, operation);
    }
    raw = PQexecPrepared(conn_, statement.name, params.size(), params.values(), params.lengths(),
                         params.formats(), 0);
  } else {
    raw = PQexecParams(conn_, statement.sql, params.size(), nullptr, params.values(),
                       params.lengths(), params.formats(), 0);
  }
  return checked(conn_, raw, operation);
}

void Connection::run_pipelined(std::span<const Step> steps, std::string_view operation) {
  // Prepared before the pipeline starts: PQprepare waits for its answer.
  for (const Step& step : steps) {
    if (step.statement->prepared &&
        std::find(prepared_.begin(), prepared_.end(), step.statement) == prepared_.end()) {
      prepare(*step.statement, operation);
    }
  }
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    fail(operation, "a pipelined transaction must start outside any transaction");
  }
  if (PQenterPipelineMode(conn_) != 1) fail_with(conn_, nullptr, operation);
  // Whatever leaves this function before the pipeline is closed again (an allocation failure, a
  // lost connection) leaves the connection unusable: the pool closes it.
  struct Guard {
    Connection& c;
    bool closed = false;
    ~Guard() {
      if (!closed) c.doomed_ = true;
    }
  } guard{*this};
  bool sent = true;
  for (const Step& step : steps) {
    const Params& p = *step.params;
    sent = step.statement->prepared
               ? PQsendQueryPrepared(conn_, step.statement->name, p.size(), p.values(), p.lengths(),
                                     p.formats(), 0) == 1
               : PQsendQueryParams(conn_, step.statement->sql, p.size(), nullptr, p.values(),
                                   p.lengths(), p.formats(), 0) == 1;
    if (!sent) break;
  }
  // The Sync ends the implicit transaction: committed when every statement succeeded, else rolled
  // back by the server, which skips the statements after a failure (PGRES_PIPELINE_ABORTED).
  if (sent) sent = PQpipelineSync(conn_) == 1;
  if (!sent) fail_with(conn_, nullptr, operation);  // what the server got is unknown

  std::exception_ptr first_error;
  const auto keep_error = [&](const PGresult* raw) {
    if (first_error) return;
    try {
      fail_with(conn_, raw, operation);
    } catch (const PostgresError&) {
      first_error = std::current_exception();
    }
  };
  bool lost = false;
  for (std::size_t i = 0; i < steps.size() && !lost; ++i) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) {
      lost = true;
      break;
    }
    const Result owner(raw, operation);
    const ExecStatusType status = PQresultStatus(raw);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
        status != PGRES_PIPELINE_ABORTED) {
      keep_error(raw);
    }
    if (PGresult* end = PQgetResult(conn_); end != nullptr) {  // a statement's results end in null
      PQclear(end);
      lost = true;
    }
  }
  // The commit's own failure (a deferred constraint, an I/O error) comes as an error result in
  // the Sync's place, followed by a null and then the Sync.
  bool synced = false;
  for (int slot = 0; slot < 3 && !lost && !synced; ++slot) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) continue;
    const Result owner(raw, operation);
    const ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) {
      synced = true;
    } else if (status == PGRES_FATAL_ERROR) {
      keep_error(raw);
    } else {
      lost = true;
    }
  }
  if (synced && PQexitPipelineMode(conn_) == 1) {
    guard.closed = true;
  } else if (!first_error) {
    // Committed when every statement and the Sync answered OK: only the connection is in doubt.
    if (synced) return;
    fail_with(conn_, nullptr, operation);
  }
  if (first_error) std::rethrow_exception(first_error);
}

void Connection::execute(std::string_view sql, std::string_view operation) {
  checked(conn_, PQexec(conn_, std::string(sql).c_str()), operation);
}

void Connection::on_notice(void* self, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity != nullptr &&
      (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
    static_cast<Connection*>(self)->doomed_ = true;
  }
}

bool Connection::healthy() noexcept {
  // An idle connection has nothing to read. Something readable is the server closing it (a FATAL
  // error message, e.g. from pg_terminate_backend or a shutdown, then the end of the stream) or a
  // notification: consume it, let libpq parse it (an error while idle reaches on_notice), and
  // look again until nothing is left.
  for (int round = 0; round < 8 && idle(); ++round) {
    pollfd socket{PQsocket(conn_), POLLIN, 0};
    if (socket.fd < 0) return false;
    if (poll(&socket, 1, 0) <= 0) break;
    if (PQconsumeInput(conn_) == 0) return false;  // the end of the stream: the server is gone
    PQisBusy(conn_);                               // parses what arrived
    while (PGnotify* notification = PQnotifies(conn_)) PQfreemem(notification);
  }
  return idle();
}

bool Connection::idle() const noexcept {
  return !doomed_ && PQstatus(conn_) == CONNECTION_OK &&
         PQtransactionStatus(conn_) == PQTRANS_IDLE && PQpipelineStatus(conn_) == PQ_PIPELINE_OFF;
}

bool Connection::transaction_failed() const noexcept {
  return PQtransactionStatus(conn_) == PQTRANS_INERROR;
}

// --- Transaction ---

Transaction::Transaction(Connection& connection, std::string_view operation)
    : connection_(connection), operation_(operation) {
  connection_.execute("BEGIN", operation_);
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    connection_.execute("ROLLBACK", operation_);
  } catch (...) {
    // The connection is gone or confused: it is not idle, so the pool drops it.
  }
}

void Transaction::commit() {
  // COMMIT of an aborted transaction answers "ROLLBACK" without an error: refuse it here.
  if (connection_.transaction_failed()) fail(operation_, "commit after a failed statement");
  done_ = true;  // a failed COMMIT ends the transaction too (the server rolls it back)
  connection_.execute("COMMIT", operation_);
}

}  // namespace pg::store::postgres
