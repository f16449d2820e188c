// core::CitizenStore on PostgresStore: accounts, sign-in codes, refresh-token families and the
// right to delete (migration 0012).
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_store.hpp"

namespace pg::store {

namespace {
using postgres::Connection;
using postgres::Params;
using postgres::Result;
using postgres::Statement;

constexpr Statement kFindCitizen{
    "citizen_find", "SELECT id, phone_mac, language, created_at FROM users WHERE id = $1", true};
constexpr Statement kFindCitizenByPhone{
    "citizen_find_by_phone",
    "SELECT id, phone_mac, language, created_at FROM users WHERE phone_mac = $1", true};
constexpr Statement kInsertCitizen{"citizen_insert", R"sql(
  INSERT INTO users (id, phone_mac, language, created_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (phone_mac) DO NOTHING)sql",
                                   true};
constexpr Statement kSetLanguage{"citizen_set_language",
                                 "UPDATE users SET language = $2 WHERE id = $1 RETURNING 1", true};
constexpr Statement kSignInCode{"citizen_sign_in_code", R"sql(
  SELECT phone_mac, coalesce(code_mac, ''), expires_at, wrong, locked_until FROM account_codes
  WHERE phone_mac = $1)sql",
                                true};
constexpr Statement kSaveSignInCode{"citizen_save_sign_in_code", R"sql(
  INSERT INTO account_codes (phone_mac, code_mac, expires_at, wrong, locked_until)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (phone_mac) DO UPDATE SET code_mac = excluded.code_mac,
    expires_at = excluded.expires_at, wrong = excluded.wrong,
    locked_until = excluded.locked_until)sql",
                                    true};
// A new code keeps the attempts counted unless the last code expired before $5; nothing is
// written while the phone is locked (the conflicting row's lock is taken and re-checked).
constexpr Statement kIssueSignInCode{"citizen_issue_sign_in_code", R"sql(
  INSERT INTO account_codes (phone_mac, code_mac, expires_at, wrong, locked_until)
  VALUES ($1, $2, $3, 0, 0)
  ON CONFLICT (phone_mac) DO UPDATE SET code_mac = excluded.code_mac,
    expires_at = excluded.expires_at,
    wrong = CASE WHEN account_codes.expires_at <= $5 THEN 0 ELSE account_codes.wrong END
  WHERE account_codes.locked_until <= $4
  RETURNING 1)sql",
                                     true};
// Rows that count nothing any more, a bounded number at a time (SKIP LOCKED: never waits).
constexpr Statement kPruneCodes{"citizen_prune_codes", R"sql(
  DELETE FROM account_codes WHERE phone_mac IN (
    SELECT phone_mac FROM account_codes WHERE expires_at <= $1 AND locked_until <= $2
    LIMIT 100 FOR UPDATE SKIP LOCKED))sql",
                                true};
constexpr Statement kPruneLinks{"citizen_prune_links",
                                "DELETE FROM account_links WHERE expires_at <= $1", true};
constexpr Statement kInsertLink{"citizen_insert_link", R"sql(
  INSERT INTO account_links (hash, user_id, nonce, expires_at) VALUES ($1, $2, $3, $4))sql",
                                true};
constexpr Statement kTakeLink{"citizen_take_link", R"sql(
  DELETE FROM account_links WHERE hash = $1 AND nonce = $2 AND expires_at > $3
  RETURNING user_id)sql",
                              true};
constexpr Statement kDeleteLinks{"citizen_delete_links",
                                 "DELETE FROM account_links WHERE user_id = $1", true};
constexpr Statement kDeleteCodes{"citizen_delete_codes", R"sql(
  DELETE FROM account_codes WHERE phone_mac = (SELECT phone_mac FROM users WHERE id = $1))sql",
                                 true};
constexpr Statement kTakeCodeAttempt{"citizen_take_code_attempt", R"sql(
  UPDATE account_codes SET wrong = wrong + 1
  WHERE phone_mac = $1 AND code_mac IS NOT NULL AND expires_at > $2 AND locked_until <= $2
    AND wrong < $3
  RETURNING phone_mac, coalesce(code_mac, ''), expires_at, wrong, locked_until)sql",
                                     true};
