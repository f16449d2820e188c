// core::AccountStore on PostgresStore: admin accounts and sessions (migration 0007).
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_store.hpp"

namespace pg::store {

namespace {
using postgres::Connection;
using postgres::Params;
using postgres::Result;
using postgres::Statement;

// Column order of every account SELECT (account_from_row reads by position).
constexpr Statement kFindAdmin{"account_find", R"sql(
  SELECT id, email, role, status, password_hash, totp_secret_sealed, totp_algorithm,
    totp_last_step, failed_sign_ins, locked_until, enrolment_sha256, enrolment_expires_at,
    created_at, version FROM admin_accounts WHERE id = $1)sql",
                               true};
constexpr Statement kFindAdminByEmail{"account_find_by_email", R"sql(
  SELECT id, email, role, status, password_hash, totp_secret_sealed, totp_algorithm,
    totp_last_step, failed_sign_ins, locked_until, enrolment_sha256, enrolment_expires_at,
    created_at, version FROM admin_accounts WHERE email = $1)sql",
                                      true};
constexpr Statement kFindAdminByEnrolment{"account_find_by_enrolment", R"sql(
  SELECT id, email, role, status, password_hash, totp_secret_sealed, totp_algorithm,
    totp_last_step, failed_sign_ins, locked_until, enrolment_sha256, enrolment_expires_at,
    created_at, version FROM admin_accounts WHERE enrolment_sha256 = $1)sql",
                                          true};
constexpr Statement kListAdmins{"account_list", R"sql(
  SELECT id, email, role, status, password_hash, totp_secret_sealed, totp_algorithm,
    totp_last_step, failed_sign_ins, locked_until, enrolment_sha256, enrolment_expires_at,
    created_at, version FROM admin_accounts ORDER BY created_at, id)sql",
                                true};
constexpr Statement kInsertAdmin{"account_insert", R"sql(
  INSERT INTO admin_accounts (id, email, role, status, password_hash, totp_secret_sealed,
    totp_algorithm, totp_last_step, failed_sign_ins, locked_until, enrolment_sha256,
    enrolment_expires_at, created_at, version)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0)
  ON CONFLICT (email) DO NOTHING RETURNING id)sql",
                                 true};
constexpr Statement kUpdateAdmin{"account_update", R"sql(
  UPDATE admin_accounts SET role = $3, status = $4, password_hash = $5, totp_secret_sealed = $6,
    totp_algorithm = $7, totp_last_step = $8, failed_sign_ins = $9, locked_until = $10,
    enrolment_sha256 = $11, enrolment_expires_at = $12, version = version + 1
  WHERE id = $1 AND version = $2 RETURNING id)sql",
                                 true};
constexpr Statement kInsertSession{"account_insert_session", R"sql(
  INSERT INTO admin_sessions (token_sha256, admin_id, csrf_sha256, created_at, last_seen_at,
    expires_at) VALUES ($1, $2, $3, $4, $5, $6))sql",
                                   true};
constexpr Statement kDeleteAdminSessions{"account_delete_sessions",
                                         "DELETE FROM admin_sessions WHERE admin_id = $1", true};
constexpr Statement kDeleteExpiredSessions{
    "account_delete_expired_sessions",
    "DELETE FROM admin_sessions WHERE admin_id = $1 AND expires_at <= $2", true};
constexpr Statement kFindSession{"account_find_session", R"sql(
  SELECT token_sha256, admin_id, csrf_sha256, created_at, last_seen_at, expires_at
  FROM admin_sessions WHERE token_sha256 = $1)sql",
                                 true};
constexpr Statement kTouchSession{"account_touch_session", R"sql(
  UPDATE admin_sessions SET last_seen_at = greatest(last_seen_at, $2)
  WHERE token_sha256 = $1)sql",
                                  true};
constexpr Statement kDeleteSession{"account_delete_session",
                                   "DELETE FROM admin_sessions WHERE token_sha256 = $1 RETURNING 1",
                                   true};

