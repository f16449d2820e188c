// OAuth2 access tokens: JWTs (RFC 7519) signed with Ed25519 (RFC 8037, JWS alg "EdDSA"), typed
// "at+jwt" (RFC 9068), their strict verification, and the signing keys' JWK form (RFC 8037 §2).
// Pure functions over bytes and a clock value: the key ring and storage are core/oauth.hpp's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/result.hpp"

namespace pg::core {

/// The claims of an access token. Times are Unix seconds.
struct TokenClaims {
  std::string iss;
  std::string aud;
  std::string sub;        // the partner's id (also its client_id)
  std::string client_id;  // RFC 9068 §2.2: the same as sub for client credentials
  std::string jti;
  std::string scope;  // space-separated claim types
  std::int64_t iat = 0;
  std::int64_t nbf = 0;
  std::int64_t exp = 0;
  /// A citizen's account-link token (core/citizens.hpp): the proof request nonce it is bound to.
  /// Signed only when not empty; read when present (a string).
  std::string nonce = {};
};

/// Why a token was refused: a closed set, each one precise.
enum class TokenError {
  kTooLarge,        // longer than kMaxTokenBytes
  kMalformed,       // not three dot-separated parts (header and payload non-empty)
  kBadEncoding,     // a part is not strict base64url without padding
  kBadHeader,       // the header is not the JSON object this issuer writes (typ, kid)
  kWrongAlgorithm,  // alg is not exactly "EdDSA" (none, HS256, RS256 ...)
  kUnknownKey,      // no signing key has this kid (or it left the JWKS)
  kBadSignature,    // the Ed25519 signature does not verify
  kBadClaims,       // the payload is not a JSON object with the claims, typed as required
  kWrongIssuer,     // iss differs
  kWrongAudience,   // aud differs (a string, or an array holding it)
  kExpired,         // exp is not after now - leeway
  kNotYetValid,     // nbf or iat after now + leeway
};
std::string_view token_error_text(TokenError e) noexcept;

/// Bounds: a token's text, and its decoded header and payload.
inline constexpr std::size_t kMaxTokenBytes = 4096;
/// The clock skew tolerated on exp, nbf and iat.
inline constexpr std::int64_t kTokenLeewaySeconds = 30;

/// An Ed25519 key pair, raw (32 bytes each, RFC 8032).
struct Ed25519KeyPair {
  std::string private_key;
  std::string public_key;
};
/// A fresh key pair from OpenSSL's CSPRNG; throws on failure.
Ed25519KeyPair new_ed25519_key();
/// The key id of a raw public key: base64url of the first 16 bytes of its SHA-256.
std::string token_key_id(std::string_view public_key);

/// A signed token: header {"alg":"EdDSA","typ":"at+jwt","kid":kid}, `claims` as payload.
/// Throws when `private_key` is not 32 bytes.
std::string sign_access_token(const TokenClaims& claims, std::string_view kid,
                              std::string_view private_key);

/// What verification checks the claims against.
struct TokenPolicy {
  std::string issuer;
  std::string audience;
  std::int64_t now_s = 0;
  std::int64_t leeway_s = kTokenLeewaySeconds;
};
/// The raw Ed25519 public key for a kid, or nullopt for an unknown one.
using TokenKeyLookup = std::function<std::optional<std::string>(std::string_view kid)>;

/// The token's claims when it passes every check, in this order: size, shape, strict base64url,
/// header (alg exactly EdDSA, typ at+jwt, a kid), known kid, signature, claims' types, iss, aud,
/// exp, nbf, iat. Nothing is decoded past the first refusal. Never throws.
crypto::Result<TokenClaims, TokenError> verify_access_token(std::string_view token,
                                                            const TokenPolicy& policy,
                                                            const TokenKeyLookup& key_for);

/// True when `credential` has a JWT's shape (three non-empty base64url parts, the first starting
/// as a JSON object does): tells a token from an API key (pgk_...), never validates it.
bool looks_like_jwt(std::string_view credential) noexcept;

/// The public JWK of a signing key (RFC 8037 §2):
/// {"kty":"OKP","crv":"Ed25519","x":..,"kid":..,"use":"sig","alg":"EdDSA"}, serialized.
std::string ed25519_jwk(std::string_view public_key, std::string_view kid);

}  // namespace pg::core