constexpr Statement kSpendCode{"citizen_spend_code", R"sql(
  UPDATE account_codes SET code_mac = NULL, wrong = 0 WHERE phone_mac = $1 AND code_mac = $2
  RETURNING 1)sql",
                               true};
constexpr Statement kInsertRefresh{"citizen_insert_refresh", R"sql(
  INSERT INTO refresh_tokens (hash, family_id, user_id, issued_at, expires_at)
  VALUES ($1, $2, $3, $4, $5))sql",
                                   true};
constexpr Statement kRefreshFamily{"citizen_refresh_family",
                                   "SELECT family_id FROM refresh_tokens WHERE hash = $1", true};
// Every rotation and revocation of one family queues on this transaction lock, so a statement run
// after it sees every token the family's earlier rotations inserted (READ COMMITTED takes a fresh
// snapshot per statement): a reuse revokes them all, and a rotation behind it finds its token
// revoked. The two-key form keeps these apart from single-key advisory locks.
constexpr Statement kLockFamily{"citizen_lock_family",
                                "SELECT pg_advisory_xact_lock(1668573813, hashtext($1))", true};
// FOR UPDATE: two rotations of one token at once are one rotation and one reuse.
constexpr Statement kFindRefresh{"citizen_find_refresh", R"sql(
  SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens
  WHERE hash = $1 FOR UPDATE)sql",
                                 true};
constexpr Statement kUseRefresh{"citizen_use_refresh",
                                "UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1", true};
constexpr Statement kRevokeFamily{"citizen_revoke_family", R"sql(
  UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL)sql",
                                  true};
constexpr Statement kCitizenProofs{"citizen_proofs", R"sql(
  SELECT p.id, c.name, p.claim_type, p.status, p.verified_at FROM proofs p
  JOIN api_clients c ON c.id = p.verifier_id
  WHERE p.user_id = $1 AND p.status = 'verified'
  ORDER BY p.created_at DESC, p.id LIMIT $2)sql",
                                   true};
constexpr Statement kLockCitizen{"citizen_lock", "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
                                 true};
constexpr Statement kAffectedProofs{"citizen_affected_proofs", R"sql(
  SELECT p.verifier_id, p.id, c.mode FROM proofs p JOIN api_clients c ON c.id = p.verifier_id
  WHERE p.user_id = $1 AND coalesce(c.webhook_url, '') <> ''
  ORDER BY p.verifier_id, p.created_at, p.id)sql",
                                    true};
constexpr Statement kUnlinkProofs{"citizen_unlink_proofs",
                                  "UPDATE proofs SET user_id = NULL WHERE user_id = $1", true};
constexpr Statement kDeleteRefresh{"citizen_delete_refresh",
                                   "DELETE FROM refresh_tokens WHERE user_id = $1", true};
constexpr Statement kDeleteCitizen{"citizen_delete", "DELETE FROM users WHERE id = $1", true};

std::optional<core::Citizen> citizen_of(const Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return core::Citizen{r.text(0, 0), r.text(0, 1), r.text(0, 2), r.integer(0, 3)};
}
}  // namespace

std::optional<core::Citizen> PostgresStore::find_citizen(std::string_view id) {
  constexpr std::string_view kOperation = "find_citizen";
  std::optional<core::Citizen> out;
  on_connection(kOperation, nullptr, [&](Connection& c) {
    out = citizen_of(c.run(kFindCitizen, Params().text(id), kOperation));
    return true;
  });
  return out;
}

std::optional<core::Citizen> PostgresStore::find_citizen_by_phone(std::string_view phone_mac) {
  constexpr std::string_view kOperation = "find_citizen_by_phone";
  std::optional<core::Citizen> out;
  on_connection(kOperation, nullptr, [&](Connection& c) {
    out = citizen_of(c.run(kFindCitizenByPhone, Params().text(phone_mac), kOperation));
    return true;
  });
  return out;
}

core::Citizen PostgresStore::find_or_create_citizen(const core::Citizen& fresh) {
  constexpr std::string_view kOperation = "find_or_create_citizen";
  std::optional<core::Citizen> out;
  with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    c.run(kInsertCitizen,
          Params()
              .text(fresh.id)
              .text(fresh.phone_mac)
              .text(fresh.language)
              .integer(fresh.created_at),
          kOperation);
    out = citizen_of(c.run(kFindCitizenByPhone, Params().text(fresh.phone_mac), kOperation));
    return true;
  });
  if (!out) throw core::StoreError("find_or_create_citizen: the account was not stored");
  return *out;
}