std::vector<core::AdminAccount> accounts(const Result& r) {
  std::vector<core::AdminAccount> out;
  for (int i = 0; i < r.rows(); ++i) {
    core::AdminAccount a;
    a.id = r.text(i, 0);
    a.email = r.text(i, 1);
    a.role = r.text(i, 2);
    a.status = r.text(i, 3);
    a.password_hash = r.text(i, 4);
    a.totp_secret_sealed = r.bytes(i, 5);
    a.totp_algorithm = r.text(i, 6);
    a.totp_last_step = r.integer(i, 7);
    a.failed_sign_ins = r.integer(i, 8);
    a.locked_until = r.integer(i, 9);
    a.enrolment_sha256 = r.text(i, 10);
    a.enrolment_expires_at = r.integer(i, 11);
    a.created_at = r.integer(i, 12);
    a.version = r.integer(i, 13);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

bool PostgresStore::create_admin(const core::AdminAccount& a, const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "create_admin";
  return on_connection(kOperation, &audit, [&](Connection& c) {
    Params p;
    p.text(a.id)
        .text(a.email)
        .text(a.role)
        .text(a.status)
        .nullable_text(a.password_hash)
        .nullable_bytes(a.totp_secret_sealed)
        .text(a.totp_algorithm)
        .integer(a.totp_last_step)
        .integer(a.failed_sign_ins)
        .integer(a.locked_until)
        .nullable_text(a.enrolment_sha256)
        .integer(a.enrolment_expires_at)
        .integer(a.created_at);
    return c.run(kInsertAdmin, p, kOperation).rows() == 1;
  });
}

std::optional<core::AdminAccount> PostgresStore::find_admin(std::string_view id) {
  std::vector<core::AdminAccount> rows;
  on_connection("find_admin", nullptr, [&](Connection& c) {
    rows = accounts(c.run(kFindAdmin, Params().text(id), "find_admin"));
    return true;
  });
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::optional<core::AdminAccount> PostgresStore::find_admin_by_email(std::string_view email) {
  std::vector<core::AdminAccount> rows;
  on_connection("find_admin_by_email", nullptr, [&](Connection& c) {
    rows = accounts(c.run(kFindAdminByEmail, Params().text(email), "find_admin_by_email"));
    return true;
  });
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::optional<core::AdminAccount> PostgresStore::find_admin_by_enrolment(
    std::string_view sha256_hex) {
  std::vector<core::AdminAccount> rows;
  on_connection("find_admin_by_enrolment", nullptr, [&](Connection& c) {
    rows = accounts(
        c.run(kFindAdminByEnrolment, Params().text(sha256_hex), "find_admin_by_enrolment"));
    return true;
  });
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<core::AdminAccount> PostgresStore::list_admins() {
  std::vector<core::AdminAccount> rows;
  on_connection("list_admins", nullptr, [&](Connection& c) {
    rows = accounts(c.run(kListAdmins, Params(), "list_admins"));
    return true;
  });
  return rows;
}

bool PostgresStore::update_admin(const core::AdminAccount& a, const core::AuditEntry& audit,
                                 const core::AdminSession* new_session) {
  constexpr std::string_view kOperation = "update_admin";
  return on_connection(kOperation, &audit, [&](Connection& c) {
    Params p;
    p.text(a.id).integer(a.version);
    p.text(a.role)
        .text(a.status)
        .nullable_text(a.password_hash)
        .nullable_bytes(a.totp_secret_sealed)
        .text(a.totp_algorithm)
        .integer(a.totp_last_step)
        .integer(a.failed_sign_ins)
        .integer(a.locked_until)
        .nullable_text(a.enrolment_sha256)
        .integer(a.enrolment_expires_at);
    if (c.run(kUpdateAdmin, p, kOperation).rows() != 1) return false;
    if (a.status == core::kAdminDisabled)
      c.run(kDeleteAdminSessions, Params().text(a.id), kOperation);
    if (new_session) {
      // The admin's sessions past their absolute expiry go when a new one comes.
      c.run(kDeleteExpiredSessions, Params().text(a.id).integer(new_session->created_at),
            kOperation);
      c.run(kInsertSession,
            Params()
                .text(new_session->token_sha256)
                .text(new_session->admin_id)
                .text(new_session->csrf_sha256)
                .integer(new_session->created_at)
                .integer(new_session->last_seen_at)
                .integer(new_session->expires_at),
            kOperation);
    }
    return true;
  });
}

std::optional<core::AdminSession> PostgresStore::find_session(std::string_view token_sha256) {
  constexpr std::string_view kOperation = "find_session";
  std::optional<core::AdminSession> out;
  on_connection(kOperation, nullptr, [&](Connection& c) {
    const Result r = c.run(kFindSession, Params().text(token_sha256), kOperation);
    if (r.rows() == 1) {
      out = core::AdminSession{r.text(0, 0),    r.text(0, 1),    r.text(0, 2),
                               r.integer(0, 3), r.integer(0, 4), r.integer(0, 5)};
    }
    return true;
  });
  return out;
}

void PostgresStore::touch_session(std::string_view token_sha256, core::UnixMillis last_seen_at) {
  constexpr std::string_view kOperation = "touch_session";
  on_connection(kOperation, nullptr, [&](Connection& c) {
    c.run(kTouchSession, Params().text(token_sha256).integer(last_seen_at), kOperation);
    return true;
  });
}

bool PostgresStore::delete_session(std::string_view token_sha256, const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "delete_session";
  return on_connection(kOperation, &audit, [&](Connection& c) {
    return c.run(kDeleteSession, Params().text(token_sha256), kOperation).rows() == 1;
  });
}

}  // namespace pg::store
