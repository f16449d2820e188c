// core::CitizenStore on SqliteStore: accounts, sign-in codes, refresh-token families and the
// right to delete (migration 0013). Statements are compiled per call: account routes are rare.
#include <sqlite3.h>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::store {

namespace {
using sqlite::prepare;
using sqlite::Query;
using sqlite::Row;

constexpr std::string_view kFindCitizen =
    "SELECT id, phone_mac, language, created_at FROM users WHERE id = ?1";
constexpr std::string_view kFindCitizenByPhone =
    "SELECT id, phone_mac, language, created_at FROM users WHERE phone_mac = ?1";
constexpr std::string_view kInsertCitizen = R"sql(
  INSERT INTO users (id, phone_mac, language, created_at) VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (phone_mac) DO NOTHING)sql";
constexpr std::string_view kSetLanguage = "UPDATE users SET language = ?2 WHERE id = ?1";
constexpr std::string_view kSignInCode = R"sql(
  SELECT phone_mac, code_mac, expires_at, wrong, locked_until FROM account_codes
  WHERE phone_mac = ?1)sql";
constexpr std::string_view kSaveSignInCode = R"sql(
  INSERT INTO account_codes (phone_mac, code_mac, expires_at, wrong, locked_until)
  VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (phone_mac) DO UPDATE SET code_mac = excluded.code_mac,
    expires_at = excluded.expires_at, wrong = excluded.wrong,
    locked_until = excluded.locked_until)sql";
// A new code keeps the attempts counted unless the last code expired before ?5; nothing is
// written while the phone is locked.
constexpr std::string_view kIssueSignInCode = R"sql(
  INSERT INTO account_codes (phone_mac, code_mac, expires_at, wrong, locked_until)
  VALUES (?1, ?2, ?3, 0, 0)
  ON CONFLICT (phone_mac) DO UPDATE SET code_mac = excluded.code_mac,
    expires_at = excluded.expires_at,
    wrong = CASE WHEN account_codes.expires_at <= ?5 THEN 0 ELSE account_codes.wrong END
  WHERE account_codes.locked_until <= ?4)sql";
// Rows that count nothing any more, a bounded number at a time.
constexpr std::string_view kPruneCodes = R"sql(
  DELETE FROM account_codes WHERE phone_mac IN (
    SELECT phone_mac FROM account_codes WHERE expires_at <= ?1 AND locked_until <= ?2 LIMIT 100))sql";
constexpr std::string_view kPruneLinks = "DELETE FROM account_links WHERE expires_at <= ?1";
constexpr std::string_view kInsertLink = R"sql(
  INSERT INTO account_links (hash, user_id, nonce, expires_at) VALUES (?1, ?2, ?3, ?4))sql";
constexpr std::string_view kTakeLink = R"sql(
  DELETE FROM account_links WHERE hash = ?1 AND nonce = ?2 AND expires_at > ?3
  RETURNING user_id)sql";
constexpr std::string_view kDeleteLinks = "DELETE FROM account_links WHERE user_id = ?1";
constexpr std::string_view kDeleteCodes = R"sql(
  DELETE FROM account_codes WHERE phone_mac = (SELECT phone_mac FROM users WHERE id = ?1))sql";
constexpr std::string_view kTakeCodeAttempt = R"sql(
  UPDATE account_codes SET wrong = wrong + 1
  WHERE phone_mac = ?1 AND code_mac IS NOT NULL AND expires_at > ?2 AND locked_until <= ?2
    AND wrong < ?3)sql";
constexpr std::string_view kSpendCode = R"sql(
  UPDATE account_codes SET code_mac = NULL, wrong = 0 WHERE phone_mac = ?1 AND code_mac = ?2)sql";
constexpr std::string_view kInsertRefresh = R"sql(
  INSERT INTO refresh_tokens (hash, family_id, user_id, issued_at, expires_at)
  VALUES (?1, ?2, ?3, ?4, ?5))sql";
constexpr std::string_view kFindRefresh = R"sql(
  SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens
  WHERE hash = ?1)sql";
