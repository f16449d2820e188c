// core::AccountStore on SqliteStore: admin accounts and sessions (migration 0008). Statements are
// compiled per call: admin sign-ins are rare next to the verify path.
#include <sqlite3.h>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::store {

namespace {
using sqlite::prepare;
using sqlite::Query;
using sqlite::Row;

constexpr std::string_view kAccountColumns =
    "id, email, role, status, password_hash, totp_secret_sealed, totp_algorithm, totp_last_step, "
    "failed_sign_ins, locked_until, enrolment_sha256, enrolment_expires_at, created_at, version";

constexpr std::string_view kInsertAdmin = R"sql(
  INSERT INTO admin_accounts (id, email, role, status, password_hash, totp_secret_sealed,
    totp_algorithm, totp_last_step, failed_sign_ins, locked_until, enrolment_sha256,
    enrolment_expires_at, created_at, version)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0)
  ON CONFLICT (email) DO NOTHING RETURNING id)sql";
constexpr std::string_view kUpdateAdmin = R"sql(
  UPDATE admin_accounts SET role = ?3, status = ?4, password_hash = ?5, totp_secret_sealed = ?6,
    totp_algorithm = ?7, totp_last_step = ?8, failed_sign_ins = ?9, locked_until = ?10,
    enrolment_sha256 = ?11, enrolment_expires_at = ?12, version = version + 1
  WHERE id = ?1 AND version = ?2 RETURNING id)sql";
constexpr std::string_view kInsertSession = R"sql(
  INSERT INTO admin_sessions (token_sha256, admin_id, csrf_sha256, created_at, last_seen_at,
    expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql";
constexpr std::string_view kDeleteAdminSessions = "DELETE FROM admin_sessions WHERE admin_id = ?1";
constexpr std::string_view kDeleteExpiredSessions =
    "DELETE FROM admin_sessions WHERE admin_id = ?1 AND expires_at <= ?2";
constexpr std::string_view kFindSession = R"sql(
  SELECT token_sha256, admin_id, csrf_sha256, created_at, last_seen_at, expires_at
  FROM admin_sessions WHERE token_sha256 = ?1)sql";
constexpr std::string_view kTouchSession =
    "UPDATE admin_sessions SET last_seen_at = max(last_seen_at, ?2) WHERE token_sha256 = ?1";
constexpr std::string_view kDeleteSession =
    "DELETE FROM admin_sessions WHERE token_sha256 = ?1 RETURNING 1";

core::AdminAccount account_from_row(const Row& r) {
  core::AdminAccount a;
  a.id = r.text("id");
  a.email = r.text("email");
  a.role = r.text("role");
  a.status = r.text("status");
  a.password_hash = r.text("password_hash");
  a.totp_secret_sealed = r.bytes("totp_secret_sealed");
  a.totp_algorithm = r.text("totp_algorithm");
  a.totp_last_step = r.integer("totp_last_step");
  a.failed_sign_ins = r.integer("failed_sign_ins");
  a.locked_until = r.integer("locked_until");
  a.enrolment_sha256 = r.text("enrolment_sha256");
  a.enrolment_expires_at = r.integer("enrolment_expires_at");
  a.created_at = r.integer("created_at");
  a.version = r.integer("version");
  return a;
}

std::vector<core::AdminAccount> select_admins(sqlite3* db, std::string_view where,
                                              std::string_view value, std::string_view operation) {
  const std::string sql = "SELECT " + std::string(kAccountColumns) + " FROM admin_accounts " +
                          std::string(where) + " ORDER BY created_at, id";
  const auto statement = prepare(db, sql, operation, false);
  Query query(db, statement, operation);
  if (!value.empty()) query.text(1, value);
  std::vector<core::AdminAccount> out;
  while (query.step()) out.push_back(account_from_row(Row(query)));
  return out;
}

std::optional<core::AdminAccount> one(std::vector<core::AdminAccount> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}
}  // namespace

bool SqliteStore::create_admin(const core::AdminAccount& a, const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "create_admin";
  return on_connection(kOperation, &audit, [&](sqlite3* db) {
    const auto statement = prepare(db, kInsertAdmin, kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, a.id)
        .text(2, a.email)
        .text(3, a.role)
        .text(4, a.status)
        .nullable_text(5, a.password_hash)
        .nullable_blob(6, a.totp_secret_sealed)
        .text(7, a.totp_algorithm)
        .integer(8, a.totp_last_step)
        .integer(9, a.failed_sign_ins)
        .integer(10, a.locked_until)
        .nullable_text(11, a.enrolment_sha256)
        .integer(12, a.enrolment_expires_at)
        .integer(13, a.created_at);
    return query.step();
  });
}

