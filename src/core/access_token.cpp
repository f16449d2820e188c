// Access tokens as Ed25519-signed JWTs (see access_token.hpp). Ed25519 through OpenSSL's EVP
// interface (RFC 8032 pure Ed25519: EVP_DigestSign/Verify with no digest), as release signatures
// do.
#include "core/access_token.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "core/release_signature.hpp"
#include "core/secrets.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* bytes_of(std::string_view s) noexcept {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string ed25519_sign(std::string_view private_key, std::string_view message) {
  if (private_key.size() != 32) throw std::invalid_argument("an Ed25519 private key is 32 bytes");
  const Pkey key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes_of(private_key), 32));
  const MdCtx ctx(EVP_MD_CTX_new());
  std::string signature(64, '\0');
  std::size_t length = signature.size();
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     bytes_of(message), message.size()) != 1 ||
      length != 64) {
    throw std::runtime_error("Ed25519 signing failed");
  }
  return signature;
}

/// A JSON object parsed from at most kMaxTokenBytes of text, shallow; nullopt otherwise.
std::optional<json::object> parse_object(std::string_view text) noexcept {
  try {
    json::parse_options options;
    options.max_depth = 4;
    std::error_code ec;
    json::value v = json::parse(text, ec, {}, options);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<std::string_view> string_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->as_string());
}

std::optional<std::int64_t> integer_member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->as_uint64());
  return std::nullopt;
}

}  // namespace

std::string_view token_error_text(TokenError e) noexcept {
  switch (e) {
    case TokenError::kTooLarge:
      return "the access token is too large";
    case TokenError::kMalformed:
      return "the access token is not a JWT (three dot-separated parts)";
    case TokenError::kBadEncoding:
      return "the access token is not strict base64url without padding";
    case TokenError::kBadHeader:
      return "the access token's header is not valid";
    case TokenError::kWrongAlgorithm:
      return "the access token's alg must be EdDSA";
    case TokenError::kUnknownKey:
      return "the access token's signing key is unknown";
    case TokenError::kBadSignature:
      return "the access token's signature is not valid";
    case TokenError::kBadClaims:
      return "the access token's claims are not valid";
    case TokenError::kWrongIssuer:
      return "the access token was issued by another issuer";
    case TokenError::kWrongAudience:
      return "the access token is for another audience";
    case TokenError::kExpired:
      return "the access token has expired";
    case TokenError::kNotYetValid:
      return "the access token is not valid yet";
  }
  return "the access token is not valid";
}

Ed25519KeyPair new_ed25519_key() {
  EVP_PKEY* raw = nullptr;
  const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    throw std::runtime_error("Ed25519 key generation failed");
  const Pkey key(raw);
  Ed25519KeyPair pair{std::string(32, '\0'), std::string(32, '\0')};
  std::size_t priv_len = 32, pub_len = 32;
  if (EVP_PKEY_get_raw_private_key(
          key.get(), reinterpret_cast<unsigned char*>(pair.private_key.data()), &priv_len) != 1 ||
      EVP_PKEY_get_raw_public_key(
          key.get(), reinterpret_cast<unsigned char*>(pair.public_key.data()), &pub_len) != 1 ||
      priv_len != 32 || pub_len != 32) {
    throw std::runtime_error("Ed25519 key export failed");
  }
  return pair;
}

std::string token_key_id(std::string_view public_key) {
  const auto digest = sha256(public_key);
  return base64url(std::string_view(reinterpret_cast<const char*>(digest.data()), 16));
}

std::string sign_access_token(const TokenClaims& c, std::string_view kid,
                              std::string_view private_key) {
  const std::string header =
      json::serialize(json::object{{"alg", "EdDSA"}, {"typ", "at+jwt"}, {"kid", kid}});
  json::object claims{{"iss", c.iss},    {"aud", c.aud}, {"sub", c.sub}, {"client_id", c.client_id},
                      {"iat", c.iat},    {"nbf", c.nbf}, {"exp", c.exp}, {"jti", c.jti},
                      {"scope", c.scope}};
  if (!c.nonce.empty()) claims["nonce"] = c.nonce;
  const std::string payload = json::serialize(claims);
  std::string signing_input = base64url(header) + "." + base64url(payload);
  const std::string signature = ed25519_sign(private_key, signing_input);
  return signing_input + "." + base64url(signature);
}

