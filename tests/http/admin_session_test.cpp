// http::AdminApi's session cookie over core::AccountService and the embedded store, with a clock
// the test moves: an accepted request keeps the session alive, one refused for its CSRF token
// does not.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/accounts.hpp"
#include "core/admin_service.hpp"
#include "http/admin.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::http {
namespace {

namespace fs = std::filesystem;

class ManualClock final : public core::Clock {
 public:
  core::UnixMillis now_ms() const override { return now; }
  core::UnixMillis now = 1'800'000'000'000;
};

class NoWebhooks final : public core::WebhookPolicy {
 public:
  std::optional<std::string> refuse(std::string_view, bool) const override { return "off"; }
  std::string new_secret() const override { return "whsec_test"; }
};

class AdminSessionTest : public ::testing::Test {
 protected:
  AdminSessionTest()
      : dir_(fs::temp_directory_path() /
             ("proofgate-admin-session-" + std::to_string(std::random_device()()))),
        store_((fs::create_directories(dir_), store::SqliteSettings{.path = dir_ / "p.db"})),
        admin_({store_, store_, store_, store_, clock_, key_, webhooks_, [] {}}),
        accounts_(store_, store_, clock_, key_, settings()),
        api_(admin_, std::nullopt, core::Role::kOperator, &accounts_) {
    const core::Actor cli{std::string(core::kActorAdminCli), "root"};
    auto created = accounts_.create_admin(cli, "op@example.org", "operator");
    const std::string link = created->enrolment_link;
    const std::string token = link.substr(link.find("#token=") + 7);
    auto secret = accounts_.start_enrolment(token, "a long admin password", "");
    const std::string key = *core::base32_decode(secret->secret_base32);
    const auto code = [&](int offset) {
      return core::hotp(key,
                        static_cast<std::uint64_t>(core::totp_step(clock_.now / 1000) + offset), 6,
                        core::TotpAlgorithm::kSha1);
    };
    EXPECT_TRUE(accounts_.confirm_enrolment(token, code(0)));
    auto in = accounts_.sign_in("op@example.org", "a long admin password", code(1), "");
    const auto& signed_in = std::get<core::SignedIn>(in);
    cookie_ = std::string(AdminApi::kCookie) + "=" + signed_in.session_token;
  }
  ~AdminSessionTest() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  static core::AccountSettings settings() {
    core::AccountSettings s;
    s.password_cost = core::kTestPasswordCost;
    return s;
  }
  int who_am_i() {
    HttpRequest r;
    r.method = "GET";
    r.cookie = cookie_;
    return api_.handle(RouteId::kAdminWhoAmI, r, {}).status;
  }
  int revoke_without_csrf() {
    HttpRequest r;
    r.method = "POST";
    r.cookie = cookie_;
    r.content_type = "application/json";
    r.body = "{}";
    const std::string id = core::uuid_v4();
    return api_.handle(RouteId::kAdminRevokeKey, r, {id}).status;
  }

  fs::path dir_;
  ManualClock clock_;
  core::MasterKey key_{};
  NoWebhooks webhooks_;
  store::SqliteStore store_;
  core::AdminService admin_;
  core::AccountService accounts_;
  AdminApi api_;
  std::string cookie_;
};

TEST_F(AdminSessionTest, an_accepted_request_restarts_the_idle_time) {
  clock_.now += 14 * 60'000;
  EXPECT_EQ(who_am_i(), 200);
  clock_.now += 14 * 60'000;
  EXPECT_EQ(who_am_i(), 200);
}

TEST_F(AdminSessionTest, a_request_refused_for_its_csrf_token_does_not_keep_the_session_alive) {
  clock_.now += 14 * 60'000;
  EXPECT_EQ(revoke_without_csrf(), 403);
  clock_.now += 2 * 60'000;  // 16 minutes after the last accepted request
  EXPECT_EQ(who_am_i(), 401);
}

}  // namespace
}  // namespace pg::http
