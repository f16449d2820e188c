// What every core::AccountStore must do, as one value-parameterised GoogleTest suite over backend
// factories (the shape of audit_suite.hpp): admin accounts round-trip, one account per email,
// updates guarded by the row version, each change written with its audit entry (and a session)
// or nothing, disabled accounts losing their sessions. A backend's test file instantiates
// AccountSuite with its own factory; include this header in exactly one translation unit per test
// executable.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "core/accounts.hpp"
#include "core/audit.hpp"
#include "core/secrets.hpp"

namespace pg::store::test {

/// One connection to a test's storage, seen through its ports (one object in both backends).
struct AccountConnection {
  std::shared_ptr<core::AccountStore> accounts;
  std::shared_ptr<core::AuditStore> audit;
};

struct AccountBackendFactory {
  std::string name;                                          // test-name suffix: [A-Za-z0-9_]
  std::function<std::function<AccountConnection()>()> make;  // fresh storage; opener of connections
};

inline void PrintTo(const AccountBackendFactory& factory, std::ostream* out) {
  *out << factory.name;
}

inline std::string account_backend_name(
    const ::testing::TestParamInfo<AccountBackendFactory>& info) {
  return info.param.name;
}

class AccountSuite : public ::testing::TestWithParam<AccountBackendFactory> {
 protected:
  void SetUp() override {
    open_ = GetParam().make();
    c_ = open_();
  }

  static core::AdminAccount account(const std::string& email) {
    core::AdminAccount a;
    a.id = core::uuid_v4();
    a.email = email;
    a.role = "operator";
    a.status = "invited";
    a.enrolment_sha256 = core::token_sha256(a.id);
    a.enrolment_expires_at = 5000;
    a.created_at = 1000;
    return a;
  }
  static core::AuditEntry audit(const std::string& action, core::UnixMillis at = 1000) {
    core::AuditEntry e;
    e.actor_type = std::string(core::kActorAdminCli);
    e.actor_id = "tester";
    e.action = action;
    e.details_json = R"({"k":1})";
    e.at = at;
    return e;
  }
  std::size_t audit_count(const std::string& action) {
    std::size_t n = 0;
    for (const auto& e : c_.audit->list_audit(0, 1LL << 50, 100000)) n += e.action == action;
    return n;
  }

  std::function<AccountConnection()> open_;
  AccountConnection c_;
};

TEST_P(AccountSuite, an_admin_round_trips_by_id_email_and_enrolment) {
  core::AdminAccount a = account("ops@example.org");
  a.totp_secret_sealed = std::string("\x00\x01sealed\xff", 9);  // bytes, NUL included
  a.password_hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA";
  a.totp_algorithm = "SHA256";
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  const auto other = open_();  // another connection sees it
  for (const auto& found :
       {other.accounts->find_admin(a.id), other.accounts->find_admin_by_email(a.email),
        other.accounts->find_admin_by_enrolment(a.enrolment_sha256)}) {
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, a.id);
    EXPECT_EQ(found->email, a.email);
    EXPECT_EQ(found->role, "operator");
    EXPECT_EQ(found->status, "invited");
    EXPECT_EQ(found->password_hash, a.password_hash);
    EXPECT_EQ(found->totp_secret_sealed, a.totp_secret_sealed);
    EXPECT_EQ(found->totp_algorithm, "SHA256");
    EXPECT_EQ(found->totp_last_step, -1);
    EXPECT_EQ(found->enrolment_expires_at, 5000);
    EXPECT_EQ(found->created_at, 1000);
    EXPECT_EQ(found->version, 0);
  }
  EXPECT_FALSE(c_.accounts->find_admin(core::uuid_v4()));
  EXPECT_FALSE(c_.accounts->find_admin_by_email("nobody@example.org"));
  EXPECT_FALSE(c_.accounts->find_admin_by_enrolment(std::string(64, '0')));
  EXPECT_EQ(audit_count("admin.created"), 1u);
}

