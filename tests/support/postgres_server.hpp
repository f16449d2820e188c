// One throwaway PostgreSQL server for a whole test binary (scripts/pg-test-server.sh), and a
// libpq connection for the tests' own SQL. Register the server with
// ::testing::AddGlobalTestEnvironment(new pg::test::PostgresServer); when it does not start, every
// test fails on its own (none is skipped). Needs PROOFGATE_SOURCE_DIR and libpq.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pg::test {

/// Runs `command` through the shell; its stdout, and whether it exited 0.
inline std::pair<std::string, bool> run_shell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", false};
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  return {out, pclose(pipe) == 0};
}

class PostgresServer : public ::testing::Environment {
 public:
  void SetUp() override {
    std::random_device random;
    dir_ =
        "/tmp/proofgate-pg-" + std::to_string(getpid()) + "-" + std::to_string(random() % 100000);
    // fsync off: the suites migrate a schema for every case, and what they test is the stores'
    // semantics, not surviving an operating-system crash. A killed server still keeps every
    // acknowledged commit (synchronous_commit stays on, so the WAL is written before the answer).
    auto [url, ok] = run_shell("PG_TEST_FSYNC=off " + script() + " start " + dir_);
    while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
    // Non-fatal: a fatal failure here would mark every test skipped.
    if (!ok || url.rfind("postgresql://", 0) != 0) {
      ADD_FAILURE() << "PostgreSQL did not start (scripts/pg-test-server.sh start " << dir_
                    << "): " << url;
      return;
    }
    url_ = url;
  }
  void TearDown() override {
    if (!dir_.empty()) run_shell(script() + " stop " + dir_ + " >/dev/null");
  }
  /// postgresql://proofgate@127.0.0.1:PORT/proofgate; empty when the server did not start.
  static const std::string& url() { return url_; }

 private:
  static std::string script() {
    return std::string(PROOFGATE_SOURCE_DIR) + "/scripts/pg-test-server.sh";
  }
  std::string dir_;
  static inline std::string url_;
};

/// A libpq connection for checks the code under test cannot make itself.
class Sql {
 public:
  explicit Sql(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string message = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("test connection failed: " + message);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~Sql() { PQfinish(conn_); }
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;

  /// Every row of `sql` as text ("" for NULL). Throws on an error.
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const std::string message = PQresultErrorMessage(result);
      PQclear(result);
      throw std::runtime_error("`" + sql + "` failed: " + message);
    }
    std::vector<std::vector<std::string>> out;
    for (int row = 0; row < PQntuples(result); ++row) {
      std::vector<std::string> values;
      for (int column = 0; column < PQnfields(result); ++column) {
        values.emplace_back(PQgetvalue(result, row, column));
      }
      out.push_back(std::move(values));
    }
    PQclear(result);
    return out;
  }
  /// The first column of the first row, "" when there is none.
  std::string value(const std::string& sql) {
    const auto all = rows(sql);
    return all.empty() || all[0].empty() ? "" : all[0][0];
  }
  /// The SQLSTATE `sql` fails with, "" when it succeeds.
  std::string error_state(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    std::string out = state != nullptr ? state : "";
    PQclear(result);
    return out;
  }

 private:
  PGconn* conn_;
};

}  // namespace pg::test
