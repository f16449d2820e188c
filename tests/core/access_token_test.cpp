// Access tokens (core/access_token.hpp) and the OAuth2 use cases (core/oauth.hpp): a signed token
// verifies; every refusal of the strict verification has its case (expired, not yet valid, wrong
// iss/aud, alg none, HS256 keyed with the public key, unknown kid, bad signature, tampered
// payload, padding and garbage base64url, oversized); the token endpoint's refusals; key rotation
// (the old key verifies until its last token expires, then leaves the JWKS).
#include "core/access_token.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "core/oauth.hpp"
#include "core/secrets.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::int64_t kNowS = 1'790'000'000;
constexpr std::string_view kIssuer = "https://proofgate.example";

struct Fixture {
  Ed25519KeyPair key = new_ed25519_key();
  std::string kid = token_key_id(key.public_key);
  TokenPolicy policy{std::string(kIssuer), std::string(kIssuer), kNowS, kTokenLeewaySeconds};
  TokenKeyLookup lookup = [this](std::string_view k) -> std::optional<std::string> {
    if (k == kid) return key.public_key;
    return std::nullopt;
  };

  TokenClaims claims() const {
    TokenClaims c;
    c.iss = c.aud = std::string(kIssuer);
    c.sub = c.client_id = "3f0c9a4e-1b2d-4c5e-8f70-112233445566";
    c.jti = "jti-1";
    c.scope = "age_over_18";
    c.iat = c.nbf = kNowS;
    c.exp = kNowS + 600;
    return c;
  }
  crypto::Result<TokenClaims, TokenError> verify(std::string_view token) const {
    return verify_access_token(token, policy, lookup);
  }
};

/// RFC 8032 Ed25519 over `input` with a raw 32-byte private key: a token with any header.
std::string ed25519_signature(std::string_view private_key, std::string_view input) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(private_key.data()), 32);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return sig;
}

std::string part(const json::object& o) {
  return base64url(json::serialize(o));
}

json::object payload_of(const TokenClaims& c) {
  return json::object{{"iss", c.iss},    {"aud", c.aud}, {"sub", c.sub}, {"client_id", c.client_id},
                      {"iat", c.iat},    {"nbf", c.nbf}, {"exp", c.exp}, {"jti", c.jti},
                      {"scope", c.scope}};
}

std::string signed_token(const Fixture& f, const json::object& header,
                         const json::object& payload) {
  const std::string input = part(header) + "." + part(payload);
  return input + "." + base64url(ed25519_signature(f.key.private_key, input));
}

json::object eddsa_header(const Fixture& f) {
  return json::object{{"alg", "EdDSA"}, {"typ", "at+jwt"}, {"kid", f.kid}};
}

void expect_refused(const crypto::Result<TokenClaims, TokenError>& r, TokenError why) {
  ASSERT_FALSE(r.ok()) << "accepted; expected " << token_error_text(why);
  EXPECT_EQ(r.error(), why) << token_error_text(r.error());
}

TEST(AccessToken, a_signed_token_verifies_with_its_claims) {
  Fixture f;
  const std::string token = sign_access_token(f.claims(), f.kid, f.key.private_key);
  EXPECT_TRUE(looks_like_jwt(token));
  EXPECT_FALSE(looks_like_jwt("pgk_abcdefgh_" + std::string(43, 'a')));
  const auto r = f.verify(token);
  ASSERT_TRUE(r.ok()) << token_error_text(r.error());
  EXPECT_EQ(r->sub, f.claims().sub);
  EXPECT_EQ(r->scope, "age_over_18");
  EXPECT_EQ(r->exp, kNowS + 600);
  // The header as RFC 9068 types it.
  const auto header = json::parse(*base64url_decode(token.substr(0, token.find('.'))));
  EXPECT_EQ(header.at("alg").as_string(), "EdDSA");
  EXPECT_EQ(header.at("typ").as_string(), "at+jwt");
  EXPECT_EQ(header.at("kid").as_string(), f.kid);
}

TEST(AccessToken, refuses_an_expired_token_beyond_the_leeway_only) {
  Fixture f;
  TokenClaims c = f.claims();
  c.exp = kNowS - kTokenLeewaySeconds + 1;
  EXPECT_TRUE(f.verify(sign_access_token(c, f.kid, f.key.private_key)).ok());
  c.exp = kNowS - kTokenLeewaySeconds;
  expect_refused(f.verify(sign_access_token(c, f.kid, f.key.private_key)), TokenError::kExpired);
}