bool PostgresStore::set_citizen_language(std::string_view id, std::string_view language) {
  constexpr std::string_view kOperation = "set_citizen_language";
  return with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    return c.run(kSetLanguage, Params().text(id).text(language), kOperation).rows() > 0;
  });
}

std::optional<core::SignInCode> PostgresStore::sign_in_code(std::string_view phone_mac) {
  constexpr std::string_view kOperation = "sign_in_code";
  std::optional<core::SignInCode> out;
  on_connection(kOperation, nullptr, [&](Connection& c) {
    const Result r = c.run(kSignInCode, Params().text(phone_mac), kOperation);
    if (r.rows() == 0) return true;
    out = core::SignInCode{r.text(0, 0), r.text(0, 1), r.integer(0, 2),
                           static_cast<int>(r.integer(0, 3)), r.integer(0, 4)};
    return true;
  });
  return out;
}

PostgresStore::CodeAttempt PostgresStore::take_code_attempt(std::string_view phone_mac,
                                                            core::UnixMillis now,
                                                            int max_attempts) {
  constexpr std::string_view kOperation = "take_code_attempt";
  CodeAttempt out;
  const auto state_of = [](const Result& r) {
    return core::SignInCode{r.text(0, 0), r.text(0, 1), r.integer(0, 2),
                            static_cast<int>(r.integer(0, 3)), r.integer(0, 4)};
  };
  with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    // The row lock the UPDATE takes serialises concurrent attempts: each sees the last count.
    const Result taken = c.run(
        kTakeCodeAttempt, Params().text(phone_mac).integer(now).integer(max_attempts), kOperation);
    if (taken.rows() > 0) {
      out.taken = true;
      out.state = state_of(taken);
      return true;
    }
    const Result r = c.run(kSignInCode, Params().text(phone_mac), kOperation);
    if (r.rows() > 0) out.state = state_of(r);
    return true;
  });
  return out;
}

bool PostgresStore::spend_sign_in_code(std::string_view phone_mac, std::string_view code_mac) {
  constexpr std::string_view kOperation = "spend_sign_in_code";
  return with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    return c.run(kSpendCode, Params().text(phone_mac).text(code_mac), kOperation).rows() > 0;
  });
}

void PostgresStore::save_sign_in_code(const core::SignInCode& code) {
  constexpr std::string_view kOperation = "save_sign_in_code";
  with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    c.run(kSaveSignInCode,
          Params()
              .text(code.phone_mac)
              .nullable_text(code.code_mac)
              .integer(code.expires_at)
              .integer(code.wrong)
              .integer(code.locked_until),
          kOperation);
    return true;
  });
}

bool PostgresStore::issue_sign_in_code(std::string_view phone_mac, std::string_view code_mac,
                                       core::UnixMillis expires_at, core::UnixMillis now,
                                       core::UnixMillis forget_before) {
  constexpr std::string_view kOperation = "issue_sign_in_code";
  return with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    c.run(kPruneCodes, Params().integer(forget_before).integer(now), kOperation);
    return c.run(kIssueSignInCode,
                 Params()
                     .text(phone_mac)
                     .text(code_mac)
                     .integer(expires_at)
                     .integer(now)
                     .integer(forget_before),
                 kOperation)
               .rows() > 0;
  });
}

void PostgresStore::insert_account_link(const core::AccountLink& link, core::UnixMillis now) {
  constexpr std::string_view kOperation = "insert_account_link";
  with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    c.run(kPruneLinks, Params().integer(now), kOperation);
    c.run(kInsertLink,
          Params().text(link.hash).text(link.user_id).text(link.nonce).integer(link.expires_at),
          kOperation);
    return true;
  });
}

std::optional<std::string> PostgresStore::take_account_link(std::string_view hash,
                                                            std::string_view nonce,
                                                            core::UnixMillis now) {
  constexpr std::string_view kOperation = "take_account_link";
  std::optional<std::string> out;
  with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    const Result r = c.run(kTakeLink, Params().text(hash).text(nonce).integer(now), kOperation);
    if (r.rows() > 0) out = r.text(0, 0);
    return true;
  });
  return out;
}

