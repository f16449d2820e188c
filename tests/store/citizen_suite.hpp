// What every core::CitizenStore must do, as more AuditSuite cases (audit_suite.hpp includes this
// at its end): one account per phone MAC, the language kept, sign-in code state replaced, refresh
// rotation and family revocation in one transaction, the account's proofs with partner names,
// and deletion: proofs kept with user_id NULL, tokens and account gone, events and audit written.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/citizens.hpp"

namespace pg::store::test {

inline core::CitizenStore& citizens_of(core::Store& store) {
  return dynamic_cast<core::CitizenStore&>(store);
}

inline core::Citizen sample_citizen(int n) {
  return core::Citizen{"00000000-0000-4000-8000-00000000000" + std::to_string(n),
                       std::string(63, 'a') + std::to_string(n), "ne", kNow + n};
}

inline core::RefreshToken sample_refresh(const std::string& hash, const std::string& family,
                                         const std::string& user) {
  return core::RefreshToken{hash, family, user, kNow, kNow + 60'000, 0, 0};
}

TEST_P(AuditSuite, citizens_are_one_per_phone_and_keep_their_language) {
  core::CitizenStore& citizens = citizens_of(store());
  const core::Citizen made = citizens.find_or_create_citizen(sample_citizen(1));
  EXPECT_EQ(made.id, sample_citizen(1).id);
  core::Citizen again = sample_citizen(1);
  again.id = "00000000-0000-4000-8000-000000000099";  // a second sign-in racing the first
  EXPECT_EQ(citizens.find_or_create_citizen(again).id, made.id);
  EXPECT_EQ(citizens.find_citizen_by_phone(made.phone_mac)->id, made.id);
  EXPECT_FALSE(citizens.find_citizen(again.id).has_value());
  EXPECT_TRUE(citizens.set_citizen_language(made.id, "en"));
  EXPECT_EQ(citizens.find_citizen(made.id)->language, "en");
  EXPECT_EQ(citizens.find_citizen(made.id)->created_at, kNow + 1);
  EXPECT_FALSE(citizens.set_citizen_language(again.id, "en"));
}

TEST_P(AuditSuite, a_sign_in_code_state_is_replaced_whole) {
  core::CitizenStore& citizens = citizens_of(store());
  EXPECT_FALSE(citizens.sign_in_code("mac-1").has_value());
  citizens.save_sign_in_code({"mac-1", "code-mac", kNow + 300'000, 0, 0});
  citizens.save_sign_in_code({"mac-1", "", kNow + 300'000, 0, kNow + 900'000});  // locked
  const auto state = citizens.sign_in_code("mac-1");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->code_mac, "");
  EXPECT_EQ(state->locked_until, kNow + 900'000);
  citizens.save_sign_in_code({"mac-1", "next", kNow + 1, 3, 0});
  EXPECT_EQ(citizens.sign_in_code("mac-1")->code_mac, "next");
  EXPECT_EQ(citizens.sign_in_code("mac-1")->wrong, 3);
}

TEST_P(AuditSuite, code_attempts_are_counted_up_to_the_limit_and_only_on_a_live_code) {
  core::CitizenStore& citizens = citizens_of(store());
  EXPECT_FALSE(citizens.take_code_attempt("mac-1", kNow, 3).state.has_value());
  citizens.save_sign_in_code({"mac-1", "code-mac", kNow + 300'000, 0, 0});
  for (int n = 1; n <= 3; ++n) {
    const auto a = citizens.take_code_attempt("mac-1", kNow, 3);
    EXPECT_TRUE(a.taken) << n;
    ASSERT_TRUE(a.state.has_value());
    EXPECT_EQ(a.state->wrong, n);
    EXPECT_EQ(a.state->code_mac, "code-mac");
  }
  const auto spent = citizens.take_code_attempt("mac-1", kNow, 3);
  EXPECT_FALSE(spent.taken);
  EXPECT_EQ(spent.state->wrong, 3);
  citizens.save_sign_in_code({"mac-2", "code-mac", kNow + 10, 0, 0});
  EXPECT_FALSE(citizens.take_code_attempt("mac-2", kNow + 10, 3).taken);  // expired
  citizens.save_sign_in_code({"mac-3", "", kNow + 300'000, 0, 0});
  EXPECT_FALSE(citizens.take_code_attempt("mac-3", kNow, 3).taken);  // no code outstanding
  citizens.save_sign_in_code({"mac-4", "code-mac", kNow + 300'000, 0, kNow + 5});
  const auto locked = citizens.take_code_attempt("mac-4", kNow, 3);
  EXPECT_FALSE(locked.taken);
  EXPECT_EQ(locked.state->locked_until, kNow + 5);
  EXPECT_TRUE(citizens.take_code_attempt("mac-4", kNow + 5, 3).taken);  // the lock has ended
  // A code is spent once: the second of two requests bringing it finds it gone.
  EXPECT_FALSE(citizens.spend_sign_in_code("mac-4", "another-mac"));
  EXPECT_TRUE(citizens.spend_sign_in_code("mac-4", "code-mac"));
  EXPECT_FALSE(citizens.spend_sign_in_code("mac-4", "code-mac"));
  EXPECT_EQ(citizens.sign_in_code("mac-4")->code_mac, "");
  EXPECT_EQ(citizens.sign_in_code("mac-4")->wrong, 0);
  EXPECT_FALSE(citizens.take_code_attempt("mac-4", kNow + 5, 3).taken);
}

TEST_P(AuditSuite, refresh_rotation_uses_the_token_and_a_reuse_revokes_its_family) {
  core::CitizenStore& citizens = citizens_of(store());
  const core::Citizen c = citizens.find_or_create_citizen(sample_citizen(1));
  citizens.insert_refresh_token(sample_refresh("h1", "fam-a", c.id));
  citizens.insert_refresh_token(sample_refresh("other", "fam-b", c.id));
  core::RefreshToken next = sample_refresh("h2", "", "");
  EXPECT_EQ(citizens.rotate_refresh_token("h1", kNow + 1, next), core::RefreshOutcome::kRotated);
  EXPECT_EQ(next.family_id, "fam-a");
  EXPECT_EQ(next.user_id, c.id);
  core::RefreshToken third = sample_refresh("h3", "", "");
  EXPECT_EQ(citizens.rotate_refresh_token("h1", kNow + 2, third), core::RefreshOutcome::kReused);
  EXPECT_EQ(third.user_id, c.id);
  // h3 was never stored, and h2 (the family's newest) is revoked now.
  EXPECT_EQ(citizens.rotate_refresh_token("h3", kNow + 3, third), core::RefreshOutcome::kUnknown);
  EXPECT_EQ(citizens.rotate_refresh_token("h2", kNow + 3, third), core::RefreshOutcome::kRevoked);
  core::RefreshToken fourth = sample_refresh("h4", "", "");
  EXPECT_EQ(citizens.rotate_refresh_token("other", kNow + 60'000, fourth),
            core::RefreshOutcome::kExpired);
}

TEST_P(AuditSuite, deleting_a_citizen_nulls_its_proofs_removes_it_and_tells_its_partners) {
  core::CitizenStore& citizens = citizens_of(store());
  store().insert_client(sample_client(2));  // a webhook URL
  store().insert_client(sample_client(3));  // none
  const core::Citizen c = citizens.find_or_create_citizen(sample_citizen(1));
  const core::Citizen other = citizens.find_or_create_citizen(sample_citizen(2));
  const auto proof = [&](const std::string& id, const std::string& client, const std::string& user,
                         const std::string& status = "verified") {
    core::ProofRecord p = sample_proof(id, client, "nonce-" + id);
    p.user_id = user;
    p.status = status;
    ASSERT_EQ(store().record_proof(p, nullptr, nullptr), core::RecordOutcome::kStored);
  };
  proof("p1", "client-2", c.id);
  proof("p2", "client-2", c.id);
  proof("p3", "client-3", c.id);
  proof("p4", "client-2", other.id);
  proof("p5", "client-2", "");
  const auto listed = citizens.citizen_proofs(c.id, 10);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].partner.substr(0, 8), "Partner ");
  EXPECT_EQ(listed[0].status, "verified");
  EXPECT_EQ(listed[0].verified_at, kNow + 5);
  citizens.insert_refresh_token(sample_refresh("h1", "fam", c.id));
  citizens.insert_account_link({"link-1", c.id, "nonce", kNow + 60'000}, kNow);
  citizens.save_sign_in_code({c.phone_mac, "", kNow + 300'000, 2, 0});
  citizens.save_sign_in_code({other.phone_mac, "", kNow + 300'000, 2, 0});

  std::vector<core::AffectedPartner> seen;
  const auto events = [&](const std::vector<core::AffectedPartner>& partners) {
    seen = partners;
    std::vector<core::OutboxEvent> out;
    for (const auto& p : partners) {
      out.push_back({"ev-" + p.client_id, p.client_id, "", "account.deleted",
                     R"({"event":"account.deleted"})", kNow + 10});
    }
    return out;
  };
  ASSERT_TRUE(
      citizens.delete_citizen(c.id, kNow + 10, events, audit_entry("account.deleted", kNow + 10)));
  ASSERT_EQ(seen.size(), 1u);  // client-3 has no webhook URL
  EXPECT_EQ(seen[0].client_id, "client-2");
  EXPECT_EQ(seen[0].proof_ids, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(seen[0].mode, core::Mode::kLive);
  EXPECT_FALSE(citizens.find_citizen(c.id).has_value());
  EXPECT_TRUE(citizens.citizen_proofs(c.id, 10).empty());
  EXPECT_EQ(citizens.citizen_proofs(other.id, 10).size(), 1u);
  core::RefreshToken next = sample_refresh("h2", "", "");
  EXPECT_EQ(citizens.rotate_refresh_token("h1", kNow + 11, next), core::RefreshOutcome::kUnknown);
  // The link tokens and the phone's code state (keyed by its MAC) went with the account.
  EXPECT_FALSE(citizens.take_account_link("link-1", "nonce", kNow + 11).has_value());
  EXPECT_FALSE(citizens.sign_in_code(c.phone_mac).has_value());
  EXPECT_TRUE(citizens.sign_in_code(other.phone_mac).has_value());
  for (const char* id : {"p1", "p2", "p3"}) EXPECT_TRUE(store().find_proof(id).has_value()) << id;
  EXPECT_EQ(audit().anonymise_user(c.id), 0u);  // no proof holds the id any more
  const auto pending = outbox().list_deliveries("client-2", "", 10);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].event.event_type, "account.deleted");
  EXPECT_EQ(actions(everything()), (std::vector<std::string>{"account.deleted"}));
  // A verify that resolved the link before the deletion and records after it links nothing.
  proof("p6", "client-2", c.id);
  EXPECT_TRUE(citizens.citizen_proofs(c.id, 10).empty());
  EXPECT_EQ(backend_->proof_user("p6"), std::nullopt);
  EXPECT_EQ(backend_->proof_user("p4"), std::optional<std::string>(other.id));
  // An unknown account: nothing written.
  EXPECT_FALSE(citizens.delete_citizen(c.id, kNow + 12, events, audit_entry("x", kNow + 12)));
  EXPECT_EQ(everything().size(), 1u);
}

TEST_P(AuditSuite, issuing_a_code_keeps_the_count_never_clears_a_lock_and_prunes_dead_rows) {
  core::CitizenStore& citizens = citizens_of(store());
  EXPECT_TRUE(citizens.issue_sign_in_code("mac-1", "c1", kNow + 300, kNow, kNow - 3600));
  EXPECT_EQ(citizens.sign_in_code("mac-1")->wrong, 0);
  ASSERT_TRUE(citizens.take_code_attempt("mac-1", kNow, 5).taken);
  ASSERT_TRUE(citizens.take_code_attempt("mac-1", kNow, 5).taken);
  // A new code: same count, new code and expiry.
  EXPECT_TRUE(citizens.issue_sign_in_code("mac-1", "c2", kNow + 600, kNow + 10, kNow - 3590));
  auto state = citizens.sign_in_code("mac-1");
  EXPECT_EQ(state->wrong, 2);
  EXPECT_EQ(state->code_mac, "c2");
  EXPECT_EQ(state->expires_at, kNow + 600);
  // The last code expired before the window: the count is forgotten.
  EXPECT_TRUE(citizens.issue_sign_in_code("mac-1", "c3", kNow + 9000, kNow + 8000, kNow + 601));
  EXPECT_EQ(citizens.sign_in_code("mac-1")->wrong, 0);
  // Locked: nothing written.
  citizens.save_sign_in_code({"mac-2", "", kNow + 300, 1, kNow + 900});
  EXPECT_FALSE(citizens.issue_sign_in_code("mac-2", "c", kNow + 600, kNow + 10, kNow - 3590));
  state = citizens.sign_in_code("mac-2");
  EXPECT_EQ(state->code_mac, "");
  EXPECT_EQ(state->locked_until, kNow + 900);
  // Rows expired before the window and not locked are removed; a locked one stays.
  citizens.save_sign_in_code({"mac-3", "", kNow + 100, 4, 0});
  EXPECT_TRUE(citizens.issue_sign_in_code("mac-4", "c", kNow + 600, kNow + 500, kNow + 200));
  EXPECT_FALSE(citizens.sign_in_code("mac-3").has_value());
  EXPECT_TRUE(citizens.sign_in_code("mac-2").has_value());
  EXPECT_TRUE(citizens.sign_in_code("mac-1").has_value());
}

TEST_P(AuditSuite, a_link_token_is_spent_once_with_its_nonce_and_before_it_expires) {
  core::CitizenStore& citizens = citizens_of(store());
  const core::Citizen c = citizens.find_or_create_citizen(sample_citizen(1));
  citizens.insert_account_link({"h1", c.id, "n1", kNow + 100}, kNow);
  citizens.insert_account_link({"h2", c.id, "n2", kNow + 100}, kNow);
  EXPECT_FALSE(citizens.take_account_link("h1", "n2", kNow).has_value());  // another nonce
  EXPECT_EQ(citizens.take_account_link("h1", "n1", kNow).value_or(""), c.id);
  EXPECT_FALSE(citizens.take_account_link("h1", "n1", kNow).has_value());        // spent
  EXPECT_FALSE(citizens.take_account_link("h2", "n2", kNow + 100).has_value());  // expired
  // Inserting prunes the expired ones.
  citizens.insert_account_link({"h3", c.id, "n3", kNow + 500}, kNow + 200);
  EXPECT_FALSE(citizens.take_account_link("h2", "n2", kNow).has_value());
  EXPECT_EQ(citizens.take_account_link("h3", "n3", kNow + 201).value_or(""), c.id);
}

TEST_P(AuditSuite, a_code_brought_by_two_requests_at_once_is_spent_by_one) {
  core::CitizenStore& citizens = citizens_of(store());
  for (int round = 0; round < 20; ++round) {
    const std::string mac = "mac-" + std::to_string(round);
    citizens.save_sign_in_code({mac, "code-mac", kNow + 300'000, 1, 0});
    std::atomic<int> ready{0};
    std::atomic<int> spent{0};
    const auto spend = [&] {
      ready++;
      while (ready.load() < 2) std::this_thread::yield();
      if (citizens.spend_sign_in_code(mac, "code-mac")) spent++;
    };
    std::thread a(spend);
    std::thread b(spend);
    a.join();
    b.join();
    EXPECT_EQ(spent.load(), 1) << round;
  }
}

TEST_P(AuditSuite, a_reuse_revokes_the_token_a_racing_rotation_inserts) {
  core::CitizenStore& citizens = citizens_of(store());
  const core::Citizen c = citizens.find_or_create_citizen(sample_citizen(1));
  int escaped = 0;
  for (int round = 0; round < 40 && escaped == 0; ++round) {
    const std::string fam = "fam-" + std::to_string(round);
    const std::string old_hash = fam + "-0";
    citizens.insert_refresh_token(sample_refresh(old_hash, fam, c.id));
    core::RefreshToken first = sample_refresh(fam + "-1", "", "");
    ASSERT_EQ(citizens.rotate_refresh_token(old_hash, kNow + 1, first),
              core::RefreshOutcome::kRotated);
    std::atomic<bool> reused_done{false};
    std::atomic<int> after{0};
    std::atomic<int> rotations{0};
    std::thread thief([&] {
      std::string current = fam + "-1";
      for (int i = 2; i < 100000; ++i) {
        const bool done_before = reused_done.load();
        core::RefreshToken next = sample_refresh(fam + "-" + std::to_string(i), "", "");
        if (citizens.rotate_refresh_token(current, kNow + 2, next) !=
            core::RefreshOutcome::kRotated)
          return;
        current = next.hash;
        rotations++;
        if (done_before) {
          after++;
          if (after > 3) return;
        }
      }
    });
    // The reuse lands while the thief rotates in a loop (a rotation is in flight most of the time).
    while (rotations.load() < 1 + round % 7) std::this_thread::yield();
    core::RefreshToken t = sample_refresh(fam + "-x", "", "");
    EXPECT_EQ(citizens.rotate_refresh_token(old_hash, kNow + 2, t), core::RefreshOutcome::kReused);
    reused_done = true;
    thief.join();
    if (after > 0) escaped++;
  }
  EXPECT_EQ(escaped, 0) << "a rotation succeeded after the family was revoked for reuse";
}

}  // namespace pg::store::test
