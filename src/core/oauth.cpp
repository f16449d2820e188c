// OAuth2 client credentials and the token key ring (see oauth.hpp).
#include "core/oauth.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <stdexcept>

namespace pg::core {

namespace json = boost::json;

namespace {

constexpr UnixMillis kReloadForIssueMs = 1000;   // a rotation by another process shows within 1 s
constexpr UnixMillis kReloadForLookupMs = 2000;  // unknown kids reload at most this often
constexpr UnixMillis kReloadForJwksMs = 5000;

std::vector<std::string> split_scope(std::string_view scope) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < scope.size()) {
    const auto end = std::min(scope.find(' ', i), scope.size());
    if (end > i) out.emplace_back(scope.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : " ") + s;
  return out;
}

bool contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

ClientSecret new_client_secret() {
  ClientSecret s;
  s.text = "pgs_" + base64url(random_bytes(32));
  s.hash = sha256(s.text);
  return s;
}

Outcome<RotatedClientSecret> rotate_client_secret(OAuthStore& store, std::string_view client_id,
                                                  UnixMillis now, const AuditEntry& audit) {
  if (!is_uuid(client_id))
    return ApiError{ErrorCode::kNotFound, "client_id", "no partner with this id"};
  const ClientSecret secret = new_client_secret();
  if (!store.set_client_secret(client_id, secret.hash, now, audit))
    return ApiError{ErrorCode::kNotFound, "client_id", "no partner with this id"};
  return RotatedClientSecret{std::string(client_id), secret.text};
}

bool token_key_live(const TokenKey& key, UnixMillis now, std::int64_t ttl_s) noexcept {
  return key.retired_at == 0 || key.retired_at + (ttl_s + kTokenLeewaySeconds) * 1000 > now;
}

OAuthService::OAuthService(Store& store, OAuthStore& oauth, const Clock& clock,
                           const MasterKey& master_key, OAuthSettings settings)
    : store_(store),
      oauth_(oauth),
      clock_(clock),
      master_key_(master_key),
      settings_(std::move(settings)) {}

TokenKey OAuthService::make_key(UnixMillis now) const {
  const Ed25519KeyPair pair = new_ed25519_key();
  TokenKey key;
  key.kid = token_key_id(pair.public_key);
  key.public_key = pair.public_key;
  key.private_sealed = seal(master_key_, pair.private_key, key.kid);
  key.created_at = now;
  return key;
}

void OAuthService::reload_locked() {
  const UnixMillis now = clock_.now_ms();
  keys_ = oauth_.token_keys();
  const bool has_current =
      std::any_of(keys_.begin(), keys_.end(), [](const TokenKey& k) { return k.retired_at == 0; });
  if (!has_current) {
    // The first key, made on demand; another instance may make it at the same time (only one
    // is kept), so read back what the store holds.
    try {
      oauth_.add_token_key(make_key(now), /*only_if_none=*/true, nullptr);
    } catch (const StoreError&) {
      // Another instance's first key won the unique index: read it back below.
    }
    keys_ = oauth_.token_keys();
  }
  loaded_at_ = now;
}

std::optional<std::string> OAuthService::public_key_locked(std::string_view kid,
                                                           UnixMillis now) const {
  for (const auto& k : keys_) {
    if (k.kid == kid && token_key_live(k, now, settings_.token_ttl_s)) return k.public_key;
  }
  return std::nullopt;
}

crypto::Result<IssuedToken, OAuthError> OAuthService::issue(const TokenRequest& r) {
  const auto refuse = [&](std::string error, std::string description) {
    return OAuthError{std::move(error), std::move(description), r.basic};
  };
  if (!r.grant_type) return refuse("invalid_request", "grant_type is required");
  // Client authentication (RFC 6749 §2.3.1). The same answer for an unknown partner, one
  // without a secret and a wrong secret.
  const auto bad_client = [&] { return refuse("invalid_client", "client authentication failed"); };
  if (!is_uuid(r.client_id) || r.client_secret.size() > 256) return bad_client();
  const auto digest = sha256(r.client_secret);
  const auto stored = oauth_.client_secret_hash(r.client_id);
  std::array<std::uint8_t, 32> compare_with{};
  if (stored) compare_with = *stored;
  const bool secret_ok = equal_ct(digest, compare_with) && stored.has_value();
  if (!secret_ok) return bad_client();
  auto client = store_.find_client(r.client_id);
  if (!client) return bad_client();
  if (client->revoked_at != 0)
    return refuse("invalid_client", "the partner's credentials were revoked");
  if (*r.grant_type != "client_credentials")
    return refuse("unsupported_grant_type", "only client_credentials is supported");
  if (client->suspended_at != 0)
    return refuse("unauthorized_client", "the partner is suspended; an operator can resume it");
  std::vector<std::string> granted;
  if (r.scope) {
    const auto asked = split_scope(*r.scope);
    if (asked.empty()) return refuse("invalid_scope", "scope is empty");
    for (const auto& s : asked) {
      if (!contains(client->scopes, s))
        return refuse("invalid_scope", "the partner does not have the scope '" + s + "'");
      if (!contains(granted, s)) granted.push_back(s);
    }
  } else {
    granted = client->scopes;
  }

  const UnixMillis now = clock_.now_ms();
  const auto [key, private_key] = current_key(now);
  TokenClaims c;
  c.iss = settings_.issuer;
  c.aud = settings_.issuer;
  c.sub = client->id;
  c.client_id = client->id;
  c.jti = uuid_v4();
  c.scope = join(granted);
  c.iat = now / 1000;
  c.nbf = c.iat;
  c.exp = c.iat + settings_.token_ttl_s;
  return IssuedToken{sign_access_token(c, key.kid, private_key), settings_.token_ttl_s, c.scope,
                     client->id, client->mode};
}

std::pair<TokenKey, std::string> OAuthService::current_key(UnixMillis now) {
  TokenKey key;
  {
    std::lock_guard lock(mu_);
    if (keys_.empty() || now - loaded_at_ > kReloadForIssueMs) reload_locked();
    const auto current = std::find_if(keys_.rbegin(), keys_.rend(),
                                      [](const TokenKey& k) { return k.retired_at == 0; });
    if (current == keys_.rend()) throw StoreError("no current token signing key");
    key = *current;
  }
  auto private_key = unseal(master_key_, key.private_sealed, key.kid);
  if (!private_key)
    throw std::runtime_error("the token signing key does not open with this master key");
  return {std::move(key), std::move(*private_key)};
}

std::string OAuthService::sign(TokenClaims claims) {
  const auto [key, private_key] = current_key(clock_.now_ms());
  claims.iss = settings_.issuer;
  return sign_access_token(claims, key.kid, private_key);
}

crypto::Result<TokenClaims, TokenError> OAuthService::verify(std::string_view token,
                                                             std::string_view audience) {
  const UnixMillis now = clock_.now_ms();
  const auto lookup = [&](std::string_view kid) -> std::optional<std::string> {
    std::lock_guard lock(mu_);
    if (keys_.empty()) reload_locked();
    if (auto key = public_key_locked(kid, now)) return key;
    if (now - loaded_at_ <= kReloadForLookupMs) return std::nullopt;
    reload_locked();
    return public_key_locked(kid, now);
  };
  return verify_access_token(
      token, TokenPolicy{settings_.issuer, std::string(audience), now / 1000, kTokenLeewaySeconds},
      lookup);
}

Outcome<Client> OAuthService::authenticate(std::string_view token) {
  const auto claims = verify(token, settings_.issuer);
  const auto unauthorized = [](std::string detail) {
    return ApiError{ErrorCode::kUnauthorized, "Authorization", std::move(detail)};
  };
  if (!claims) return unauthorized(std::string(token_error_text(claims.error())));
  auto client = store_.find_client(claims->sub);
  if (!client) return unauthorized("the access token's partner is unknown");
  // revoke-key revokes every credential: tokens issued before it stop at once.
  if (client->revoked_at != 0 && client->revoked_at >= claims->iat * 1000)
    return unauthorized("the partner's credentials were revoked");
  if (client->suspended_at != 0) {
    return ApiError{ErrorCode::kClientSuspended, "Authorization",
                    "the partner is suspended; an operator can resume it"};
  }
  std::vector<std::string> scopes;
  for (const auto& s : split_scope(claims->scope)) {
    if (contains(client->scopes, s) && !contains(scopes, s)) scopes.push_back(s);
  }
  client->scopes = std::move(scopes);
  return std::move(*client);
}

std::string OAuthService::jwks_json() {
  const UnixMillis now = clock_.now_ms();
  json::array keys;
  std::lock_guard lock(mu_);
  if (keys_.empty() || now - loaded_at_ > kReloadForJwksMs) reload_locked();
  // The current key leads, then the retired ones, newest first.
  for (const bool current : {true, false}) {
    for (auto k = keys_.rbegin(); k != keys_.rend(); ++k) {
      if ((k->retired_at == 0) == current && token_key_live(*k, now, settings_.token_ttl_s))
        keys.push_back(json::parse(ed25519_jwk(k->public_key, k->kid)));
    }
  }
  return json::serialize(json::object{{"keys", std::move(keys)}});
}

TokenKey OAuthService::rotate_key(AuditEntry audit) {
  const TokenKey key = make_key(clock_.now_ms());
  audit.details_json = json::serialize(json::object{{"kid", key.kid}});
  oauth_.add_token_key(key, /*only_if_none=*/false, &audit);
  std::lock_guard lock(mu_);
  reload_locked();
  return key;
}

}  // namespace pg::core