std::optional<core::AdminAccount> SqliteStore::find_admin(std::string_view id) {
  std::vector<core::AdminAccount> rows;
  on_connection("find_admin", nullptr, [&](sqlite3* db) {
    if (!id.empty()) rows = select_admins(db, "WHERE id = ?1", id, "find_admin");
    return true;
  });
  return one(std::move(rows));
}

std::optional<core::AdminAccount> SqliteStore::find_admin_by_email(std::string_view email) {
  std::vector<core::AdminAccount> rows;
  on_connection("find_admin_by_email", nullptr, [&](sqlite3* db) {
    if (!email.empty()) rows = select_admins(db, "WHERE email = ?1", email, "find_admin_by_email");
    return true;
  });
  return one(std::move(rows));
}

std::optional<core::AdminAccount> SqliteStore::find_admin_by_enrolment(
    std::string_view sha256_hex) {
  std::vector<core::AdminAccount> rows;
  on_connection("find_admin_by_enrolment", nullptr, [&](sqlite3* db) {
    if (!sha256_hex.empty())
      rows =
          select_admins(db, "WHERE enrolment_sha256 = ?1", sha256_hex, "find_admin_by_enrolment");
    return true;
  });
  return one(std::move(rows));
}

std::vector<core::AdminAccount> SqliteStore::list_admins() {
  std::vector<core::AdminAccount> rows;
  on_connection("list_admins", nullptr, [&](sqlite3* db) {
    rows = select_admins(db, "", "", "list_admins");
    return true;
  });
  return rows;
}

bool SqliteStore::update_admin(const core::AdminAccount& a, const core::AuditEntry& audit,
                               const core::AdminSession* new_session) {
  constexpr std::string_view kOperation = "update_admin";
  return on_connection(kOperation, &audit, [&](sqlite3* db) {
    {
      const auto statement = prepare(db, kUpdateAdmin, kOperation, false);
      Query query(db, statement, kOperation);
      query.text(1, a.id)
          .integer(2, a.version)
          .text(3, a.role)
          .text(4, a.status)
          .nullable_text(5, a.password_hash)
          .nullable_blob(6, a.totp_secret_sealed)
          .text(7, a.totp_algorithm)
          .integer(8, a.totp_last_step)
          .integer(9, a.failed_sign_ins)
          .integer(10, a.locked_until)
          .nullable_text(11, a.enrolment_sha256)
          .integer(12, a.enrolment_expires_at);
      if (!query.step()) return false;
      query.run();
    }
    if (a.status == core::kAdminDisabled) {
      const auto statement = prepare(db, kDeleteAdminSessions, kOperation, false);
      Query(db, statement, kOperation).text(1, a.id).run();
    }
    if (new_session) {
      // The admin's sessions past their absolute expiry go when a new one comes.
      const auto expired = prepare(db, kDeleteExpiredSessions, kOperation, false);
      Query(db, expired, kOperation).text(1, a.id).integer(2, new_session->created_at).run();
      const auto statement = prepare(db, kInsertSession, kOperation, false);
      Query(db, statement, kOperation)
          .text(1, new_session->token_sha256)
          .text(2, new_session->admin_id)
          .text(3, new_session->csrf_sha256)
          .integer(4, new_session->created_at)
          .integer(5, new_session->last_seen_at)
          .integer(6, new_session->expires_at)
          .run();
    }
    return true;
  });
}

std::optional<core::AdminSession> SqliteStore::find_session(std::string_view token_sha256) {
  constexpr std::string_view kOperation = "find_session";
  std::optional<core::AdminSession> out;
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    const auto statement = prepare(db, kFindSession, kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, token_sha256);
    if (query.step()) {
      const Row r(query);
      out = core::AdminSession{r.text("token_sha256"),    r.text("admin_id"),
                               r.text("csrf_sha256"),     r.integer("created_at"),
                               r.integer("last_seen_at"), r.integer("expires_at")};
    }
    return true;
  });
  return out;
}

void SqliteStore::touch_session(std::string_view token_sha256, core::UnixMillis last_seen_at) {
  constexpr std::string_view kOperation = "touch_session";
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    const auto statement = prepare(db, kTouchSession, kOperation, false);
    Query(db, statement, kOperation).text(1, token_sha256).integer(2, last_seen_at).run();
    return true;
  });
}

bool SqliteStore::delete_session(std::string_view token_sha256, const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "delete_session";
  return on_connection(kOperation, &audit, [&](sqlite3* db) {
    const auto statement = prepare(db, kDeleteSession, kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, token_sha256);
    const bool removed = query.step();
    if (removed) query.run();
    return removed;
  });
}

}  // namespace pg::store