constexpr std::string_view kUseRefresh = "UPDATE refresh_tokens SET used_at = ?2 WHERE hash = ?1";
constexpr std::string_view kRevokeFamily = R"sql(
  UPDATE refresh_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL)sql";
constexpr std::string_view kCitizenProofs = R"sql(
  SELECT p.id, c.name, p.claim_type, p.status, p.verified_at FROM proofs p
  JOIN api_clients c ON c.id = p.verifier_id
  WHERE p.user_id = ?1 AND p.status = 'verified'
  ORDER BY p.created_at DESC, p.id LIMIT ?2)sql";
constexpr std::string_view kAffectedProofs = R"sql(
  SELECT p.verifier_id, p.id, c.mode FROM proofs p JOIN api_clients c ON c.id = p.verifier_id
  WHERE p.user_id = ?1 AND coalesce(c.webhook_url, '') <> ''
  ORDER BY p.verifier_id, p.created_at, p.id)sql";
constexpr std::string_view kUnlinkProofs = "UPDATE proofs SET user_id = NULL WHERE user_id = ?1";
constexpr std::string_view kDeleteRefresh = "DELETE FROM refresh_tokens WHERE user_id = ?1";
constexpr std::string_view kDeleteCitizen = "DELETE FROM users WHERE id = ?1";

std::optional<core::Citizen> read_citizen(sqlite3* db, std::string_view sql, std::string_view key,
                                          std::string_view operation) {
  const auto statement = prepare(db, sql, operation, false);
  Query query(db, statement, operation);
  if (!query.text(1, key).step()) return std::nullopt;
  const Row r(query);
  return core::Citizen{r.text("id"), r.text("phone_mac"), r.text("language"),
                       r.integer("created_at")};
}

void run(sqlite3* db, std::string_view sql, std::string_view operation, std::string_view key,
         std::optional<core::UnixMillis> at = std::nullopt) {
  const auto statement = prepare(db, sql, operation, false);
  Query query(db, statement, operation);
  query.text(1, key);
  if (at) query.integer(2, *at);
  query.run();
}
}  // namespace

std::optional<core::Citizen> SqliteStore::find_citizen(std::string_view id) {
  constexpr std::string_view kOperation = "find_citizen";
  std::optional<core::Citizen> out;
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    out = read_citizen(db, kFindCitizen, id, kOperation);
    return true;
  });
  return out;
}

std::optional<core::Citizen> SqliteStore::find_citizen_by_phone(std::string_view phone_mac) {
  constexpr std::string_view kOperation = "find_citizen_by_phone";
  std::optional<core::Citizen> out;
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    out = read_citizen(db, kFindCitizenByPhone, phone_mac, kOperation);
    return true;
  });
  return out;
}

core::Citizen SqliteStore::find_or_create_citizen(const core::Citizen& fresh) {
  constexpr std::string_view kOperation = "find_or_create_citizen";
  std::optional<core::Citizen> out;
  with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kInsertCitizen, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, fresh.id)
        .text(2, fresh.phone_mac)
        .text(3, fresh.language)
        .integer(4, fresh.created_at)
        .run();
    out = read_citizen(db, kFindCitizenByPhone, fresh.phone_mac, kOperation);
    return true;
  });
  if (!out) throw core::StoreError("find_or_create_citizen: the account was not stored");
  return *out;
}

bool SqliteStore::set_citizen_language(std::string_view id, std::string_view language) {
  constexpr std::string_view kOperation = "set_citizen_language";
  return with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kSetLanguage, kOperation, false);
    Query(db, statement, kOperation).text(1, id).text(2, language).run();
    return sqlite3_changes(db) > 0;
  });
}

std::optional<core::SignInCode> SqliteStore::sign_in_code(std::string_view phone_mac) {
  constexpr std::string_view kOperation = "sign_in_code";
  std::optional<core::SignInCode> out;
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    const auto statement = prepare(db, kSignInCode, kOperation, false);
    Query query(db, statement, kOperation);
    if (!query.text(1, phone_mac).step()) return true;
    const Row r(query);
    out = core::SignInCode{r.text("phone_mac"), r.text("code_mac"), r.integer("expires_at"),
                           static_cast<int>(r.integer("wrong")), r.integer("locked_until")};
    return true;
  });
  return out;
}