TEST_P(AccountSuite, one_account_per_email_and_the_refusal_writes_nothing) {
  ASSERT_TRUE(c_.accounts->create_admin(account("a@example.org"), audit("admin.created")));
  EXPECT_FALSE(c_.accounts->create_admin(account("a@example.org"), audit("admin.created")));
  ASSERT_TRUE(c_.accounts->create_admin(account("b@example.org"), audit("admin.created")));
  const auto all = c_.accounts->list_admins();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(audit_count("admin.created"), 2u);
}

TEST_P(AccountSuite, an_update_needs_the_current_version_and_bumps_it) {
  core::AdminAccount a = account("v@example.org");
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  a.status = "active";
  a.totp_last_step = 42;
  a.failed_sign_ins = 3;
  a.locked_until = 777;
  a.enrolment_sha256.clear();
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.enrolled"), nullptr));
  const auto found = c_.accounts->find_admin(a.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->version, 1);
  EXPECT_EQ(found->status, "active");
  EXPECT_EQ(found->totp_last_step, 42);
  EXPECT_EQ(found->failed_sign_ins, 3);
  EXPECT_EQ(found->locked_until, 777);
  EXPECT_EQ(found->enrolment_sha256, "");
  EXPECT_FALSE(c_.accounts->find_admin_by_enrolment(core::token_sha256(a.id)));
  // The stale copy (version 0) is refused, and writes no audit entry.
  a.totp_last_step = 41;
  EXPECT_FALSE(c_.accounts->update_admin(a, audit("admin.stale"), nullptr));
  EXPECT_EQ(c_.accounts->find_admin(a.id)->totp_last_step, 42);
  EXPECT_EQ(audit_count("admin.stale"), 0u);
}

TEST_P(AccountSuite, a_refused_audit_entry_rolls_the_update_and_session_back) {
  core::AdminAccount a = account("r@example.org");
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  a.status = "active";
  const core::AdminSession s{core::token_sha256("s1"), a.id, core::token_sha256("c1"), 1, 1, 9};
  EXPECT_THROW(c_.accounts->update_admin(a, audit(""), &s), core::StoreError);
  EXPECT_EQ(c_.accounts->find_admin(a.id)->status, "invited");
  EXPECT_EQ(c_.accounts->find_admin(a.id)->version, 0);
  EXPECT_FALSE(c_.accounts->find_session(s.token_sha256));
}

TEST_P(AccountSuite, sessions_are_written_touched_and_removed_with_their_audit) {
  core::AdminAccount a = account("s@example.org");
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  const core::AdminSession s{
      core::token_sha256("tok"), a.id, core::token_sha256("csrf"), 100, 100, 900};
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.signed_in"), &s));
  auto found = open_().accounts->find_session(s.token_sha256);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->admin_id, a.id);
  EXPECT_EQ(found->csrf_sha256, s.csrf_sha256);
  EXPECT_EQ(found->created_at, 100);
  EXPECT_EQ(found->expires_at, 900);
  c_.accounts->touch_session(s.token_sha256, 300);
  c_.accounts->touch_session(s.token_sha256, 200);  // never backwards
  EXPECT_EQ(c_.accounts->find_session(s.token_sha256)->last_seen_at, 300);
  EXPECT_TRUE(c_.accounts->delete_session(s.token_sha256, audit("admin.signed_out")));
  EXPECT_FALSE(c_.accounts->find_session(s.token_sha256));
  EXPECT_FALSE(c_.accounts->delete_session(s.token_sha256, audit("admin.signed_out")));
  EXPECT_EQ(audit_count("admin.signed_out"), 1u);
}

TEST_P(AccountSuite, disabling_an_account_ends_its_sessions_only) {
  core::AdminAccount a = account("d@example.org");
  core::AdminAccount b = account("e@example.org");
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  ASSERT_TRUE(c_.accounts->create_admin(b, audit("admin.created")));
  const core::AdminSession sa{core::token_sha256("a"), a.id, core::token_sha256("x"), 1, 1, 9};
  const core::AdminSession sb{core::token_sha256("b"), b.id, core::token_sha256("y"), 1, 1, 9};
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.signed_in"), &sa));
  ASSERT_TRUE(c_.accounts->update_admin(b, audit("admin.signed_in"), &sb));
  a.version = 1;
  a.status = "disabled";
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.disabled"), nullptr));
  EXPECT_FALSE(c_.accounts->find_session(sa.token_sha256));
  EXPECT_TRUE(c_.accounts->find_session(sb.token_sha256));
  EXPECT_EQ(c_.accounts->find_admin(a.id)->status, "disabled");
}

