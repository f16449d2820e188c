// core::CitizenService over SqliteStore, the in-process cache and a clock the test moves: sign-in
// codes (wrong, expired, lock-out, rate limit), refresh rotation and family revocation, link
// tokens bound to their nonce and audience, the language every message speaks, deletion.
#include "core/citizens.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <random>

#include "cache/memory/memory_cache.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kPhone = "+9779812345678";
constexpr std::string_view kNonce = "AAAAAAAAAAAAAAAAAAAAAA";
constexpr std::string_view kOtherNonce = "BBBBBBBBBBBBBBBBBBBBBB";

class ManualClock final : public Clock {
 public:
  UnixMillis now_ms() const override { return now; }
  UnixMillis now = 1'800'000'000'000;
};

/// The last message sent to each number.
class RecordingSender final : public CodeSender {
 public:
  void send(std::string_view phone, std::string_view text) override {
    last[std::string(phone)] = std::string(text);
    ++sent;
  }
  std::string code(std::string_view phone) const {
    const std::string& text = last.at(std::string(phone));
    return text.substr(text.size() - 6);
  }
  std::map<std::string, std::string> last;
  int sent = 0;
};

std::string body(const json::object& o) {
  return json::serialize(o);
}

class CitizenServiceTest : public ::testing::Test {
 protected:
  CitizenServiceTest() {
    std::random_device random;
    dir_ = fs::temp_directory_path() / ("proofgate-citizens-" + std::to_string(random()));
    fs::create_directories(dir_);
    store_ = std::make_unique<store::SqliteStore>(store::SqliteSettings{.path = dir_ / "p.db"});
    key_.fill(7);
    cache_ = std::make_unique<cache::MemoryCache>(clock_);
    oauth_ = std::make_unique<OAuthService>(*store_, *store_, clock_, key_,
                                            OAuthSettings{"https://pg.example", 600});
    service_ = std::make_unique<CitizenService>(*store_, *oauth_, *cache_, sms_, clock_, key_);
  }
  ~CitizenServiceTest() override {
    service_.reset();
    oauth_.reset();
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  /// Signs in `phone` with the code sent: the token pair.
  CitizenTokens signed_in(std::string_view phone = kPhone, std::string_view language = "") {
    json::object start{{"phone", phone}};
    if (!language.empty()) start["language"] = language;
    EXPECT_TRUE(service_->start_sign_in(body(start)));
    start["code"] = sms_.code(phone);
    auto tokens = service_->finish_sign_in(body(start));
    EXPECT_TRUE(tokens) << (tokens ? "" : tokens.error().detail);
    return tokens ? *tokens : CitizenTokens{};
  }
  CitizenSession session(const CitizenTokens& t) {
    auto s = service_->authenticate("Bearer " + t.access_token);
    EXPECT_TRUE(s) << (s ? "" : s.error().detail);
    return *s;
  }
  Outcome<CitizenTokens> refresh(const std::string& token) {
    return service_->refresh(body({{"refresh_token", token}}));
  }

  fs::path dir_;
  ManualClock clock_;
  MasterKey key_{};
  RecordingSender sms_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<cache::MemoryCache> cache_;
  std::unique_ptr<OAuthService> oauth_;
  std::unique_ptr<CitizenService> service_;
};

TEST_F(CitizenServiceTest, sign_in_sends_six_digits_and_one_account_per_phone_keeps_no_number) {
  const CitizenTokens first = signed_in();
  const std::string code = sms_.code(kPhone);
  EXPECT_EQ(code.size(), 6u);
  EXPECT_TRUE(std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }));
  const CitizenTokens second = signed_in();
  EXPECT_EQ(session(first).citizen.id, session(second).citizen.id);
  EXPECT_EQ(session(first).citizen.phone_mac.find("9812345678"), std::string::npos);
  EXPECT_EQ(session(first).citizen.phone_mac, service_->mac("phone", kPhone));
  EXPECT_NE(session(signed_in("+9779800000001")).citizen.id, session(first).citizen.id);
}