TEST(AccessToken, refuses_a_token_not_yet_valid_by_nbf_or_iat) {
  Fixture f;
  TokenClaims c = f.claims();
  c.nbf = kNowS + kTokenLeewaySeconds;
  EXPECT_TRUE(f.verify(sign_access_token(c, f.kid, f.key.private_key)).ok());
  c.nbf = kNowS + kTokenLeewaySeconds + 1;
  expect_refused(f.verify(sign_access_token(c, f.kid, f.key.private_key)),
                 TokenError::kNotYetValid);
  c = f.claims();
  c.iat = kNowS + 120;
  expect_refused(f.verify(sign_access_token(c, f.kid, f.key.private_key)),
                 TokenError::kNotYetValid);
}

TEST(AccessToken, refuses_a_wrong_audience_or_issuer) {
  Fixture f;
  TokenClaims c = f.claims();
  c.aud = "https://other.example";
  expect_refused(f.verify(sign_access_token(c, f.kid, f.key.private_key)),
                 TokenError::kWrongAudience);
  c = f.claims();
  c.iss = "https://other.example";
  expect_refused(f.verify(sign_access_token(c, f.kid, f.key.private_key)),
                 TokenError::kWrongIssuer);
  // An audience array holding ours is accepted (RFC 7519 §4.1.3); one without it is not.
  json::object p = payload_of(f.claims());
  p["aud"] = json::array{"https://other.example", kIssuer};
  EXPECT_TRUE(f.verify(signed_token(f, eddsa_header(f), p)).ok());
  p["aud"] = json::array{"https://other.example"};
  expect_refused(f.verify(signed_token(f, eddsa_header(f), p)), TokenError::kWrongAudience);
}

TEST(AccessToken, refuses_alg_none_with_or_without_a_signature) {
  Fixture f;
  const std::string unsigned_input = part({{"alg", "none"}, {"typ", "at+jwt"}, {"kid", f.kid}}) +
                                     "." + part(payload_of(f.claims()));
  expect_refused(f.verify(unsigned_input + "."), TokenError::kWrongAlgorithm);
  expect_refused(f.verify(unsigned_input + "." +
                          base64url(ed25519_signature(f.key.private_key, unsigned_input))),
                 TokenError::kWrongAlgorithm);
  // "EdDSA" exactly: no case games, no missing alg.
  expect_refused(f.verify(signed_token(f, {{"alg", "eddsa"}, {"typ", "at+jwt"}, {"kid", f.kid}},
                                       payload_of(f.claims()))),
                 TokenError::kWrongAlgorithm);
  expect_refused(
      f.verify(signed_token(f, {{"typ", "at+jwt"}, {"kid", f.kid}}, payload_of(f.claims()))),
      TokenError::kWrongAlgorithm);
}

