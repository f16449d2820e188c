// Admin accounts, enrolment, sign-in and sessions (see accounts.hpp).
#include "core/accounts.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace pg::core {

namespace json = boost::json;

namespace {

/// A lowercase address with one '@', something on both sides, printable ASCII without spaces.
std::optional<std::string> normal_email(std::string_view text) {
  if (text.size() < 3 || text.size() > 254) return std::nullopt;
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return std::nullopt;
    out.push_back(static_cast<char>(std::tolower(u)));
  }
  const auto at = out.find('@');
  if (at == 0 || at == std::string::npos || at + 1 == out.size() ||
      out.find('@', at + 1) != std::string::npos)
    return std::nullopt;
  return out;
}

std::string new_token(std::string_view prefix) {
  return std::string(prefix) + base64url(random_bytes(32));
}
}  // namespace

std::string token_sha256(std::string_view token) {
  return hex(sha256(token));
}

Actor admin_actor(const AdminAccount& account) {
  return {std::string(kActorAdminAccount), account.id,
          role_from_name(account.role).value_or(Role::kViewer)};
}

AccountService::AccountService(AccountStore& store, AuditStore& audit, const Clock& clock,
                               const MasterKey& master_key, AccountSettings settings)
    : store_(store),
      audit_(audit),
      clock_(clock),
      master_key_(master_key),
      s_(std::move(settings)),
      dummy_hash_(hash_password(base64url(random_bytes(16)), s_.password_cost)) {}

AuditEntry AccountService::entry(const Actor& actor, std::string_view action,
                                 std::string details) const {
  AuditEntry e;
  e.actor_type = actor.type;
  e.actor_id = actor.id;
  e.action = std::string(action);
  e.details_json = std::move(details);
  e.at = clock_.now_ms();
  return e;
}

Outcome<CreatedAdmin> AccountService::create_admin(const Actor& actor, std::string_view email,
                                                   std::string_view role) {
  const auto normal = normal_email(email);
  if (!normal) return invalid("email", "must be an email address (printable, one '@')");
  if (!role_from_name(role)) return invalid("role", "must be viewer, operator or approver");
  const UnixMillis now = clock_.now_ms();
  const std::string token = new_token("pge_");
  AdminAccount a;
  a.id = uuid_v4();
  a.email = *normal;
  a.role = std::string(role);
  a.status = std::string(kAdminInvited);
  a.enrolment_sha256 = token_sha256(token);
  a.enrolment_expires_at = now + s_.enrolment_ttl_ms;
  a.created_at = now;
  const std::string details =
      json::serialize(json::object{{"admin_id", a.id}, {"email", a.email}, {"role", a.role}});
  if (!store_.create_admin(a, entry(actor, "admin.created", details)))
    return ApiError{ErrorCode::kConflict, "email", "an admin with this email exists"};
  std::string base = s_.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return CreatedAdmin{a, base + "/console/enrol#token=" + token};
}

std::vector<AdminAccount> AccountService::list_admins() {
  return store_.list_admins();
}

std::optional<AdminAccount> AccountService::find(std::string_view who) {
  return is_uuid(who) ? store_.find_admin(who)
                      : store_.find_admin_by_email(normal_email(who).value_or(""));
}

Outcome<AdminAccount> AccountService::disable_admin(const Actor& actor, std::string_view who) {
  auto a = find(who);
  if (!a) return ApiError{ErrorCode::kNotFound, "admin", "no admin with this id or email"};
  if (a->status == kAdminDisabled) return *a;
  a->status = std::string(kAdminDisabled);
  a->enrolment_sha256.clear();
  const std::string details = json::serialize(json::object{{"admin_id", a->id}});
  if (!store_.update_admin(*a, entry(actor, "admin.disabled", details), nullptr))
    return ApiError{ErrorCode::kConflict, "admin", "the account changed meanwhile; try again"};
  ++a->version;
  return *a;
}

Outcome<AdminAccount> AccountService::unlock_admin(const Actor& actor, std::string_view who) {
  auto a = find(who);
  if (!a) return ApiError{ErrorCode::kNotFound, "admin", "no admin with this id or email"};
  const json::object d{{"admin_id", a->id},
                       {"failures", a->failed_sign_ins},
                       {"was_locked", a->locked_until > clock_.now_ms()}};
  a->failed_sign_ins = 0;
  a->locked_until = 0;
  if (!store_.update_admin(*a, entry(actor, "admin.unlocked", json::serialize(d)), nullptr))
    return ApiError{ErrorCode::kConflict, "admin", "the account changed meanwhile; try again"};
  ++a->version;
  return *a;
}