SqliteStore::CodeAttempt SqliteStore::take_code_attempt(std::string_view phone_mac,
                                                        core::UnixMillis now, int max_attempts) {
  constexpr std::string_view kOperation = "take_code_attempt";
  CodeAttempt out;
  with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    {
      const auto statement = prepare(db, kTakeCodeAttempt, kOperation, false);
      Query(db, statement, kOperation)
          .text(1, phone_mac)
          .integer(2, now)
          .integer(3, max_attempts)
          .run();
      out.taken = sqlite3_changes(db) > 0;
    }
    const auto statement = prepare(db, kSignInCode, kOperation, false);
    Query query(db, statement, kOperation);
    if (query.text(1, phone_mac).step()) {
      const Row r(query);
      out.state = core::SignInCode{r.text("phone_mac"), r.text("code_mac"), r.integer("expires_at"),
                                   static_cast<int>(r.integer("wrong")), r.integer("locked_until")};
    }
    return true;
  });
  return out;
}

bool SqliteStore::spend_sign_in_code(std::string_view phone_mac, std::string_view code_mac) {
  constexpr std::string_view kOperation = "spend_sign_in_code";
  return with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kSpendCode, kOperation, false);
    Query(db, statement, kOperation).text(1, phone_mac).text(2, code_mac).run();
    return sqlite3_changes(db) > 0;
  });
}

void SqliteStore::save_sign_in_code(const core::SignInCode& code) {
  constexpr std::string_view kOperation = "save_sign_in_code";
  with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kSaveSignInCode, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, code.phone_mac)
        .nullable_text(2, code.code_mac)
        .integer(3, code.expires_at)
        .integer(4, code.wrong)
        .integer(5, code.locked_until)
        .run();
    return true;
  });
}

bool SqliteStore::issue_sign_in_code(std::string_view phone_mac, std::string_view code_mac,
                                     core::UnixMillis expires_at, core::UnixMillis now,
                                     core::UnixMillis forget_before) {
  constexpr std::string_view kOperation = "issue_sign_in_code";
  return with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    {
      const auto statement = prepare(db, kPruneCodes, kOperation, false);
      Query(db, statement, kOperation).integer(1, forget_before).integer(2, now).run();
    }
    const auto statement = prepare(db, kIssueSignInCode, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, phone_mac)
        .text(2, code_mac)
        .integer(3, expires_at)
        .integer(4, now)
        .integer(5, forget_before)
        .run();
    return sqlite3_changes(db) > 0;
  });
}

void SqliteStore::insert_account_link(const core::AccountLink& link, core::UnixMillis now) {
  constexpr std::string_view kOperation = "insert_account_link";
  with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    {
      const auto statement = prepare(db, kPruneLinks, kOperation, false);
      Query(db, statement, kOperation).integer(1, now).run();
    }
    const auto statement = prepare(db, kInsertLink, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, link.hash)
        .text(2, link.user_id)
        .text(3, link.nonce)
        .integer(4, link.expires_at)
        .run();
    return true;
  });
}

std::optional<std::string> SqliteStore::take_account_link(std::string_view hash,
                                                          std::string_view nonce,
                                                          core::UnixMillis now) {
  constexpr std::string_view kOperation = "take_account_link";
  std::optional<std::string> out;
  with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kTakeLink, kOperation, false);
    Query query(db, statement, kOperation);
    if (query.text(1, hash).text(2, nonce).integer(3, now).step()) out = Row(query).text("user_id");
    return true;
  });
  return out;
}

void SqliteStore::insert_refresh_token(const core::RefreshToken& token) {
  constexpr std::string_view kOperation = "insert_refresh_token";
  with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    const auto statement = prepare(db, kInsertRefresh, kOperation, false);
    Query(db, statement, kOperation)
        .text(1, token.hash)
        .text(2, token.family_id)
        .text(3, token.user_id)
        .integer(4, token.issued_at)
        .integer(5, token.expires_at)
        .run();
    return true;
  });
}

