// core::AccountService over SqliteStore with a clock the test moves: invitation and enrolment,
// sign-in with password and TOTP, one answer for every wrong credential, lock-out with back-off,
// replayed codes, session timeouts, disabling, and the audit trail (never a password or code).
#include "core/accounts.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "store/sqlite/sqlite_store.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;

class ManualClock final : public Clock {
 public:
  UnixMillis now_ms() const override { return now; }
  UnixMillis now = 1'800'000'000'000;  // a whole TOTP step
};

class AccountServiceTest : public ::testing::Test {
 protected:
  AccountServiceTest() {
    std::random_device random;
    dir_ = fs::temp_directory_path() / ("proofgate-accounts-" + std::to_string(random()));
    fs::create_directories(dir_);
    store_ = std::make_unique<store::SqliteStore>(store::SqliteSettings{.path = dir_ / "p.db"});
    key_.fill(7);
    AccountSettings s;
    s.public_url = "https://admin.example.org/";
    s.password_cost = kTestPasswordCost;
    service_ = std::make_unique<AccountService>(*store_, *store_, clock_, key_, s);
  }
  ~AccountServiceTest() override {
    service_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  static std::string token_of(const std::string& link) {
    return link.substr(link.find("#token=") + 7);
  }
  /// The code of `secret` (base32) at the clock's step + `offset`.
  std::string code(const std::string& secret, std::int64_t offset = 0,
                   TotpAlgorithm a = TotpAlgorithm::kSha1) const {
    const auto step = totp_step(clock_.now / 1000) + offset;
    return hotp(*base32_decode(secret), static_cast<std::uint64_t>(step), 6, a);
  }
  /// An active admin: its email and TOTP secret (the enrolment used the current step).
  std::pair<std::string, std::string> enrolled(const std::string& email, const std::string& role) {
    auto created = service_->create_admin(actor_, email, role);
    EXPECT_TRUE(created);
    const std::string token = token_of(created->enrolment_link);
    auto secret = service_->start_enrolment(token, kPassword, "");
    EXPECT_TRUE(secret);
    EXPECT_TRUE(service_->confirm_enrolment(token, code(secret->secret_base32)));
    return {email, secret->secret_base32};
  }
  std::vector<AuditEntry> audit() { return store_->list_audit(0, 1LL << 50, 10000); }

  static constexpr std::string_view kPassword = "a long admin password";
  const Actor actor_{std::string(kActorAdminCli), "root"};
  fs::path dir_;
  ManualClock clock_;
  MasterKey key_{};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<AccountService> service_;
};

TEST_F(AccountServiceTest, create_admin_gives_a_one_time_link_under_the_public_url) {
  auto created = service_->create_admin(actor_, "Ops@Example.org", "viewer");
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->enrolment_link.starts_with("https://admin.example.org/console/enrol#token="))
      << created->enrolment_link;
  EXPECT_EQ(created->account.email, "ops@example.org");
  EXPECT_EQ(created->account.status, "invited");
  EXPECT_EQ(created->account.enrolment_expires_at, clock_.now + 24LL * 3600 * 1000);
  // Only the token's SHA-256 is kept.
  EXPECT_EQ(created->account.enrolment_sha256, token_sha256(token_of(created->enrolment_link)));
  auto again = service_->create_admin(actor_, "ops@example.org", "operator");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(service_->create_admin(actor_, "not-an-email", "viewer").error().field, "email");
  EXPECT_EQ(service_->create_admin(actor_, "x@example.org", "root").error().field, "role");
  ASSERT_EQ(audit().size(), 1u);
  EXPECT_EQ(audit()[0].action, "admin.created");
}

