// The token endpoint's HTTP layer (http/oauth_api.hpp) as a plain function: form decoding, Basic
// credentials (RFC 6749 §2.3.1), one client authentication only, RFC 6749 §5.1/§5.2 answers with
// their headers, and a 401 the failed-authentication throttle counts.
#include "http/oauth_api.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <random>

#include "core/secrets.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::http {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string header(const HttpReply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(OAuthForm, decodes_pairs_plus_and_percent_escapes_and_refuses_bad_escapes) {
  const auto form = parse_form("grant_type=client_credentials&scope=a+b%20c&empty=&flag&&x=%7e");
  ASSERT_TRUE(form.has_value());
  const std::vector<std::pair<std::string, std::string>> expected{
      {"grant_type", "client_credentials"},
      {"scope", "a b c"},
      {"empty", ""},
      {"flag", ""},
      {"x", "~"}};
  EXPECT_EQ(*form, expected);
  EXPECT_TRUE(parse_form("")->empty());
  for (const std::string_view bad : {"a=%", "a=%4", "a=%zz", "%g0=1"})
    EXPECT_EQ(parse_form(bad), std::nullopt) << bad;
}

TEST(OAuthForm, basic_credentials_are_base64_of_form_encoded_id_and_secret) {
  const std::string id = "3f0c9a4e-1b2d-4c5e-8f70-112233445566";
  auto c = basic_credentials("Basic " + core::base64(id + ":pgs_se%2Bcret"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->first, id);
  EXPECT_EQ(c->second, "pgs_se+cret");
  EXPECT_TRUE(basic_credentials("basic " + core::base64("a:b")).has_value());  // case-insensitive
  EXPECT_EQ(basic_credentials("Basic " + core::base64("no-colon")), std::nullopt);
  EXPECT_EQ(basic_credentials("Bearer " + core::base64("a:b")), std::nullopt);
  EXPECT_EQ(basic_credentials("Basic YTpiYw"), std::nullopt);  // unpadded "a:bc"
  EXPECT_EQ(basic_credentials("Basic YTpi=="), std::nullopt);  // padding after a full group
  EXPECT_TRUE(basic_credentials("Basic YTpiYw==").has_value());
  EXPECT_EQ(basic_credentials("Basic YT-i"), std::nullopt);  // base64url is not base64
  EXPECT_EQ(basic_credentials("Basic "), std::nullopt);
}

class OAuthApiTest : public ::testing::Test {
 protected:
  OAuthApiTest()
      : dir_(fs::temp_directory_path() /
             ("proofgate-oauth-api-test-" + std::to_string(std::random_device()()))),
        store_((fs::create_directories(dir_), store::SqliteSettings{.path = dir_ / "db.sqlite"})),
        oauth_(store_, store_, clock_, master_key_, {"https://proofgate.example", 600}),
        api_(oauth_, store_, nullptr, clock_) {
    client_.id = "3f0c9a4e-1b2d-4c5e-8f70-112233445566";
    client_.name = "Bank";
    client_.key_prefix = "abcdefgh";
    client_.scopes = {"age_over_18"};
    client_.domains = {"bank.example"};
    secret_ = core::new_client_secret();
    client_.client_secret_hash.assign(secret_.hash.begin(), secret_.hash.end());
    store_.insert_client(client_);
  }
  ~OAuthApiTest() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  HttpReply token(std::string_view body, std::string_view authorization = "",
                  std::string_view content_type = "application/x-www-form-urlencoded") {
    HttpRequest r;
    r.method = "POST";
    r.target = "/oauth/token";
    r.content_type = content_type;
    r.authorization = authorization;
    r.body = body;
    return api_.handle(RouteId::kOAuthToken, r, {});
  }
  std::string basic(std::string_view secret) const {
    return "Basic " + core::base64(client_.id + ":" + std::string(secret));
  }
  static std::string error_of(const HttpReply& r) {
    return std::string(json::parse(r.body).at("error").as_string());
  }

  fs::path dir_;
  store::SqliteStore store_;
  core::SystemClock clock_;
  core::MasterKey master_key_{};
  core::OAuthService oauth_;
  OAuthApi api_;
  core::Client client_;
  core::ClientSecret secret_;
};

TEST_F(OAuthApiTest, answers_a_token_by_basic_or_post_never_cached) {
  const HttpReply by_basic = token("grant_type=client_credentials", basic(secret_.text));
  ASSERT_EQ(by_basic.status, 200) << by_basic.body;
  EXPECT_EQ(header(by_basic, "Cache-Control"), "no-store");
  const auto body = json::parse(by_basic.body).as_object();
  EXPECT_EQ(body.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(body.at("expires_in").as_int64(), 600);
  EXPECT_EQ(body.at("scope").as_string(), "age_over_18");
  EXPECT_TRUE(oauth_.authenticate(body.at("access_token").as_string()).ok());
  EXPECT_EQ(by_basic.partner_id, client_.id);
  EXPECT_EQ(by_basic.mode, "live");  // the log line names the client's mode

  const HttpReply post_ok = token(
      "grant_type=client_credentials&client_id=" + client_.id + "&client_secret=" + secret_.text,
      "", "application/x-www-form-urlencoded; charset=UTF-8");
  EXPECT_EQ(post_ok.status, 200) << post_ok.body;
}

TEST_F(OAuthApiTest, a_wrong_secret_is_a_401_the_throttle_counts_with_a_basic_challenge) {
  const HttpReply r = token("grant_type=client_credentials", basic("pgs_wrong"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_of(r), "invalid_client");
  EXPECT_EQ(r.error_code, "UNAUTHORIZED");
  EXPECT_EQ(header(r, "WWW-Authenticate").rfind("Basic", 0), 0u);
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");
  const HttpReply post =
      token("grant_type=client_credentials&client_id=" + client_.id + "&client_secret=pgs_wrong");
  EXPECT_EQ(post.status, 401);
  EXPECT_EQ(header(post, "WWW-Authenticate"), "") << "no Basic challenge for client_secret_post";
  EXPECT_EQ(token("grant_type=client_credentials", "Basic !!!!").status, 401);
  EXPECT_EQ(token("grant_type=client_credentials").status, 401);
}

TEST_F(OAuthApiTest, refuses_two_authentications_repeats_and_other_bodies) {
  const HttpReply both = token(
      "grant_type=client_credentials&client_id=" + client_.id + "&client_secret=" + secret_.text,
      basic(secret_.text));
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(error_of(both), "invalid_request");
  EXPECT_EQ(error_of(token("grant_type=client_credentials&grant_type=client_credentials",
                           basic(secret_.text))),
            "invalid_request");
  EXPECT_EQ(error_of(token(R"({"grant_type":"client_credentials"})", basic(secret_.text),
                           "application/json")),
            "invalid_request");
  EXPECT_EQ(error_of(token("grant_type=%zz", basic(secret_.text))), "invalid_request");
  EXPECT_EQ(error_of(token("grant_type=client_credentials&scope=citizenship", basic(secret_.text))),
            "invalid_scope");
  EXPECT_EQ(error_of(token("grant_type=refresh_token", basic(secret_.text))),
            "unsupported_grant_type");
}

TEST_F(OAuthApiTest, the_jwks_is_briefly_cacheable_and_lists_the_current_key) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/.well-known/jwks.json";
  const HttpReply reply = api_.handle(RouteId::kJwks, r, {});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(header(reply, "Cache-Control"), "public, max-age=60");
  const auto keys = json::parse(reply.body).at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].at("kid").as_string(), store_.token_keys().at(0).kid);
}

}  // namespace
}  // namespace pg::http