core::RefreshOutcome SqliteStore::rotate_refresh_token(std::string_view hash, core::UnixMillis now,
                                                       core::RefreshToken& next) {
  constexpr std::string_view kOperation = "rotate_refresh_token";
  auto outcome = core::RefreshOutcome::kUnknown;
  with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
    core::RefreshToken old;
    {
      const auto statement = prepare(db, kFindRefresh, kOperation, false);
      Query query(db, statement, kOperation);
      if (!query.text(1, hash).step()) return true;
      const Row r(query);
      old.family_id = r.text("family_id");
      old.user_id = r.text("user_id");
      old.expires_at = r.integer("expires_at");
      old.used_at = r.is_null("used_at") ? 0 : r.integer("used_at");
      old.revoked_at = r.is_null("revoked_at") ? 0 : r.integer("revoked_at");
    }
    next.user_id = old.user_id;
    if (old.revoked_at != 0) {
      outcome = core::RefreshOutcome::kRevoked;
    } else if (old.used_at != 0) {
      run(db, kRevokeFamily, kOperation, old.family_id, now);
      outcome = core::RefreshOutcome::kReused;
    } else if (old.expires_at <= now) {
      outcome = core::RefreshOutcome::kExpired;
    } else {
      run(db, kUseRefresh, kOperation, hash, now);
      next.family_id = old.family_id;
      next.user_id = old.user_id;
      const auto statement = prepare(db, kInsertRefresh, kOperation, false);
      Query(db, statement, kOperation)
          .text(1, next.hash)
          .text(2, next.family_id)
          .text(3, next.user_id)
          .integer(4, next.issued_at)
          .integer(5, next.expires_at)
          .run();
      outcome = core::RefreshOutcome::kRotated;
    }
    return true;
  });
  return outcome;
}

std::vector<core::LinkedProof> SqliteStore::citizen_proofs(std::string_view user_id,
                                                           std::size_t limit) {
  constexpr std::string_view kOperation = "citizen_proofs";
  std::vector<core::LinkedProof> out;
  on_connection(kOperation, nullptr, [&](sqlite3* db) {
    const auto statement = prepare(db, kCitizenProofs, kOperation, false);
    Query query(db, statement, kOperation);
    query.text(1, user_id).integer(2, static_cast<std::int64_t>(limit));
    while (query.step()) {
      const Row r(query);
      out.push_back({r.text("id"), r.text("name"), r.text("claim_type"), r.text("status"),
                     r.integer("verified_at")});
    }
    return true;
  });
  return out;
}

bool SqliteStore::delete_citizen(
    std::string_view user_id, core::UnixMillis now,
    const std::function<std::vector<core::OutboxEvent>(const std::vector<core::AffectedPartner>&)>&
        events,
    const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "delete_citizen";
  return with_connection(kOperation, true, [&](sqlite3* db, const SideWrites& side) {
    if (!read_citizen(db, kFindCitizen, user_id, kOperation)) return false;
    std::vector<core::AffectedPartner> partners;
    {
      const auto statement = prepare(db, kAffectedProofs, kOperation, false);
      Query query(db, statement, kOperation);
      query.text(1, user_id);
      while (query.step()) {
        const Row r(query);
        std::string client_id = r.text("verifier_id");
        if (partners.empty() || partners.back().client_id != client_id) {
          partners.push_back({std::move(client_id),
                              {},
                              r.text("mode") == "test" ? core::Mode::kTest : core::Mode::kLive});
        }
        partners.back().proof_ids.push_back(r.text("id"));
      }
    }
    run(db, kUnlinkProofs, kOperation, user_id);
    run(db, kDeleteRefresh, kOperation, user_id);
    run(db, kDeleteLinks, kOperation, user_id);
    run(db, kDeleteCodes, kOperation, user_id);
    run(db, kDeleteCitizen, kOperation, user_id);
    for (const core::OutboxEvent& e : events(partners)) side.event(e, now);
    side.audit(audit);
    return true;
  });
}

}  // namespace pg::store