TEST_F(AccountServiceTest, enrolment_sets_password_and_key_then_a_code_activates_it) {
  auto created = service_->create_admin(actor_, "e@example.org", "operator");
  const std::string token = token_of(created->enrolment_link);
  EXPECT_EQ(service_->start_enrolment(token, "short", "").error().field, "password");
  EXPECT_EQ(service_->start_enrolment(token, kPassword, "MD5").error().field, "algorithm");
  EXPECT_EQ(service_->start_enrolment("wrong", kPassword, "").error().code,
            ErrorCode::kUnauthorized);
  EXPECT_EQ(service_->confirm_enrolment(token, "123456").error().code, ErrorCode::kConflict);
  auto secret = service_->start_enrolment(token, kPassword, "sha256");
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->algorithm, "SHA256");
  EXPECT_EQ(base32_decode(secret->secret_base32)->size(), 32u);
  EXPECT_TRUE(secret->otpauth_uri.starts_with("otpauth://totp/proofgate:e@example.org?secret=" +
                                              secret->secret_base32));
  const auto stored = store_->find_admin(created->account.id);
  EXPECT_TRUE(stored->password_hash.starts_with("$argon2id$"));
  EXPECT_EQ(stored->totp_secret_sealed.find(*base32_decode(secret->secret_base32)),
            std::string::npos);  // sealed, not in the clear
  EXPECT_FALSE(service_->confirm_enrolment(token, "12345"));
  const std::string sha256_code = code(secret->secret_base32, 0, TotpAlgorithm::kSha256);
  const std::string sha1_code = code(secret->secret_base32, 0, TotpAlgorithm::kSha1);
  if (sha1_code != sha256_code) {
    EXPECT_FALSE(service_->confirm_enrolment(token, sha1_code));
  }
  auto active = service_->confirm_enrolment(token, sha256_code);
  ASSERT_TRUE(active);
  EXPECT_EQ(active->status, "active");
  // The link is used up.
  EXPECT_EQ(service_->start_enrolment(token, kPassword, "").error().code, ErrorCode::kUnauthorized);
}

TEST_F(AccountServiceTest, an_expired_enrolment_link_is_refused) {
  auto created = service_->create_admin(actor_, "late@example.org", "viewer");
  clock_.now += 24LL * 3600 * 1000;
  EXPECT_EQ(
      service_->start_enrolment(token_of(created->enrolment_link), kPassword, "").error().code,
      ErrorCode::kUnauthorized);
}

TEST_F(AccountServiceTest, sign_in_gives_a_session_with_its_role_and_csrf_token) {
  const auto [email, secret] = enrolled("s@example.org", "approver");
  auto out = service_->sign_in("S@example.org", kPassword, code(secret, 1), "127.0.0.1");
  ASSERT_TRUE(std::holds_alternative<SignedIn>(out));
  const auto& in = std::get<SignedIn>(out);
  EXPECT_EQ(in.account.role, "approver");
  EXPECT_EQ(in.expires_at, clock_.now + 8LL * 3600 * 1000);
  const auto current = service_->session(in.session_token);
  ASSERT_TRUE(current);
  EXPECT_EQ(current->account.email, "s@example.org");
  EXPECT_EQ(current->session.csrf_sha256, token_sha256(in.csrf_token));
  EXPECT_EQ(admin_actor(current->account).role, Role::kApprover);
  EXPECT_EQ(admin_actor(current->account).type, "admin_account");
  EXPECT_FALSE(service_->session(in.session_token + "x"));
  EXPECT_TRUE(service_->sign_out(in.session_token));
  EXPECT_FALSE(service_->session(in.session_token));
}

TEST_F(AccountServiceTest, wrong_email_password_or_code_get_the_same_refusal) {
  const auto [email, secret] = enrolled("w@example.org", "viewer");
  for (const auto& [e, p, c] :
       {std::tuple{std::string("nobody@example.org"), std::string(kPassword), code(secret, 1)},
        std::tuple{email, std::string("another long password"), code(secret, 1)},
        std::tuple{email, std::string(kPassword), std::string("000000")}}) {
    const auto out = service_->sign_in(e, p, c, "10.0.0.1");
    ASSERT_TRUE(std::holds_alternative<SignInRefused>(out)) << e;
    EXPECT_EQ(std::get<SignInRefused>(out).retry_after_seconds, 0);
  }
}

TEST_F(AccountServiceTest, a_code_whose_step_was_used_is_refused) {
  const auto [email, secret] = enrolled("r@example.org", "viewer");
  // The enrolment used the current step: its code cannot sign in.
  EXPECT_TRUE(std::holds_alternative<SignInRefused>(
      service_->sign_in(email, kPassword, code(secret, 0), "")));
  EXPECT_TRUE(
      std::holds_alternative<SignedIn>(service_->sign_in(email, kPassword, code(secret, 1), "")));
  EXPECT_TRUE(std::holds_alternative<SignInRefused>(
      service_->sign_in(email, kPassword, code(secret, 1), "")));
}