std::optional<AdminAccount> AccountService::enrolling(std::string_view token) {
  if (token.empty() || token.size() > 200) return std::nullopt;
  auto a = store_.find_admin_by_enrolment(token_sha256(token));
  if (!a || a->status != kAdminInvited || a->enrolment_expires_at <= clock_.now_ms())
    return std::nullopt;
  return a;
}

Outcome<EnrolmentSecret> AccountService::start_enrolment(std::string_view token,
                                                         std::string_view password,
                                                         std::string_view algorithm) {
  auto a = enrolling(token);
  if (!a)
    return ApiError{ErrorCode::kUnauthorized, "token",
                    "the enrolment link is not valid (unknown, used or expired)"};
  if (password.size() < kMinPasswordLength || password.size() > kMaxPasswordLength)
    return invalid("password", "must be 12 to 1024 characters");
  const auto algo = totp_algorithm_from_name(algorithm.empty() ? "SHA1" : algorithm);
  if (!algo) return invalid("algorithm", "must be SHA1 or SHA256");
  const std::string key = random_bytes(*algo == TotpAlgorithm::kSha256 ? 32 : 20);
  a->password_hash = hash_password(password, s_.password_cost);
  a->totp_secret_sealed = seal(master_key_, key, a->id);
  a->totp_algorithm = std::string(totp_algorithm_name(*algo));
  a->totp_last_step = -1;
  const Actor actor = admin_actor(*a);
  const std::string details =
      json::serialize(json::object{{"admin_id", a->id}, {"algorithm", a->totp_algorithm}});
  if (!store_.update_admin(*a, entry(actor, "admin.enrolment_started", details), nullptr))
    return ApiError{ErrorCode::kConflict, "token", "the account changed meanwhile; try again"};
  return EnrolmentSecret{a->id, a->email, base32(key),
                         otpauth_uri(s_.totp_issuer, a->email, key, *algo), a->totp_algorithm};
}

Outcome<AdminAccount> AccountService::confirm_enrolment(std::string_view token,
                                                        std::string_view code) {
  auto a = enrolling(token);
  if (!a)
    return ApiError{ErrorCode::kUnauthorized, "token",
                    "the enrolment link is not valid (unknown, used or expired)"};
  if (a->totp_secret_sealed.empty() || a->password_hash.empty())
    return ApiError{ErrorCode::kConflict, "token",
                    "set a password first (POST /api/admin/enrolment)"};
  const auto key = unseal(master_key_, a->totp_secret_sealed, a->id);
  if (!key) throw StoreError("admin " + a->id + ": the TOTP key does not unseal (master key?)");
  const auto algo = totp_algorithm_from_name(a->totp_algorithm).value_or(TotpAlgorithm::kSha1);
  const auto step = totp_match(*key, algo, code, clock_.now_ms() / 1000, a->totp_last_step);
  if (!step) return ApiError{ErrorCode::kUnauthorized, "code", "the code does not match"};
  a->totp_last_step = *step;
  a->status = std::string(kAdminActive);
  a->enrolment_sha256.clear();
  a->enrolment_expires_at = 0;
  const std::string details = json::serialize(json::object{{"admin_id", a->id}});
  if (!store_.update_admin(*a, entry(admin_actor(*a), "admin.enrolled", details), nullptr))
    return ApiError{ErrorCode::kConflict, "token", "the account changed meanwhile; try again"};
  ++a->version;
  return *a;
}

