// OAuth2 client credentials for partners (RFC 6749 §4.4): client secrets, the token endpoint's
// use case, the signing key ring (keys stored sealed, shared by every instance, rotated without
// downtime) and access tokens accepted where an API key is. docs/partners.md, "Tokens".
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access_token.hpp"
#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/outcome.hpp"
#include "core/ports.hpp"
#include "core/secrets.hpp"

namespace pg::core {

/// One token signing key. The private key is sealed with the master key (context: its kid).
struct TokenKey {
  std::string kid;
  std::string public_key;      // raw 32 bytes
  std::string private_sealed;  // seal(master key, raw 32-byte private key, kid)
  UnixMillis created_at = 0;
  UnixMillis retired_at = 0;  // 0: the current key
};

/// Storage of client secrets and signing keys (SqliteStore and PostgresStore fill it).
class OAuthStore {
 public:
  virtual ~OAuthStore() = default;
  /// SHA-256 of the partner's client secret; nullopt when it has none (or is unknown).
  virtual std::optional<std::array<std::uint8_t, 32>> client_secret_hash(
      std::string_view client_id) = 0;
  /// Replaces (or sets) the partner's client secret and writes `audit`, in one transaction;
  /// false, nothing written, for an unknown partner.
  virtual bool set_client_secret(std::string_view client_id,
                                 const std::array<std::uint8_t, 32>& secret_hash, UnixMillis now,
                                 const AuditEntry& audit) = 0;
  /// Every signing key, oldest first.
  virtual std::vector<TokenKey> token_keys() = 0;
  /// Makes `key` the current key, retiring the current one(s) at key.created_at, and writes
  /// `audit` when given, in one transaction. With only_if_none, writes nothing and answers false
  /// when a current key exists (instances starting together make one first key).
  virtual bool add_token_key(const TokenKey& key, bool only_if_none, const AuditEntry* audit) = 0;
};

/// A partner's OAuth client secret: "pgs_" + 43 base64url chars (256 random bits). Stored as its
/// SHA-256: high-entropy, so no slow hash is needed.
struct ClientSecret {
  std::string text;
  std::array<std::uint8_t, 32> hash{};
};
ClientSecret new_client_secret();

/// A rotated client secret, shown once.
struct RotatedClientSecret {
  std::string client_id;
  std::string client_secret;
};
/// Replaces the partner's client secret (the old one stops at once), writing `audit` (action
/// "client.secret_rotated") with it; NOT_FOUND for an unknown partner.
Outcome<RotatedClientSecret> rotate_client_secret(OAuthStore& store, std::string_view client_id,
                                                  UnixMillis now, const AuditEntry& audit);

struct OAuthSettings {
  std::string issuer;  // iss and aud: the public URL
  std::int64_t token_ttl_s = 600;
};

/// An RFC 6749 §5.2 error: `error` is its code; invalid_client answers 401 (with
/// WWW-Authenticate: Basic when the client tried Basic), the others 400.
struct OAuthError {
  std::string error;
  std::string description;
  bool basic_challenge = false;
  int status() const noexcept { return error == "invalid_client" ? 401 : 400; }
};

/// The token request as the HTTP layer decoded it.
struct TokenRequest {
  std::optional<std::string> grant_type;
  std::optional<std::string> scope;
  std::string client_id;
  std::string client_secret;
  bool basic = false;  // the credentials came in Authorization: Basic
};

struct IssuedToken {
  std::string access_token;
  std::int64_t expires_in = 0;
  std::string scope;
  std::string client_id;
  Mode mode = Mode::kLive;  // the client's: its tokens are of this mode
};

/// The key ring and the token use cases. Thread-safe.
class OAuthService {
 public:
  OAuthService(Store& store, OAuthStore& oauth, const Clock& clock, const MasterKey& master_key,
               OAuthSettings settings);

  /// POST /oauth/token after decoding: authenticates the client (constant-time, against its
  /// stored secret hash), checks the grant and the scope (a subset of the partner's), signs.
  crypto::Result<IssuedToken, OAuthError> issue(const TokenRequest& request);

  /// The partner a bearer access token speaks for, with the token's scope (never more than the
  /// partner has now) as its scopes; UNAUTHORIZED naming why, CLIENT_SUSPENDED as keys answer.
  Outcome<Client> authenticate(std::string_view token);

  /// GET /.well-known/jwks.json: {"keys":[...]}, the current key and every retired key whose
  /// tokens may still be valid (retired_at + token TTL + leeway not past).
  std::string jwks_json();

  /// A new current key; the old one keeps verifying until its tokens expire. `audit` (its details
  /// become {"kid": the new kid}) is written with it.
  TokenKey rotate_key(AuditEntry audit);

  /// Signs `claims` with the current key (iss set to the issuer): the tokens of citizens'
  /// accounts (core/citizens.hpp) share the key ring and the JWKS, told apart by their audience.
  std::string sign(TokenClaims claims);
  /// The claims of a token this ring signed for `audience`, checked as verify_access_token does.
  crypto::Result<TokenClaims, TokenError> verify(std::string_view token, std::string_view audience);

  const OAuthSettings& settings() const noexcept { return settings_; }

 private:
  /// The current key and its opened private key.
  std::pair<TokenKey, std::string> current_key(UnixMillis now);
  /// Reloads the key ring from the store (making the first key when there is none).
  void reload_locked();
  std::optional<std::string> public_key_locked(std::string_view kid, UnixMillis now) const;
  TokenKey make_key(UnixMillis now) const;

  Store& store_;
  OAuthStore& oauth_;
  const Clock& clock_;
  const MasterKey& master_key_;
  OAuthSettings settings_;
  std::mutex mu_;
  std::vector<TokenKey> keys_;
  UnixMillis loaded_at_ = 0;
};

/// Whether a retired key still verifies at `now` (retired_at + ttl + leeway in the future).
bool token_key_live(const TokenKey& key, UnixMillis now, std::int64_t ttl_s) noexcept;

}  // namespace pg::core
