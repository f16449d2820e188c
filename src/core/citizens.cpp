// Citizens' accounts (see citizens.hpp).
#include "core/citizens.hpp"

#include <openssl/hmac.h>

#include <algorithm>
#include <boost/json.hpp>
#include <stdexcept>

#include "core/service.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

constexpr std::size_t kNonceChars = 22;
constexpr std::size_t kMaxRefreshTokenChars = 128;
constexpr std::size_t kMaxLinkedProofs = 500;
// The label the accounts' HMAC key is derived under: a new label is a new key.
constexpr std::string_view kKeyLabel = "proofgate citizens v1";

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
            &length) ||
      length != out.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return out;
}

bool is_b64url(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool is_six_digits(std::string_view s) noexcept {
  return s.size() == 6 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// A decoded account body: its members, and the language its refusals use.
struct Body {
  json::object members;
  Language language = Language::kNe;
};

ApiError refusal(ErrorCode code, std::string field, Message m, Language language) {
  return ApiError{code, std::move(field), std::string(message_text(m, language))};
}

/// Strict decoding: JSON within the codec's limits, an object, only `allowed` members, and an
/// optional "language" ("ne" | "en") chosen first so every later refusal speaks it.
Outcome<Body> decode(std::string_view text, std::initializer_list<std::string_view> allowed,
                     Language fallback) {
  auto parsed = crypto::snarkjs::parse_json(text.empty() ? "{}" : text, "body");
  if (!parsed || !parsed->is_object())
    return refusal(ErrorCode::kInvalidRequest, "body", Message::kBodyInvalid, fallback);
  Body b{std::move(parsed->as_object()), fallback};
  if (const auto* lang = b.members.if_contains("language")) {
    const auto chosen = lang->is_string() ? language_from_name(lang->as_string()) : std::nullopt;
    if (!chosen)
      return refusal(ErrorCode::kInvalidRequest, "language", Message::kLanguageInvalid, fallback);
    b.language = *chosen;
  }
  for (const auto& [k, v] : b.members) {
    if (k != "language" &&
        std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end()) {
      return refusal(ErrorCode::kInvalidRequest, k.empty() ? "\"\"" : std::string(k),
                     Message::kUnknownMember, b.language);
    }
  }
  return b;
}

std::optional<std::string_view> string_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->as_string());
}

Language language_of(const Citizen& c) noexcept {
  return language_from_name(c.language).value_or(Language::kNe);
}

}  // namespace