TEST_F(CitizenServiceTest, refuses_a_malformed_phone_naming_the_field) {
  for (const char* phone : {"9812345678", "+0977981234", "+97798123456789012", "+977abc45678"}) {
    auto sent = service_->start_sign_in(body({{"phone", phone}}));
    ASSERT_FALSE(sent) << phone;
    EXPECT_EQ(sent.error().code, ErrorCode::kInvalidRequest);
    EXPECT_EQ(sent.error().field, "phone");
  }
  auto unknown = service_->start_sign_in(body({{"phone", kPhone}, {"extra", 1}}));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().field, "extra");
  EXPECT_EQ(sms_.sent, 0);
}

TEST_F(CitizenServiceTest, a_wrong_code_and_an_expired_code_have_distinct_error_codes) {
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  const std::string code = sms_.code(kPhone);
  const std::string wrong = code == "000000" ? "000001" : "000000";
  auto refused = service_->finish_sign_in(body({{"phone", kPhone}, {"code", wrong}}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kWrongCode);
  clock_.now += 301'000;  // past the code's 300 s
  auto expired = service_->finish_sign_in(body({{"phone", kPhone}, {"code", code}}));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, ErrorCode::kCodeExpired);
  // A code is spent by its use: the same code again is expired.
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  const std::string fresh = sms_.code(kPhone);
  ASSERT_TRUE(service_->finish_sign_in(body({{"phone", kPhone}, {"code", fresh}})));
  auto again = service_->finish_sign_in(body({{"phone", kPhone}, {"code", fresh}}));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kCodeExpired);
}

TEST_F(CitizenServiceTest, five_wrong_codes_lock_the_phone_out_even_for_the_right_code) {
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  const std::string code = sms_.code(kPhone);
  const std::string wrong = code == "000000" ? "000001" : "000000";
  for (int i = 0; i < 4; ++i) {
    auto r = service_->finish_sign_in(body({{"phone", kPhone}, {"code", wrong}}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kWrongCode) << i;
  }
  auto locked = service_->finish_sign_in(body({{"phone", kPhone}, {"code", wrong}}));
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(locked.error().retry_after_s, 900);
  auto right = service_->finish_sign_in(body({{"phone", kPhone}, {"code", code}}));
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().code, ErrorCode::kRateLimited);
  auto no_new_code = service_->start_sign_in(body({{"phone", kPhone}}));
  ASSERT_FALSE(no_new_code);
  EXPECT_EQ(no_new_code.error().code, ErrorCode::kRateLimited);
  // The old code died with the lock; after the lock-out a new code signs in.
  clock_.now += 901'000;
  auto old = service_->finish_sign_in(body({{"phone", kPhone}, {"code", code}}));
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, ErrorCode::kCodeExpired);
  EXPECT_TRUE(signed_in().access_token.size() > 0);
}

TEST_F(CitizenServiceTest,
       attempts_are_counted_before_the_comparison_so_parallel_guesses_share_them) {
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  const std::string code = sms_.code(kPhone);
  // Five guesses in flight at once have each taken an attempt before any of them compared.
  const std::string mac = service_->mac("phone", kPhone);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->take_code_attempt(mac, clock_.now, 5).taken);
  auto sixth = service_->finish_sign_in(body({{"phone", kPhone}, {"code", code}}));
  ASSERT_FALSE(sixth);
  EXPECT_EQ(sixth.error().code, ErrorCode::kRateLimited);  // the attempts are spent: locked
}