TEST_F(AccountServiceTest, five_failures_lock_with_doubling_back_off) {
  const auto [email, secret] = enrolled("l@example.org", "viewer");
  for (int i = 1; i <= 4; ++i) {
    const auto out = service_->sign_in(email, "wrong password!", code(secret, 1), "");
    EXPECT_EQ(std::get<SignInRefused>(out).retry_after_seconds, 0) << i;
  }
  auto fifth = service_->sign_in(email, "wrong password!", code(secret, 1), "");
  EXPECT_EQ(std::get<SignInRefused>(fifth).retry_after_seconds, 60);
  // Locked: even the right credentials wait.
  clock_.now += 30'000;
  auto locked = service_->sign_in(email, kPassword, code(secret, 1), "");
  EXPECT_EQ(std::get<SignInRefused>(locked).retry_after_seconds, 30);
  clock_.now += 30'000;
  auto sixth = service_->sign_in(email, "wrong password!", code(secret, 1), "");
  EXPECT_EQ(std::get<SignInRefused>(sixth).retry_after_seconds, 120);
  clock_.now += 120'000;
  EXPECT_TRUE(
      std::holds_alternative<SignedIn>(service_->sign_in(email, kPassword, code(secret, 1), "")));
  EXPECT_EQ(store_->find_admin_by_email(email)->failed_sign_ins, 0);
}

TEST_F(AccountServiceTest, sessions_end_after_idle_time_and_at_their_absolute_expiry) {
  const auto [email, secret] = enrolled("t@example.org", "viewer");
  auto first = std::get<SignedIn>(service_->sign_in(email, kPassword, code(secret, 1), ""));
  clock_.now += 14 * 60'000;
  EXPECT_TRUE(service_->session(first.session_token));  // seen: the idle clock restarts
  clock_.now += 14 * 60'000;
  EXPECT_TRUE(service_->session(first.session_token));
  clock_.now += 15 * 60'000 + 1;
  EXPECT_FALSE(service_->session(first.session_token));  // idle too long

  clock_.now += 60'000;
  auto second = std::get<SignedIn>(service_->sign_in(email, kPassword, code(secret, 1), ""));
  for (int i = 0; i < 8 * 6; ++i) {  // every 10 minutes for 8 hours
    clock_.now += 10 * 60'000;
    if (clock_.now >= second.expires_at) break;
    EXPECT_TRUE(service_->session(second.session_token)) << i;
  }
  EXPECT_FALSE(service_->session(second.session_token));
}

TEST_F(AccountServiceTest, disabling_ends_sessions_and_refuses_sign_in) {
  const auto [email, secret] = enrolled("d@example.org", "operator");
  auto in = std::get<SignedIn>(service_->sign_in(email, kPassword, code(secret, 1), ""));
  ASSERT_TRUE(service_->disable_admin(actor_, email));
  EXPECT_FALSE(service_->session(in.session_token));
  clock_.now += 30'000;
  EXPECT_TRUE(std::holds_alternative<SignInRefused>(
      service_->sign_in(email, kPassword, code(secret, 1), "")));
  EXPECT_EQ(service_->disable_admin(actor_, "nobody@example.org").error().code,
            ErrorCode::kNotFound);
}

TEST_F(AccountServiceTest, every_sign_in_is_audited_without_password_or_code) {
  const auto [email, secret] = enrolled("a@example.org", "viewer");
  const std::string good = code(secret, 1);
  (void)service_->sign_in(email, "wrong password!", good, "192.0.2.1");
  (void)service_->sign_in("ghost@example.org", kPassword, good, "192.0.2.1");
  auto in = std::get<SignedIn>(service_->sign_in(email, kPassword, good, "192.0.2.1"));
  ASSERT_TRUE(service_->sign_out(in.session_token));
  std::vector<std::string> actions;
  for (const auto& e : audit()) {
    actions.push_back(e.action);
    EXPECT_EQ(e.details_json.find(std::string(kPassword)), std::string::npos) << e.action;
    EXPECT_EQ(e.details_json.find(good), std::string::npos) << e.action;
    EXPECT_EQ(e.details_json.find(in.session_token), std::string::npos) << e.action;
  }
  EXPECT_EQ(actions,
            (std::vector<std::string>{"admin.created", "admin.enrolment_started", "admin.enrolled",
                                      "admin.sign_in_failed", "admin.sign_in_failed",
                                      "admin.signed_in", "admin.signed_out"}));
}

}  // namespace
}  // namespace pg::core