std::variant<SignedIn, SignInRefused> AccountService::sign_in(std::string_view email,
                                                              std::string_view password,
                                                              std::string_view code,
                                                              std::string_view source_address) {
  const UnixMillis now = clock_.now_ms();
  const auto normal = normal_email(email);
  auto a = normal ? store_.find_admin_by_email(*normal) : std::nullopt;
  // A refusal before any real check: as long as one, and the same answer (no enumeration).
  const auto refuse = [&](std::string_view action, json::object d) {
    (void)verify_password(dummy_hash_, password);
    d["source"] = source_address;
    audit_.record_audit(
        entry({std::string(kActorAdminAccount), a ? a->id : ""}, action, json::serialize(d)));
    return SignInRefused{};
  };
  if (!a || a->status != kAdminActive || password.size() > kMaxPasswordLength)
    return refuse("admin.sign_in_failed",
                  {{"reason", "unknown_or_inactive"},
                   {"admin_id", a ? json::value(a->id) : json::value(nullptr)}});
  // A key that does not unseal is a server fault (wrong master key), not the admin's failure.
  const auto key = unseal(master_key_, a->totp_secret_sealed, a->id);
  if (!key) throw StoreError("admin " + a->id + ": the TOTP key does not unseal (master key?)");
  // The attempt counts before anything is checked, in one conditional write: racing attempts
  // get no more guesses than the lock allows, and no failure goes uncounted.
  const auto counted = store_.count_sign_in_attempt(
      a->id, now, {kFailuresBeforeLock, 60'000, kMaxLockMinutes * 60'000});
  if (!counted) return refuse("admin.sign_in_locked", {{"admin_id", a->id}});
  a = counted;
  const Actor actor = admin_actor(*a);
  const bool password_ok = verify_password(a->password_hash, password);
  const auto step =
      totp_match(*key, totp_algorithm_from_name(a->totp_algorithm).value_or(TotpAlgorithm::kSha1),
                 code, now / 1000, a->totp_last_step);
  if (!password_ok || !step) {
    json::object d{{"admin_id", a->id},
                   {"reason", password_ok ? "code" : "password"},
                   {"failures", a->failed_sign_ins},
                   {"source", source_address}};
    const bool locked = a->locked_until > now;
    if (locked) d["locked_seconds"] = (a->locked_until - now) / 1000;
    audit_.record_audit(
        entry(actor, locked ? "admin.locked" : "admin.sign_in_failed", json::serialize(d)));
    return SignInRefused{};
  }
  SignedIn out;
  out.session_token = new_token("pgs_");
  out.csrf_token = base64url(random_bytes(32));
  out.issued_at = now;
  out.expires_at = now + s_.session_absolute_ms;
  const AdminSession session{token_sha256(out.session_token),
                             a->id,
                             token_sha256(out.csrf_token),
                             now,
                             now,
                             out.expires_at};
  const std::string details =
      json::serialize(json::object{{"admin_id", a->id}, {"source", source_address}});
  // Racing attempts bump the version: re-read and apply again while the code is still unused
  // (the same code used twice at once is a replay: refused).
  for (int attempt = 0; attempt < 8 && a && a->status == kAdminActive && a->totp_last_step < *step;
       ++attempt) {
    a->totp_last_step = *step;
    a->failed_sign_ins = 0;
    a->locked_until = 0;
    if (store_.update_admin(*a, entry(actor, "admin.signed_in", details), &session)) {
      ++a->version;
      out.account = *a;
      return out;
    }
    a = store_.find_admin(actor.id);
  }
  return SignInRefused{};
}

std::optional<CurrentAdmin> AccountService::session(std::string_view token) {
  auto current = peek_session(token);
  if (current) touch(*current);
  return current;
}

std::optional<CurrentAdmin> AccountService::peek_session(std::string_view token) {
  if (token.empty() || token.size() > 200) return std::nullopt;
  auto s = store_.find_session(token_sha256(token));
  const UnixMillis now = clock_.now_ms();
  if (!s || now >= s->expires_at || now - s->last_seen_at > s_.session_idle_ms) return std::nullopt;
  auto a = store_.find_admin(s->admin_id);
  if (!a || a->status != kAdminActive) return std::nullopt;
  return CurrentAdmin{std::move(*a), std::move(*s)};
}

void AccountService::touch(CurrentAdmin& current) {
  // One write a second at most per session.
  const UnixMillis now = clock_.now_ms();
  if (now - current.session.last_seen_at < 1000) return;
  store_.touch_session(current.session.token_sha256, now);
  current.session.last_seen_at = now;
}

bool AccountService::sign_out(std::string_view token) {
  if (token.empty() || token.size() > 200) return false;
  const std::string digest = token_sha256(token);
  const auto s = store_.find_session(digest);
  if (!s) return false;
  const std::string details = json::serialize(json::object{{"admin_id", s->admin_id}});
  return store_.delete_session(
      digest, entry({std::string(kActorAdminAccount), s->admin_id}, "admin.signed_out", details));
}

}  // namespace pg::core