TEST_F(CitizenServiceTest, a_new_code_does_not_reset_the_wrong_guesses_counted_for_the_phone) {
  const std::string mac = service_->mac("phone", kPhone);
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  const auto guess_wrong = [&] {
    const std::string code = sms_.code(kPhone);
    return service_->finish_sign_in(
        body({{"phone", kPhone}, {"code", code == "000000" ? "000001" : "000000"}}));
  };
  for (int i = 0; i < 4; ++i) EXPECT_EQ(guess_wrong().error().code, ErrorCode::kWrongCode) << i;
  // Asking for a new code keeps the four wrong guesses: the fifth locks the phone.
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  EXPECT_EQ(store_->sign_in_code(mac)->wrong, 4);
  const auto fifth = guess_wrong();
  ASSERT_FALSE(fifth);
  EXPECT_EQ(fifth.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(service_->start_sign_in(body({{"phone", kPhone}})).error().code,
            ErrorCode::kRateLimited);
  // A lock written while a code was being issued stands: issuing is conditional on no lock.
  EXPECT_FALSE(store_->issue_sign_in_code(mac, "x", clock_.now + 300'000, clock_.now, 0));
  EXPECT_GT(store_->sign_in_code(mac)->locked_until, clock_.now);
  // Once the lock is over and the last code expired an hour ago, the count is forgotten.
  clock_.now += 2 * 3600 * 1000;
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  EXPECT_EQ(guess_wrong().error().code, ErrorCode::kWrongCode);
  EXPECT_EQ(store_->sign_in_code(mac)->wrong, 1);
}

TEST_F(CitizenServiceTest, codes_sent_at_the_request_of_one_address_are_rate_limited) {
  for (int i = 0; i < 10; ++i) {
    const std::string phone = "+97798000001" + std::to_string(10 + i);
    ASSERT_TRUE(service_->start_sign_in(body({{"phone", phone}}), "198.51.100.7")) << i;
  }
  auto eleventh = service_->start_sign_in(body({{"phone", "+9779800000199"}}), "198.51.100.7");
  ASSERT_FALSE(eleventh);
  EXPECT_EQ(eleventh.error().code, ErrorCode::kRateLimited);
  EXPECT_GT(eleventh.error().retry_after_s.value_or(0), 0);
  EXPECT_EQ(sms_.sent, 10);
  EXPECT_TRUE(service_->start_sign_in(body({{"phone", "+9779800000199"}}), "198.51.100.8"));
}

TEST_F(CitizenServiceTest, without_a_configured_sender_sign_in_is_not_ready) {
  CitizenSettings settings;
  settings.sender_ready = false;
  CitizenService off(*store_, *oauth_, *cache_, sms_, clock_, key_, settings);
  auto sent = off.start_sign_in(body({{"phone", kPhone}}));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::kNotReady);
  EXPECT_EQ(sms_.sent, 0);
  EXPECT_FALSE(store_->sign_in_code(service_->mac("phone", kPhone)).has_value());
}

TEST_F(CitizenServiceTest, expired_code_rows_are_pruned_when_codes_are_issued) {
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  const std::string mac = service_->mac("phone", kPhone);
  ASSERT_TRUE(store_->sign_in_code(mac).has_value());
  clock_.now += 2 * 3600 * 1000;  // the code expired more than the window ago
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", "+9779800000002"}})));
  EXPECT_FALSE(store_->sign_in_code(mac).has_value());
}

TEST_F(CitizenServiceTest, codes_sent_to_one_phone_are_rate_limited) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  auto fourth = service_->start_sign_in(body({{"phone", kPhone}}));
  ASSERT_FALSE(fourth);
  EXPECT_EQ(fourth.error().code, ErrorCode::kRateLimited);
  EXPECT_GT(fourth.error().retry_after_s.value_or(0), 0);
  EXPECT_EQ(sms_.sent, 3);
  EXPECT_TRUE(service_->start_sign_in(body({{"phone", "+9779800000002"}})));  // another phone
}

TEST_F(CitizenServiceTest, refresh_rotates_and_the_old_token_is_used) {
  const CitizenTokens first = signed_in();
  auto second = refresh(first.refresh_token);
  ASSERT_TRUE(second);
  EXPECT_NE(second->refresh_token, first.refresh_token);
  EXPECT_EQ(session(*second).citizen.id, session(first).citizen.id);
  auto third = refresh(second->refresh_token);
  ASSERT_TRUE(third);
  EXPECT_TRUE(refresh(third->refresh_token));
}

TEST_F(CitizenServiceTest, reusing_a_used_refresh_token_revokes_its_whole_family_only) {
  const CitizenTokens first = signed_in();
  const CitizenTokens other_family = signed_in();
  auto second = refresh(first.refresh_token);
  ASSERT_TRUE(second);
  auto reused = refresh(first.refresh_token);
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().code, ErrorCode::kUnauthorized);
  // The newest token of the family is refused too: whoever holds it lost the family.
  auto newest = refresh(second->refresh_token);
  ASSERT_FALSE(newest);
  EXPECT_EQ(newest.error().code, ErrorCode::kUnauthorized);
  EXPECT_TRUE(refresh(other_family.refresh_token));
  auto unknown = refresh("pgr_not-a-token");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnauthorized);
}