bool is_e164(std::string_view phone) noexcept {
  if (phone.size() < 9 || phone.size() > 16 || phone[0] != '+' || phone[1] < '1' || phone[1] > '9')
    return false;
  return std::all_of(phone.begin() + 1, phone.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string new_sign_in_code() {
  constexpr std::uint32_t kLimit = 4'294'000'000u;  // the largest multiple of 10^6 below 2^32
  for (;;) {
    const std::string b = random_bytes(4);
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(b[0])} << 24) |
                            (std::uint32_t{static_cast<unsigned char>(b[1])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(b[2])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(b[3])};
    if (v >= kLimit) continue;
    const std::string digits = std::to_string(v % 1'000'000);
    return std::string(6 - digits.size(), '0') + digits;
  }
}

CitizenService::CitizenService(CitizenStore& store, OAuthService& tokens, Cache& cache,
                               CodeSender& sender, const Clock& clock, const MasterKey& master_key,
                               CitizenSettings settings)
    : store_(store),
      tokens_(tokens),
      cache_(cache),
      sender_(sender),
      clock_(clock),
      key_(hmac_sha256(master_key, kKeyLabel)),
      settings_(settings) {}

std::string CitizenService::mac(std::string_view purpose, std::string_view text) const {
  std::string data(purpose);
  data += '\n';
  data += text;
  return hex(hmac_sha256(key_, data));
}

Outcome<std::int64_t> CitizenService::start_sign_in(std::string_view text,
                                                    std::string_view address) {
  auto body = decode(text, {"phone"}, Language::kNe);
  if (!body) return body.error();
  const Language lang = body->language;
  const auto phone = string_of(body->members, "phone");
  if (!phone || !is_e164(*phone))
    return refusal(ErrorCode::kInvalidRequest, "phone", Message::kPhoneInvalid, lang);
  if (!settings_.sender_ready)
    return ApiError{ErrorCode::kNotReady, "", "sign-in codes cannot be sent: no SMS gateway"};
  const std::string phone_mac = mac("phone", *phone);
  const UnixMillis now = clock_.now_ms();
  const auto locked_out = [&](UnixMillis until) {
    ApiError e = refusal(ErrorCode::kRateLimited, "phone", Message::kLockedOut, lang);
    e.retry_after_s = std::max<std::int64_t>(1, (until - now + 999) / 1000);
    return e;
  };
  if (auto stored = store_.sign_in_code(phone_mac); stored && stored->locked_until > now)
    return locked_out(stored->locked_until);
  const auto too_many = [&](const RateDecision& decision) {
    ApiError e = refusal(ErrorCode::kRateLimited, "phone", Message::kTooManyCodes, lang);
    e.retry_after_s = static_cast<std::int64_t>(decision.retry_after_seconds) + 1;
    return e;
  };
  // One address cannot make the server text any number of phones (SMS pumping, spraying codes).
  if (!address.empty()) {
    const double window = static_cast<double>(settings_.address_window_s);
    const RateDecision decision =
        cache_.take_token("account-send-addr:" + std::string(address),
                          settings_.codes_per_address / window, settings_.codes_per_address);
    if (!decision.allowed) return too_many(decision);
  }
  const double window = static_cast<double>(settings_.code_window_s);
  const RateDecision decision = cache_.take_token(
      "account-code:" + phone_mac, settings_.codes_per_window / window, settings_.codes_per_window);
  if (!decision.allowed) return too_many(decision);
  // The SMS speaks the account's language when it has one (its owner is the one reading it).
  Language sms_language = lang;
  if (!body->members.contains("language")) {
    if (auto existing = store_.find_citizen_by_phone(phone_mac))
      sms_language = language_of(*existing);
  }
  const std::string code = new_sign_in_code();
  // Conditional on the phone not being locked (a lock set since the read above stands); the
  // wrong attempts counted so far carry over to the new code.
  if (!store_.issue_sign_in_code(phone_mac, mac("code", phone_mac + "\n" + code),
                                 now + settings_.code_ttl_s * 1000, now,
                                 now - settings_.wrong_window_s * 1000)) {
    const auto stored = store_.sign_in_code(phone_mac);
    return locked_out(stored ? stored->locked_until : now + settings_.lock_out_s * 1000);
  }
  sender_.send(*phone, std::string(message_text(Message::kSmsCode, sms_language)) + code);
  return settings_.code_ttl_s;
}

Outcome<CitizenTokens> CitizenService::finish_sign_in(std::string_view text) {
  auto body = decode(text, {"phone", "code"}, Language::kNe);
  if (!body) return body.error();
  const Language lang = body->language;
  const auto phone = string_of(body->members, "phone");
  if (!phone || !is_e164(*phone))
    return refusal(ErrorCode::kInvalidRequest, "phone", Message::kPhoneInvalid, lang);
  const auto code = string_of(body->members, "code");
  if (!code || !is_six_digits(*code))
    return refusal(ErrorCode::kInvalidRequest, "code", Message::kCodeInvalid, lang);
  const std::string phone_mac = mac("phone", *phone);
  const UnixMillis now = clock_.now_ms();
  // The attempt is counted before the code is compared: parallel guesses share the limit.
  auto attempt = store_.take_code_attempt(phone_mac, now, settings_.max_wrong_codes);
  auto& state = attempt.state;
  if (state && state->locked_until > now) {
    ApiError e = refusal(ErrorCode::kRateLimited, "code", Message::kLockedOut, lang);
    e.retry_after_s = (state->locked_until - now + 999) / 1000;
    return e;
  }
  const auto lock = [&](SignInCode locked) {
    // The outstanding code dies with the lock: guessing starts again from a new code.
    locked.locked_until = now + settings_.lock_out_s * 1000;
    locked.code_mac.clear();
    locked.wrong = 0;
    store_.save_sign_in_code(locked);
    ApiError e = refusal(ErrorCode::kRateLimited, "code", Message::kLockedOut, lang);
    e.retry_after_s = settings_.lock_out_s;
    return e;
  };
  if (!attempt.taken) {
    // Every attempt the window allows is spent (wrong codes count across the phone's codes).
    if (state && !state->code_mac.empty() && state->expires_at > now &&
        state->wrong >= settings_.max_wrong_codes)
      return lock(*state);
    return refusal(ErrorCode::kCodeExpired, "code", Message::kCodeExpired, lang);
  }
  const std::string given = mac("code", phone_mac + "\n" + std::string(*code));
  const auto bytes = [](const std::string& s) {
    return std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  if (given.size() != state->code_mac.size() || !equal_ct(bytes(given), bytes(state->code_mac))) {
    if (state->wrong >= settings_.max_wrong_codes) return lock(*state);
    return refusal(ErrorCode::kWrongCode, "code", Message::kWrongCode, lang);
  }
  // One sign-in per code, however many requests brought it at once.
  if (!store_.spend_sign_in_code(phone_mac, state->code_mac))
    return refusal(ErrorCode::kCodeExpired, "code", Message::kCodeExpired, lang);
  Citizen fresh;
  fresh.id = uuid_v4();
  fresh.phone_mac = phone_mac;
  fresh.language = std::string(language_name(lang));
  fresh.created_at = now;
  const Citizen citizen = store_.find_or_create_citizen(fresh);
  return issue(citizen, uuid_v4());
}

Outcome<CitizenTokens> CitizenService::issue(const Citizen& citizen, const std::string& family_id) {
  const UnixMillis now = clock_.now_ms();
  TokenClaims c;
  c.aud = kAccountAudience;
  c.sub = citizen.id;
  c.client_id = citizen.id;
  c.jti = uuid_v4();
  c.scope = "account";
  c.iat = now / 1000;
  c.nbf = c.iat;
  c.exp = c.iat + settings_.access_ttl_s;
  CitizenTokens out;
  out.access_token = tokens_.sign(c);
  out.expires_in = settings_.access_ttl_s;
  out.refresh_token = "pgr_" + base64url(random_bytes(32));
  if (!family_id.empty()) {
    RefreshToken r;
    r.hash = hex(sha256(out.refresh_token));
    r.family_id = family_id;
    r.user_id = citizen.id;
    r.issued_at = now;
    r.expires_at = now + settings_.refresh_ttl_s * 1000;
    store_.insert_refresh_token(r);
  }
  return out;
}

Outcome<CitizenTokens> CitizenService::refresh(std::string_view text) {
  auto body = decode(text, {"refresh_token"}, Language::kNe);
  if (!body) return body.error();
  const Language lang = body->language;
  const auto token = string_of(body->members, "refresh_token");
  if (!token || token->size() > kMaxRefreshTokenChars)
    return refusal(ErrorCode::kInvalidRequest, "refresh_token", Message::kRefreshInvalid, lang);
  const UnixMillis now = clock_.now_ms();
  // The next token is drawn first so the rotation is one store transaction.
  const std::string next_text = "pgr_" + base64url(random_bytes(32));
  RefreshToken next;
  next.hash = hex(sha256(next_text));
  next.issued_at = now;
  next.expires_at = now + settings_.refresh_ttl_s * 1000;
  const RefreshOutcome outcome = store_.rotate_refresh_token(hex(sha256(*token)), now, next);
  const auto citizen = next.user_id.empty() ? std::nullopt : store_.find_citizen(next.user_id);
  const Language speak =
      citizen && !body->members.contains("language") ? language_of(*citizen) : lang;
  const auto unauthorized = [&](Message m) {
    return refusal(ErrorCode::kUnauthorized, "refresh_token", m, speak);
  };
  switch (outcome) {
    case RefreshOutcome::kRotated:
      break;
    case RefreshOutcome::kExpired:
      return unauthorized(Message::kRefreshExpired);
    case RefreshOutcome::kReused:
      return unauthorized(Message::kRefreshReused);
    case RefreshOutcome::kUnknown:
    case RefreshOutcome::kRevoked:
      return unauthorized(Message::kRefreshInvalid);
  }
  if (!citizen) return unauthorized(Message::kAccountGone);
  auto pair = issue(*citizen, "");  // the refresh token is `next`, stored by the rotation
  if (!pair) return pair.error();
  pair->refresh_token = next_text;
  return pair;
}

Outcome<CitizenSession> CitizenService::authenticate(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  const auto unauthorized = [](Message m) {
    return refusal(ErrorCode::kUnauthorized, "Authorization", m, Language::kNe);
  };
  if (!authorization.starts_with(kBearer)) return unauthorized(Message::kAccessInvalid);
  const auto claims = tokens_.verify(authorization.substr(kBearer.size()), kAccountAudience);
  if (!claims || claims->scope != "account") return unauthorized(Message::kAccessInvalid);
  auto citizen = store_.find_citizen(claims->sub);
  if (!citizen) return unauthorized(Message::kAccountGone);
  CitizenSession s{std::move(*citizen), Language::kNe};
  s.language = language_of(s.citizen);
  return s;
}

Outcome<Citizen> CitizenService::update(const CitizenSession& session, std::string_view text) {
  auto body = decode(text, {}, session.language);
  if (!body) return body.error();
  if (!body->members.contains("language"))
    return refusal(ErrorCode::kInvalidRequest, "language", Message::kLanguageInvalid,
                   session.language);
  Citizen c = session.citizen;
  c.language = std::string(language_name(body->language));
  if (!store_.set_citizen_language(c.id, c.language))
    return refusal(ErrorCode::kUnauthorized, "Authorization", Message::kAccountGone,
                   session.language);
  return c;
}

std::vector<LinkedProof> CitizenService::proofs(const CitizenSession& session) {
  return store_.citizen_proofs(session.citizen.id, kMaxLinkedProofs);
}

Outcome<LinkToken> CitizenService::link_token(const CitizenSession& session,
                                              std::string_view text) {
  auto body = decode(text, {"nonce"}, session.language);
  if (!body) return body.error();
  const auto nonce = string_of(body->members, "nonce");
  if (!nonce || nonce->size() != kNonceChars || !is_b64url(*nonce))
    return refusal(ErrorCode::kInvalidRequest, "nonce", Message::kNonceInvalid, session.language);
  const UnixMillis now = clock_.now_ms();
  // Opaque: the partner relaying it learns nothing (no account id, nothing two tokens share).
  LinkToken out{"pgl_" + base64url(random_bytes(32)), settings_.link_ttl_s};
  store_.insert_account_link({hex(sha256(out.token)), session.citizen.id, std::string(*nonce),
                              now + settings_.link_ttl_s * 1000},
                             now);
  return out;
}

Outcome<std::string> CitizenService::resolve_link(std::string_view token, std::string_view nonce) {
  // The partner relaying the body sees these refusals: English, and nothing about the account.
  const auto refused = [](Message m) {
    return refusal(ErrorCode::kInvalidRequest, "account_link", m, Language::kEn);
  };
  if (!token.starts_with("pgl_") || token.size() > kMaxRefreshTokenChars)
    return refused(Message::kLinkInvalid);
  const auto user = store_.take_account_link(hex(sha256(token)), nonce, clock_.now_ms());
  if (!user || !store_.find_citizen(*user)) return refused(Message::kLinkInvalid);
  return *user;
}

Outcome<std::size_t> CitizenService::remove(const CitizenSession& session) {
  const UnixMillis now = clock_.now_ms();
  std::size_t told = 0;
  const auto events = [&](const std::vector<AffectedPartner>& partners) {
    std::vector<OutboxEvent> out;
    for (const AffectedPartner& p : partners) {
      OutboxEvent e;
      e.event_id = uuid_v4();
      e.client_id = p.client_id;
      e.event_type = "account.deleted";
      json::array ids;
      for (const auto& id : p.proof_ids) ids.emplace_back(id);
      e.payload = json::serialize(json::object{{"event", e.event_type},
                                               {"mode", mode_name(p.mode)},
                                               {"event_id", e.event_id},
                                               {"ts", rfc3339(now)},
                                               {"data", json::object{{"proof_ids", ids}}}});
      e.created_at = now;
      out.push_back(std::move(e));
    }
    told = out.size();
    return out;
  };
  // The audit keeps no personal data: neither the account's id nor its phone.
  AuditEntry audit;
  audit.actor_type = std::string(kActorSystem);
  audit.actor_id = "account";
  audit.action = "account.deleted";
  audit.at = now;
  if (!store_.delete_citizen(session.citizen.id, now, events, audit))
    return refusal(ErrorCode::kUnauthorized, "Authorization", Message::kAccountGone,
                   session.language);
  if (told > 0 && settings_.on_events) settings_.on_events();
  return told;
}

}  // namespace pg::core