void PostgresStore::insert_refresh_token(const core::RefreshToken& token) {
  constexpr std::string_view kOperation = "insert_refresh_token";
  with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    c.run(kInsertRefresh,
          Params()
              .text(token.hash)
              .text(token.family_id)
              .text(token.user_id)
              .integer(token.issued_at)
              .integer(token.expires_at),
          kOperation);
    return true;
  });
}

core::RefreshOutcome PostgresStore::rotate_refresh_token(std::string_view hash,
                                                         core::UnixMillis now,
                                                         core::RefreshToken& next) {
  constexpr std::string_view kOperation = "rotate_refresh_token";
  auto outcome = core::RefreshOutcome::kUnknown;
  with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
    const Result f = c.run(kRefreshFamily, Params().text(hash), kOperation);
    if (f.rows() == 0) return true;
    c.run(kLockFamily, Params().text(f.text(0, 0)), kOperation);
    const Result r = c.run(kFindRefresh, Params().text(hash), kOperation);
    if (r.rows() == 0) return true;
    const std::string family = r.text(0, 0);
    const std::string user = r.text(0, 1);
    next.user_id = user;
    if (!r.is_null(0, 4)) {
      outcome = core::RefreshOutcome::kRevoked;
    } else if (!r.is_null(0, 3)) {
      c.run(kRevokeFamily, Params().text(family).integer(now), kOperation);
      outcome = core::RefreshOutcome::kReused;
    } else if (r.integer(0, 2) <= now) {
      outcome = core::RefreshOutcome::kExpired;
    } else {
      c.run(kUseRefresh, Params().text(hash).integer(now), kOperation);
      next.family_id = family;
      next.user_id = user;
      c.run(kInsertRefresh,
            Params()
                .text(next.hash)
                .text(next.family_id)
                .text(next.user_id)
                .integer(next.issued_at)
                .integer(next.expires_at),
            kOperation);
      outcome = core::RefreshOutcome::kRotated;
    }
    return true;
  });
  return outcome;
}

std::vector<core::LinkedProof> PostgresStore::citizen_proofs(std::string_view user_id,
                                                             std::size_t limit) {
  constexpr std::string_view kOperation = "citizen_proofs";
  std::vector<core::LinkedProof> out;
  on_connection(kOperation, nullptr, [&](Connection& c) {
    const Result r =
        c.run(kCitizenProofs, Params().text(user_id).integer(static_cast<std::int64_t>(limit)),
              kOperation);
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.integer(i, 4)});
    return true;
  });
  return out;
}

bool PostgresStore::delete_citizen(
    std::string_view user_id, core::UnixMillis now,
    const std::function<std::vector<core::OutboxEvent>(const std::vector<core::AffectedPartner>&)>&
        events,
    const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "delete_citizen";
  return with_connection(kOperation, true, [&](Connection& c, const SideWrites& side) {
    if (c.run(kLockCitizen, Params().text(user_id), kOperation).rows() == 0) return false;
    std::vector<core::AffectedPartner> partners;
    const Result r = c.run(kAffectedProofs, Params().text(user_id), kOperation);
    for (int i = 0; i < r.rows(); ++i) {
      std::string client_id = r.text(i, 0);
      if (partners.empty() || partners.back().client_id != client_id) {
        partners.push_back({std::move(client_id),
                            {},
                            r.text(i, 2) == "test" ? core::Mode::kTest : core::Mode::kLive});
      }
      partners.back().proof_ids.push_back(r.text(i, 1));
    }
    c.run(kUnlinkProofs, Params().text(user_id), kOperation);
    c.run(kDeleteRefresh, Params().text(user_id), kOperation);
    c.run(kDeleteLinks, Params().text(user_id), kOperation);
    c.run(kDeleteCodes, Params().text(user_id), kOperation);
    c.run(kDeleteCitizen, Params().text(user_id), kOperation);
    for (const core::OutboxEvent& e : events(partners)) side.event(e, now);
    side.audit(audit);
    return true;
  });
}

}  // namespace pg::store