TEST_P(AccountSuite, a_new_session_ends_the_admins_earlier_ones_only) {
  core::AdminAccount a = account("x@example.org");
  core::AdminAccount b = account("y@example.org");
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  ASSERT_TRUE(c_.accounts->create_admin(b, audit("admin.created")));
  const core::AdminSession old{core::token_sha256("old"), a.id, core::token_sha256("1"), 1, 1, 500};
  const core::AdminSession other{
      core::token_sha256("other"), b.id, core::token_sha256("2"), 40, 40, 500};
  const core::AdminSession next{
      core::token_sha256("next"), a.id, core::token_sha256("3"), 60, 60, 900};
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.signed_in"), &old));
  ASSERT_TRUE(c_.accounts->update_admin(b, audit("admin.signed_in"), &other));
  ++a.version;
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.signed_in"), &next));
  EXPECT_FALSE(c_.accounts->find_session(old.token_sha256));
  EXPECT_TRUE(c_.accounts->find_session(other.token_sha256));
  EXPECT_TRUE(c_.accounts->find_session(next.token_sha256));
}

TEST_P(AccountSuite, a_sign_in_attempt_is_counted_and_locks_in_one_conditional_write) {
  const core::SignInLockRule rule{5, 60'000, 3'600'000};
  core::AdminAccount a = account("c@example.org");
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  EXPECT_FALSE(c_.accounts->count_sign_in_attempt(a.id, 10'000, rule));  // invited
  EXPECT_FALSE(c_.accounts->count_sign_in_attempt(core::uuid_v4(), 10'000, rule));
  a.status = "active";
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.enrolled"), nullptr));
  for (std::int64_t n = 1; n <= 4; ++n) {
    const auto counted = c_.accounts->count_sign_in_attempt(a.id, 10'000, rule);
    ASSERT_TRUE(counted);
    EXPECT_EQ(counted->failed_sign_ins, n);
    EXPECT_EQ(counted->locked_until, 0);
    EXPECT_EQ(counted->version, 1 + n);
    EXPECT_EQ(counted->email, "c@example.org");
  }
  core::UnixMillis now = 10'000;
  for (const std::int64_t minutes : {1, 2, 4, 8, 16, 32, 60, 60}) {
    const auto counted = c_.accounts->count_sign_in_attempt(a.id, now, rule);
    ASSERT_TRUE(counted) << minutes;
    EXPECT_EQ(counted->locked_until, now + minutes * 60'000);
    EXPECT_FALSE(c_.accounts->count_sign_in_attempt(a.id, counted->locked_until - 1, rule));
    now = counted->locked_until;
  }
  EXPECT_EQ(c_.accounts->find_admin(a.id)->failed_sign_ins, 12);
}

TEST_P(AccountSuite, racing_sign_in_attempts_get_no_more_checks_than_the_lock_allows) {
  const core::SignInLockRule rule{5, 60'000, 3'600'000};
  core::AdminAccount a = account("race@example.org");
  ASSERT_TRUE(c_.accounts->create_admin(a, audit("admin.created")));
  a.status = "active";
  a.failed_sign_ins = 4;
  ASSERT_TRUE(c_.accounts->update_admin(a, audit("admin.enrolled"), nullptr));
  constexpr int kThreads = 16;
  std::vector<AccountConnection> connections;
  for (int i = 0; i < kThreads; ++i) connections.push_back(open_());
  std::atomic<int> ready{0};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      allowed += connections[i].accounts->count_sign_in_attempt(a.id, 10'000, rule).has_value();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1);
  const auto found = c_.accounts->find_admin(a.id);
  EXPECT_EQ(found->failed_sign_ins, 5);
  EXPECT_EQ(found->locked_until, 10'000 + 60'000);
}

}  // namespace pg::store::test