TEST(AccessToken, refuses_hs256_keyed_with_the_public_key_and_rs256) {
  Fixture f;
  const std::string input = part({{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", f.kid}}) + "." +
                            part(payload_of(f.claims()));
  // The classic confusion: the verifier's public key used as an HMAC secret, in each form.
  for (const std::string& secret :
       {f.key.public_key, base64url(f.key.public_key), ed25519_jwk(f.key.public_key, f.kid)}) {
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    expect_refused(
        f.verify(input + "." + base64url(std::string_view(reinterpret_cast<char*>(mac), len))),
        TokenError::kWrongAlgorithm);
  }
  expect_refused(f.verify(signed_token(f, {{"alg", "RS256"}, {"typ", "at+jwt"}, {"kid", f.kid}},
                                       payload_of(f.claims()))),
                 TokenError::kWrongAlgorithm);
}

TEST(AccessToken, refuses_an_unknown_kid_and_a_signature_by_another_key) {
  Fixture f;
  Fixture other;
  expect_refused(f.verify(sign_access_token(f.claims(), "unknown-kid", f.key.private_key)),
                 TokenError::kUnknownKey);
  // Another key claiming our kid.
  expect_refused(f.verify(sign_access_token(f.claims(), f.kid, other.key.private_key)),
                 TokenError::kBadSignature);
}

TEST(AccessToken, refuses_a_tampered_payload_or_header) {
  Fixture f;
  const std::string token = sign_access_token(f.claims(), f.kid, f.key.private_key);
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 + 1);
  TokenClaims wider = f.claims();
  wider.scope = "age_over_18 citizenship";
  const std::string tampered =
      token.substr(0, dot1 + 1) + part(payload_of(wider)) + token.substr(dot2);
  expect_refused(f.verify(tampered), TokenError::kBadSignature);
  const std::string header = part({{"alg", "EdDSA"}, {"typ", "at+jwt"}, {"kid", f.kid}, {"x", 1}});
  expect_refused(f.verify(header + token.substr(dot1)), TokenError::kBadSignature);
  // Every byte of the signature matters.
  std::string sig = *base64url_decode(token.substr(dot2 + 1));
  sig[63] = static_cast<char>(sig[63] ^ 0x01);
  expect_refused(f.verify(token.substr(0, dot2 + 1) + base64url(sig)), TokenError::kBadSignature);
  expect_refused(f.verify(token.substr(0, dot2 + 1)), TokenError::kBadSignature);
}

TEST(AccessToken, refuses_padding_and_garbage_base64url) {
  Fixture f;
  const std::string token = sign_access_token(f.claims(), f.kid, f.key.private_key);
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 + 1);
  expect_refused(f.verify(token + "="), TokenError::kBadEncoding);
  expect_refused(f.verify(token.substr(0, dot1) + "=" + token.substr(dot1)),
                 TokenError::kBadEncoding);
  std::string garbage = token;
  garbage[dot2 + 5] = '!';
  expect_refused(f.verify(garbage), TokenError::kBadEncoding);
  garbage = token;
  garbage[1] = '+';  // the standard alphabet is not base64url
  expect_refused(f.verify(garbage), TokenError::kBadEncoding);
  // 86 characters encode 64 bytes with 4 unused bits: a non-zero one is a second spelling.
  std::string spelling = token;
  const char last = spelling.back();
  spelling.back() = last == 'A' ? 'B' : static_cast<char>(last + 1);
  EXPECT_FALSE(f.verify(spelling).ok());
  for (const std::string_view bad : {"", ".", "..", "a.b", "a.b.c.d", ".b.c", "a..c"})
    EXPECT_FALSE(f.verify(bad).ok()) << bad;
}

TEST(AccessToken, refuses_oversized_tokens_and_bad_headers_or_claims) {
  Fixture f;
  TokenClaims big = f.claims();
  big.jti = std::string(kMaxTokenBytes, 'j');
  expect_refused(f.verify(sign_access_token(big, f.kid, f.key.private_key)), TokenError::kTooLarge);
  expect_refused(f.verify(std::string(kMaxTokenBytes + 1, 'e')), TokenError::kTooLarge);
  expect_refused(f.verify(signed_token(f, {{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", f.kid}},
                                       payload_of(f.claims()))),
                 TokenError::kBadHeader);
  expect_refused(
      f.verify(signed_token(
          f, {{"alg", "EdDSA"}, {"typ", "at+jwt"}, {"kid", f.kid}, {"crit", json::array{"exp"}}},
          payload_of(f.claims()))),
      TokenError::kBadHeader);
  json::object p = payload_of(f.claims());
  p["exp"] = "never";
  expect_refused(f.verify(signed_token(f, eddsa_header(f), p)), TokenError::kBadClaims);
  p = payload_of(f.claims());
  p["client_id"] = "someone-else";
  expect_refused(f.verify(signed_token(f, eddsa_header(f), p)), TokenError::kBadClaims);
  const std::string input = part(eddsa_header(f)) + "." + base64url("[1,2]");
  expect_refused(f.verify(input + "." + base64url(ed25519_signature(f.key.private_key, input))),
                 TokenError::kBadClaims);
}

TEST(AccessToken, the_jwk_is_an_rfc8037_okp_key) {
  Fixture f;
  const auto jwk = json::parse(ed25519_jwk(f.key.public_key, f.kid)).as_object();
  EXPECT_EQ(jwk.size(), 6u);
  EXPECT_EQ(jwk.at("kty").as_string(), "OKP");
  EXPECT_EQ(jwk.at("crv").as_string(), "Ed25519");
  EXPECT_EQ(jwk.at("use").as_string(), "sig");
  EXPECT_EQ(jwk.at("alg").as_string(), "EdDSA");
  EXPECT_EQ(jwk.at("kid").as_string(), f.kid);
  EXPECT_EQ(*base64url_decode(jwk.at("x").as_string()), f.key.public_key);
}

// --- The use cases over the embedded store ---

class SettableClock final : public Clock {
 public:
  UnixMillis now_ms() const override { return now; }
  UnixMillis now = kNowS * 1000;
};

class OAuthServiceTest : public ::testing::Test {
 protected:
  OAuthServiceTest()
      : dir_(fs::temp_directory_path() /
             ("proofgate-oauth-test-" + std::to_string(std::random_device()()))),
        store_((fs::create_directories(dir_), store::SqliteSettings{.path = dir_ / "db.sqlite"})),
        oauth_(store_, store_, clock_, master_key_, {std::string(kIssuer), 600}) {
    client_.id = "3f0c9a4e-1b2d-4c5e-8f70-112233445566";
    client_.name = "Bank";
    client_.key_prefix = "abcdefgh";
    client_.scopes = {"age_over_18", "citizenship"};
    client_.domains = {"bank.example"};
    client_.created_at = clock_.now;
    secret_ = new_client_secret();
    client_.client_secret_hash.assign(secret_.hash.begin(), secret_.hash.end());
    store_.insert_client(client_);
  }
  ~OAuthServiceTest() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  TokenRequest request(std::optional<std::string> scope = std::nullopt) const {
    return TokenRequest{"client_credentials", std::move(scope), client_.id, secret_.text, false};
  }
  std::string kid_of(const std::string& token) {
    return std::string(
        json::parse(*base64url_decode(token.substr(0, token.find('.')))).at("kid").as_string());
  }
  std::vector<std::string> jwks_kids() {
    std::vector<std::string> kids;
    const json::value jwks = json::parse(oauth_.jwks_json());
    for (const auto& k : jwks.at("keys").as_array()) kids.emplace_back(k.at("kid").as_string());
    return kids;
  }
  AuditEntry audit(std::string action) {
    AuditEntry e;
    e.actor_type = std::string(kActorAdminCli);
    e.actor_id = "test";
    e.action = std::move(action);
    e.at = clock_.now;
    return e;
  }

  fs::path dir_;
  store::SqliteStore store_;
  SettableClock clock_;
  MasterKey master_key_{};
  OAuthService oauth_;
  Client client_;
  ClientSecret secret_;
};

TEST_F(OAuthServiceTest, issues_a_token_the_partner_routes_accept_with_the_tokens_scope) {
  const auto issued = oauth_.issue(request("citizenship"));
  ASSERT_TRUE(issued.ok()) << issued.error().description;
  EXPECT_EQ(issued->scope, "citizenship");
  EXPECT_EQ(issued->expires_in, 600);
  const auto client = oauth_.authenticate(issued->access_token);
  ASSERT_TRUE(client.ok()) << client.error().detail;
  EXPECT_EQ(client->id, client_.id);
  EXPECT_EQ(client->scopes, std::vector<std::string>{"citizenship"});
  // The first key was made on demand, sealed: its private half never stored in the clear.
  const auto keys = store_.token_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].private_sealed.find(keys[0].public_key), std::string::npos);
  EXPECT_TRUE(unseal(master_key_, keys[0].private_sealed, keys[0].kid).has_value());
}

TEST_F(OAuthServiceTest, refuses_a_wrong_secret_an_unknown_client_escalation_and_other_grants) {
  TokenRequest r = request();
  r.client_secret = new_client_secret().text;
  EXPECT_EQ(oauth_.issue(r).error().error, "invalid_client");
  EXPECT_EQ(oauth_.issue(r).error().status(), 401);
  r = request();
  r.client_id = "3f0c9a4e-1b2d-4c5e-8f70-000000000000";
  EXPECT_EQ(oauth_.issue(r).error().error, "invalid_client");
  EXPECT_EQ(oauth_.issue(request("age_over_18 income_gte")).error().error, "invalid_scope");
  EXPECT_EQ(oauth_.issue(request("")).error().error, "invalid_scope");
  r = request();
  r.grant_type = "authorization_code";
  EXPECT_EQ(oauth_.issue(r).error().error, "unsupported_grant_type");
  r.grant_type.reset();
  EXPECT_EQ(oauth_.issue(r).error().error, "invalid_request");
  EXPECT_EQ(oauth_.issue(request()).value().scope, "age_over_18 citizenship");
}

TEST_F(OAuthServiceTest, a_suspended_or_narrowed_partner_gets_no_more_than_it_has_now) {
  const auto issued = oauth_.issue(request());
  ASSERT_TRUE(issued.ok());
  Client narrowed = client_;
  narrowed.scopes = {"age_over_18"};
  ASSERT_FALSE(store_.update_client(narrowed, audit("client.updated")).has_value());
  EXPECT_EQ(oauth_.authenticate(issued->access_token).value().scopes,
            std::vector<std::string>{"age_over_18"});
  ASSERT_EQ(store_.set_client_suspended(client_.id, clock_.now, audit("client.suspended")),
            ClientChange::kChanged);
  EXPECT_EQ(oauth_.authenticate(issued->access_token).error().code, ErrorCode::kClientSuspended);
  EXPECT_EQ(oauth_.issue(request()).error().error, "unauthorized_client");
}

TEST_F(OAuthServiceTest, a_rotated_secret_replaces_the_old_one_at_once) {
  const auto rotated = rotate_client_secret(store_, client_.id, clock_.now, audit("x"));
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(oauth_.issue(request()).error().error, "invalid_client");
  TokenRequest r = request();
  r.client_secret = rotated->client_secret;
  EXPECT_TRUE(oauth_.issue(r).ok());
  EXPECT_EQ(
      rotate_client_secret(store_, "3f0c9a4e-1b2d-4c5e-8f70-000000000000", clock_.now, audit("x"))
          .error()
          .code,
      ErrorCode::kNotFound);
}

TEST_F(OAuthServiceTest, the_old_key_verifies_until_its_last_token_expires_then_leaves_the_jwks) {
  const std::string first = oauth_.issue(request()).value().access_token;
  const std::string old_kid = kid_of(first);
  const TokenKey fresh = oauth_.rotate_key(audit("token_key.rotated"));
  ASSERT_NE(fresh.kid, old_kid);
  clock_.now += 2000;  // past the issue path's reload interval
  const std::string second = oauth_.issue(request()).value().access_token;
  EXPECT_EQ(kid_of(second), fresh.kid);
  EXPECT_EQ(jwks_kids(), (std::vector<std::string>{fresh.kid, old_kid}));
  EXPECT_TRUE(oauth_.authenticate(first).ok());
  EXPECT_TRUE(oauth_.authenticate(second).ok());

  // The first token's exp is at most retired_at + TTL: past that and the leeway, the old key
  // goes (its tokens are expired anyway) and only the current key is published.
  clock_.now = fresh.created_at + (600 + kTokenLeewaySeconds) * 1000 + 1000;
  EXPECT_EQ(jwks_kids(), std::vector<std::string>{fresh.kid});
  EXPECT_FALSE(oauth_.authenticate(first).ok());
  const std::string third = oauth_.issue(request()).value().access_token;
  EXPECT_TRUE(oauth_.authenticate(third).ok());
}

TEST_F(OAuthServiceTest, another_instance_shares_the_keys_through_the_store) {
  const std::string token = oauth_.issue(request()).value().access_token;
  OAuthService other(store_, store_, clock_, master_key_, {std::string(kIssuer), 600});
  EXPECT_TRUE(other.authenticate(token).ok());
  EXPECT_EQ(store_.token_keys().size(), 1u);
  // Another master key cannot open the sealed private key.
  MasterKey wrong{};
  wrong[0] = 1;
  OAuthService sealed_out(store_, store_, clock_, wrong, {std::string(kIssuer), 600});
  EXPECT_THROW((void)sealed_out.issue(request()), std::runtime_error);
  // Another issuer's tokens are not this one's.
  OAuthService elsewhere(store_, store_, clock_, master_key_, {"https://elsewhere.example", 600});
  EXPECT_EQ(elsewhere.authenticate(token).error().code, ErrorCode::kUnauthorized);
}

}  // namespace
}  // namespace pg::core