crypto::Result<TokenClaims, TokenError> verify_access_token(std::string_view token,
                                                            const TokenPolicy& policy,
                                                            const TokenKeyLookup& key_for) {
  try {
    if (token.size() > kMaxTokenBytes) return TokenError::kTooLarge;
    const auto dot1 = token.find('.');
    const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos ||
        dot1 == 0 || dot2 == dot1 + 1) {
      return TokenError::kMalformed;
    }
    const std::string_view header_b64 = token.substr(0, dot1);
    const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signature_b64 = token.substr(dot2 + 1);  // empty: refused below
    const auto header_text = base64url_decode(header_b64);
    const auto payload_text = base64url_decode(payload_b64);
    const auto signature = base64url_decode(signature_b64);
    if (!header_text || !payload_text || !signature) return TokenError::kBadEncoding;

    const auto header = parse_object(*header_text);
    if (!header) return TokenError::kBadHeader;
    // The algorithm is this issuer's alone (RFC 8725 §3.1): never taken from the token.
    if (string_member(*header, "alg") != std::optional<std::string_view>("EdDSA"))
      return TokenError::kWrongAlgorithm;
    const auto typ = string_member(*header, "typ");
    const auto kid = string_member(*header, "kid");
    // RFC 7515 §4.1.11: an unknown critical extension must be refused; none is known here.
    if (!typ || (*typ != "at+jwt" && *typ != "application/at+jwt") || !kid || kid->empty() ||
        kid->size() > 64 || header->contains("crit")) {
      return TokenError::kBadHeader;
    }
    const auto public_key = key_for(*kid);
    if (!public_key) return TokenError::kUnknownKey;
    if (!verify_ed25519_raw(*public_key, token.substr(0, dot2), *signature))
      return TokenError::kBadSignature;

    const auto payload = parse_object(*payload_text);
    if (!payload) return TokenError::kBadClaims;
    TokenClaims c;
    const auto iss = string_member(*payload, "iss");
    const auto sub = string_member(*payload, "sub");
    const auto client_id = string_member(*payload, "client_id");
    const auto jti = string_member(*payload, "jti");
    const auto scope = string_member(*payload, "scope");
    const auto iat = integer_member(*payload, "iat");
    const auto nbf = integer_member(*payload, "nbf");
    const auto exp = integer_member(*payload, "exp");
    const json::value* aud = payload->if_contains("aud");
    const json::value* nonce = payload->if_contains("nonce");
    if (nonce && !nonce->is_string()) return TokenError::kBadClaims;
    if (!iss || !sub || sub->empty() || !client_id || *client_id != *sub || !jti || !scope ||
        !iat || !nbf || !exp || !aud || !(aud->is_string() || aud->is_array())) {
      return TokenError::kBadClaims;
    }
    if (*iss != policy.issuer) return TokenError::kWrongIssuer;
    bool audience = false;
    if (aud->is_string()) {
      audience = aud->as_string() == policy.audience;
    } else {
      for (const auto& a : aud->as_array())
        audience = audience || (a.is_string() && a.as_string() == policy.audience);
    }
    if (!audience) return TokenError::kWrongAudience;
    if (*exp <= policy.now_s - policy.leeway_s) return TokenError::kExpired;
    if (*nbf > policy.now_s + policy.leeway_s || *iat > policy.now_s + policy.leeway_s)
      return TokenError::kNotYetValid;
    c.iss = *iss;
    c.aud = policy.audience;
    c.sub = *sub;
    c.client_id = *client_id;
    c.jti = *jti;
    c.scope = *scope;
    c.iat = *iat;
    c.nbf = *nbf;
    c.exp = *exp;
    if (nonce) c.nonce = nonce->as_string();
    return c;
  } catch (...) {  // allocation failure: refused
    return TokenError::kMalformed;
  }
}

bool looks_like_jwt(std::string_view credential) noexcept {
  // A JSON object's base64url starts "ey" ('{' then '"'); an API key starts "pgk_".
  if (!credential.starts_with("ey")) return false;
  int dots = 0;
  for (const char c : credential) {
    if (c == '.') {
      ++dots;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '=' || c == '+' || c == '/')) {
      return false;
    }
  }
  return dots == 2;
}

std::string ed25519_jwk(std::string_view public_key, std::string_view kid) {
  return json::serialize(json::object{{"kty", "OKP"},
                                      {"crv", "Ed25519"},
                                      {"x", base64url(public_key)},
                                      {"kid", kid},
                                      {"use", "sig"},
                                      {"alg", "EdDSA"}});
}

}  // namespace pg::core