TEST_F(CitizenServiceTest, an_expired_refresh_token_is_refused) {
  const CitizenTokens first = signed_in();
  clock_.now += 31LL * 24 * 3600 * 1000;
  auto late = refresh(first.refresh_token);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kUnauthorized);
}

TEST_F(CitizenServiceTest, a_link_token_is_bound_to_its_nonce_and_audience) {
  const CitizenTokens t = signed_in();
  const CitizenSession s = session(t);
  auto link = service_->link_token(s, body({{"nonce", kNonce}}));
  ASSERT_TRUE(link);
  EXPECT_LE(link->expires_in, 600);
  auto other = service_->resolve_link(link->token, kOtherNonce);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(other.error().field, "account_link");
  auto kept = service_->link_token(s, body({{"nonce", kNonce}}));
  ASSERT_TRUE(kept);
  // An access token is not a link token, and a link token reads no account.
  EXPECT_FALSE(service_->resolve_link(t.access_token, kNonce));
  EXPECT_FALSE(service_->authenticate("Bearer " + link->token));
  // Nor is either a partner's token.
  EXPECT_FALSE(oauth_->authenticate(t.access_token));
  EXPECT_FALSE(oauth_->authenticate(link->token));
  // And a partner's token (audience: the issuer) reads no account.
  TokenClaims partner;
  partner.aud = "https://pg.example";
  partner.sub = s.citizen.id;
  partner.client_id = s.citizen.id;
  partner.jti = "jti-1";
  partner.scope = "account";
  partner.iat = clock_.now / 1000;
  partner.nbf = partner.iat;
  partner.exp = partner.iat + 600;
  EXPECT_FALSE(service_->authenticate("Bearer " + oauth_->sign(partner)));
  auto bad = service_->link_token(s, body({{"nonce", "short"}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "nonce");
  clock_.now += 11 * 60 * 1000;
  EXPECT_FALSE(service_->resolve_link(link->token, kNonce));  // expired
  EXPECT_FALSE(service_->resolve_link(kept->token, kNonce));
}

TEST_F(CitizenServiceTest, a_link_token_is_opaque_unlinkable_and_spent_once) {
  const CitizenSession s = session(signed_in());
  auto first = service_->link_token(s, body({{"nonce", kNonce}}));
  auto second = service_->link_token(s, body({{"nonce", kNonce}}));
  ASSERT_TRUE(first && second);
  for (const std::string& token : {first->token, second->token}) {
    // A random handle, not a JWT: nothing in it names the account.
    EXPECT_TRUE(token.starts_with("pgl_")) << token;
    EXPECT_EQ(token.find('.'), std::string::npos) << token;
    EXPECT_EQ(token.find(s.citizen.id), std::string::npos) << token;
    EXPECT_EQ(token.size(), 4u + 43u) << token;
  }
  EXPECT_NE(first->token, second->token);
  // The store keeps only its hash.
  EXPECT_FALSE(store_->take_account_link(first->token, kNonce, clock_.now).has_value());
  // Another request's nonce is refused without spending it; the first verify that brings it with
  // its own nonce spends it.
  EXPECT_FALSE(service_->resolve_link(first->token, kOtherNonce));
  const auto linked = service_->resolve_link(first->token, kNonce);
  ASSERT_TRUE(linked);
  EXPECT_EQ(*linked, s.citizen.id);
  auto again = service_->resolve_link(first->token, kNonce);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().field, "account_link");
  EXPECT_TRUE(service_->resolve_link(second->token, kNonce));
}

TEST_F(CitizenServiceTest, messages_are_nepali_by_default_and_english_when_asked) {
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  EXPECT_EQ(sms_.last.at(std::string(kPhone)).find(message_text(Message::kSmsCode, Language::kNe)),
            0u);
  auto ne = service_->finish_sign_in(body({{"phone", kPhone}, {"code", "12345"}}));
  ASSERT_FALSE(ne);
  EXPECT_EQ(ne.error().detail, message_text(Message::kCodeInvalid, Language::kNe));
  auto en =
      service_->finish_sign_in(body({{"phone", kPhone}, {"code", "12345"}, {"language", "en"}}));
  ASSERT_FALSE(en);
  EXPECT_EQ(en.error().detail, "the code must be six digits");
  auto bad = service_->start_sign_in(body({{"phone", kPhone}, {"language", "fr"}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "language");

  // An account made in English keeps English: its SMS, its refusals, until it changes.
  const CitizenTokens t = signed_in("+9779800000003", "en");
  CitizenSession s = session(t);
  EXPECT_EQ(s.citizen.language, "en");
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", "+9779800000003"}})));
  EXPECT_EQ(sms_.last.at("+9779800000003").find("Your proofgate sign-in code: "), 0u);
  auto nonce = service_->link_token(s, body({{"nonce", 7}}));
  ASSERT_FALSE(nonce);
  EXPECT_EQ(nonce.error().detail, message_text(Message::kNonceInvalid, Language::kEn));
  auto changed = service_->update(s, body({{"language", "ne"}}));
  ASSERT_TRUE(changed);
  s = session(t);
  EXPECT_EQ(s.citizen.language, "ne");
  auto nonce_ne = service_->link_token(s, body({{"nonce", 7}}));
  ASSERT_FALSE(nonce_ne);
  EXPECT_EQ(nonce_ne.error().detail, message_text(Message::kNonceInvalid, Language::kNe));
  // A reused refresh token's refusal speaks the account's language too.
  ASSERT_TRUE(refresh(t.refresh_token));
  auto reused = refresh(t.refresh_token);
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().detail, message_text(Message::kRefreshReused, Language::kNe));
}

TEST_F(CitizenServiceTest, every_message_has_both_languages) {
  for (int m = 0; m <= static_cast<int>(Message::kUnknownMember); ++m) {
    const auto message = static_cast<Message>(m);
    EXPECT_FALSE(message_text(message, Language::kNe).empty()) << m;
    EXPECT_FALSE(message_text(message, Language::kEn).empty()) << m;
    EXPECT_NE(message_text(message, Language::kNe), message_text(message, Language::kEn)) << m;
  }
}

TEST_F(CitizenServiceTest, a_deleted_account_refuses_its_tokens_and_its_links) {
  const CitizenTokens t = signed_in();
  const CitizenSession s = session(t);
  auto link = service_->link_token(s, body({{"nonce", kNonce}}));
  ASSERT_TRUE(link);
  ASSERT_TRUE(service_->start_sign_in(body({{"phone", kPhone}})));
  auto removed = service_->remove(s);
  ASSERT_TRUE(removed);
  // Nothing keyed by the number stays: the phone's code state went with the account.
  EXPECT_FALSE(store_->sign_in_code(service_->mac("phone", kPhone)).has_value());
  EXPECT_FALSE(service_->authenticate("Bearer " + t.access_token));
  EXPECT_FALSE(refresh(t.refresh_token));
  EXPECT_FALSE(service_->resolve_link(link->token, kNonce));
  EXPECT_FALSE(service_->remove(s));
  // The audit entry names no account.
  const auto audit = store_->list_audit(0, 1LL << 50, 100);
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back().action, "account.deleted");
  EXPECT_EQ(audit.back().details_json.find(s.citizen.id), std::string::npos);
  // Signing in again makes a new account.
  EXPECT_NE(session(signed_in()).citizen.id, s.citizen.id);
}

}  // namespace
}  // namespace pg::core
