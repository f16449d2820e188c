// core::PairingBatcher: proofs under one key that reach their pairing step together are checked
// in one batch, each caller getting exactly key->verify's verdict on its own proof; a lone caller
// never waits for the window; proofs arriving while their key's check runs form the next batch;
// a full batch is checked at once; window 0 never batches. Proofs are
// forged under trapdoor keys (tests/support/trapdoor.hpp). No test measures time: a caller that
// waited for a 60 s window would run into the test's ctest timeout (tests/CMakeLists.txt).
#include "core/pairing_batcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/trapdoor.hpp"

namespace pg::core {
namespace {

using crypto::Fr;
using crypto::PreparedVerifyingKey;
using KeyPtr = std::shared_ptr<const PreparedVerifyingKey>;

constexpr std::chrono::seconds kLongWindow{60};

struct Case {
  KeyPtr key;
  crypto::Proof proof;
  std::vector<Fr> publics;
  bool valid = true;  // key->verify's verdict, checked when the case is made
};

struct Signer {
  testing::Trapdoor trapdoor;
  KeyPtr key;
};

Signer make_signer(const std::string& seed, std::size_t n) {
  Signer s{testing::make_trapdoor(seed, n), nullptr};
  auto key = PreparedVerifyingKey::prepare(s.trapdoor.vk);
  EXPECT_TRUE(key.ok());
  s.key = *key;
  return s;
}

/// A proof forged for publics made from `i`; a bad one is forged for other publics than it
/// carries (one signal changed after forging).
Case make_case(const Signer& s, std::size_t i, bool valid) {
  const std::size_t n = s.trapdoor.k.size() - 1;
  const std::string tag = std::to_string(i);
  Case c{s.key, {}, {}, valid};
  for (std::size_t j = 0; j < n; ++j) {
    c.publics.push_back(testing::derive("publics", tag, std::to_string(j)));
  }
  c.proof = testing::forge(s.trapdoor, c.publics, testing::derive("a", tag, "a"),
                           testing::derive("b", tag, "b"));
  if (!valid) c.publics[i % n] += Fr::one();
  EXPECT_EQ(s.key->verify(c.proof, c.publics), valid) << "case " << i;
  return c;
}

/// Runs every case on its own thread, each holding a Pending made before any thread starts, so
/// every case is on its way to its pairing step when the first one gets there.
std::vector<bool> verify_together(PairingBatcher& batcher, const std::vector<Case>& cases) {
  std::vector<std::unique_ptr<PairingBatcher::Pending>> pending;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    pending.push_back(std::make_unique<PairingBatcher::Pending>(batcher, cases[i].key.get()));
  }
  std::vector<char> verdicts(cases.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    threads.emplace_back([&, i] {
      const Case& c = cases[i];
      verdicts[i] = batcher.verify(c.key, c.proof, c.publics, pending[i].get()) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  return {verdicts.begin(), verdicts.end()};
}

/// Verifies `c` on a new thread; `verdict` holds 2 until then, 1 or 0 after.
std::thread verify_on_thread(PairingBatcher& batcher, const Case& c, std::atomic<int>& verdict) {
  return std::thread(
      [&batcher, &c, &verdict] { verdict = batcher.verify(c.key, c.proof, c.publics) ? 1 : 0; });
}

/// Waits for a state of the batcher (the tests never wait for a time).
template <class Predicate>
void wait_for(Predicate holds) {
  while (!holds()) std::this_thread::yield();
}

/// Settings (60 s window) whose first check stays running while `hold` is true.
PairingBatchSettings holding_first_check(std::size_t max, std::atomic<bool>& hold,
                                         std::atomic<bool>& held_once) {
  return {.window = std::chrono::microseconds(kLongWindow),
          .max = max,
          .on_check_start = [&hold, &held_once](std::size_t) {
            if (held_once.exchange(true)) return;  // only the first check
            while (hold.load()) std::this_thread::yield();
          }};
}

PairingBatchSettings settings(std::chrono::microseconds window, std::size_t max) {
  return {.window = window, .max = max, .on_check_start = {}};
}

class PairingBatcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    one_ = new Signer(make_signer("batcher-one", 3));
    two_ = new Signer(make_signer("batcher-two", 5));
  }
  static void TearDownTestSuite() {
    delete one_;
    delete two_;
  }
  static Signer* one_;
  static Signer* two_;
};
Signer* PairingBatcherTest::one_ = nullptr;
Signer* PairingBatcherTest::two_ = nullptr;

TEST_F(PairingBatcherTest, every_verdict_equals_verify_with_two_keys_and_bad_proofs_mixed) {
  // Two keys (different numbers of public signals), one proof in four bad, eight threads that
  // each mark themselves pending before their pairing step as verify_once does.
  std::vector<Case> cases;
  for (std::size_t i = 0; i < 96; ++i) {
    cases.push_back(make_case(i % 2 == 0 ? *one_ : *two_, i, i % 4 != 3));
  }
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 8));
  std::atomic<std::size_t> next{0};
  std::vector<char> verdicts(cases.size(), 2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < cases.size(); i = next++) {
        PairingBatcher::Pending pending(batcher, cases[i].key.get());
        verdicts[i] = batcher.verify(cases[i].key, cases[i].proof, cases[i].publics, &pending);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(verdicts[i], cases[i].valid ? 1 : 0) << "case " << i;
  }
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.proofs, cases.size());
  EXPECT_LE(stats.batches, cases.size());
}

TEST_F(PairingBatcherTest, a_batch_with_one_bad_proof_refuses_only_that_one) {
  std::vector<Case> cases;
  for (std::size_t i = 0; i < 8; ++i) cases.push_back(make_case(*one_, i, i != 5));
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 32));
  const std::vector<bool> verdicts = verify_together(batcher, cases);
  EXPECT_EQ(verdicts, (std::vector<bool>{true, true, true, true, true, false, true, true}));
  // All eight were pending when the first reached its pairing step: one batch, bisected.
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.batches, 1u);
  EXPECT_EQ(stats.proofs, 8u);
  EXPECT_EQ(stats.bisected, 1u);
  EXPECT_EQ(stats.size_buckets[2], 0u);  // no batch of 4 or fewer
  EXPECT_EQ(stats.size_buckets[3], 1u);  // one of 5..8
}

TEST_F(PairingBatcherTest, a_batch_of_good_proofs_under_each_key_is_one_check_without_bisection) {
  std::vector<Case> cases;
  for (std::size_t i = 0; i < 6; ++i) cases.push_back(make_case(i < 3 ? *one_ : *two_, i, true));
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 32));
  const std::vector<bool> verdicts = verify_together(batcher, cases);
  EXPECT_EQ(verdicts, std::vector<bool>(6, true));
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.batches, 2u);  // one per key
  EXPECT_EQ(stats.size_buckets[1], 0u);
  EXPECT_EQ(stats.size_buckets[2], 2u);  // both of 3
  EXPECT_EQ(stats.bisected, 0u);
}

TEST_F(PairingBatcherTest, a_lone_caller_is_checked_at_once_whatever_the_window) {
  const Case good = make_case(*one_, 1, true);
  const Case bad = make_case(*one_, 2, false);
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 32));
  {
    PairingBatcher::Pending pending(batcher, good.key.get());
    EXPECT_TRUE(batcher.verify(good.key, good.proof, good.publics, &pending));
  }
  EXPECT_FALSE(batcher.verify(bad.key, bad.proof, bad.publics));
  // A request refused before its pairing step releases its mark: the next caller is alone again.
  { PairingBatcher::Pending refused(batcher, good.key.get()); }
  EXPECT_TRUE(batcher.verify(good.key, good.proof, good.publics));
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.batches, 3u);
  EXPECT_EQ(stats.size_buckets[0], 3u);
}

TEST_F(PairingBatcherTest, a_full_batch_is_checked_without_waiting_for_the_window) {
  // Someone stays pending throughout, so only reaching `max` can close a batch before 60 s.
  std::vector<Case> cases;
  for (std::size_t i = 0; i < 8; ++i) cases.push_back(make_case(*two_, i, i != 0));
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 4));
  PairingBatcher::Pending stays(batcher, two_->key.get());
  std::vector<char> verdicts(cases.size(), 2);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    threads.emplace_back([&, i] {
      verdicts[i] = batcher.verify(cases[i].key, cases[i].proof, cases[i].publics) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(verdicts[i], i != 0 ? 1 : 0) << i;
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.size_buckets[1], 0u);
  EXPECT_EQ(stats.size_buckets[2], 2u);  // two batches of exactly 4
  EXPECT_EQ(stats.bisected, 1u);
}

TEST_F(PairingBatcherTest, a_request_under_another_key_never_holds_a_batch) {
  // A request stays pending under key two throughout; a proof under key one is checked at once
  // (a leader that waited for it would run into the 60 s window and the test's timeout).
  const Case good = make_case(*one_, 1, true);
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 32));
  PairingBatcher::Pending other_key(batcher, two_->key.get());
  {
    PairingBatcher::Pending pending(batcher, good.key.get());
    EXPECT_TRUE(batcher.verify(good.key, good.proof, good.publics, &pending));
  }
  // A request for no known circuit (no key) marks nothing either.
  PairingBatcher::Pending unknown(batcher, nullptr);
  EXPECT_TRUE(batcher.verify(good.key, good.proof, good.publics));
  EXPECT_EQ(batcher.stats().batches, 2u);
}

TEST_F(PairingBatcherTest, a_refused_request_frees_the_leader_waiting_for_it) {
  // The leader waits (60 s window) while a second request under its key is pending; that
  // request is refused before its pairing step, and the leader must then check at once.
  const Case good = make_case(*one_, 1, true);
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 32));
  auto doomed = std::make_unique<PairingBatcher::Pending>(batcher, good.key.get());
  std::atomic<int> verdict{2};
  std::thread leader([&] {
    PairingBatcher::Pending mine(batcher, good.key.get());
    verdict = batcher.verify(good.key, good.proof, good.publics, &mine) ? 1 : 0;
  });
  wait_for([&] { return batcher.waiting_leaders() == 1; });  // the leader waits for it
  doomed.reset();                                            // refused: released
  leader.join();
  EXPECT_EQ(verdict.load(), 1);
  EXPECT_EQ(batcher.stats().batches, 1u);
}

TEST_F(PairingBatcherTest, proofs_arriving_during_their_keys_check_form_the_next_batch) {
  // A lone proof's check is held running; two proofs under the same key arrive meanwhile, with
  // nothing pending (so no window applies): they wait for that check to end and are then
  // checked together, in one batch of two. A proof under another key is not held by it.
  const Case first = make_case(*one_, 1, true);
  const Case good = make_case(*one_, 2, true);
  const Case bad = make_case(*one_, 3, false);
  const Case other = make_case(*two_, 4, true);
  std::atomic<bool> hold{true}, held_once{false};
  PairingBatcher batcher(holding_first_check(32, hold, held_once));
  std::atomic<int> v_first{2}, v_good{2}, v_bad{2};
  std::thread a = verify_on_thread(batcher, first, v_first);
  wait_for([&] { return batcher.running_checks() == 1; });
  std::thread b = verify_on_thread(batcher, good, v_good);
  wait_for([&] { return batcher.waiting_leaders() == 1; });  // b waits for a's check
  std::thread c = verify_on_thread(batcher, bad, v_bad);
  wait_for([&] { return batcher.waiting_followers() == 1; });  // c joined b's batch
  // Another key's proof is checked at once while key one's check is still held.
  EXPECT_TRUE(batcher.verify(other.key, other.proof, other.publics));
  EXPECT_EQ(batcher.waiting_leaders(), 1u);
  hold = false;
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(v_first.load(), 1);
  EXPECT_EQ(v_good.load(), 1);
  EXPECT_EQ(v_bad.load(), 0);
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.batches, 3u);          // first alone, other alone, {good, bad}
  EXPECT_EQ(stats.size_buckets[0], 2u);  // two checks of one proof
  EXPECT_EQ(stats.size_buckets[1], 3u);  // and one of two
  EXPECT_EQ(stats.bisected, 1u);
  EXPECT_EQ(batcher.running_checks(), 0u);
}

TEST_F(PairingBatcherTest, a_check_that_throws_alone_reaches_its_caller_and_frees_its_keys_turn) {
  const Case first = make_case(*one_, 1, true);
  const Case second = make_case(*one_, 2, true);
  std::atomic<int> calls{0};
  std::atomic<bool> hold{true};
  PairingBatcher batcher({.window = std::chrono::microseconds(kLongWindow),
                          .max = 32,
                          .on_check_start = [&](std::size_t) {
                            if (calls.fetch_add(1) != 0) return;
                            while (hold.load()) std::this_thread::yield();
                            throw std::runtime_error("hook");
                          }});
  std::atomic<int> thrown{0};
  std::thread a([&] {
    try {
      batcher.verify(first.key, first.proof, first.publics);
    } catch (const std::runtime_error&) {
      thrown = 1;
    }
  });
  wait_for([&] { return batcher.running_checks() == 1; });
  std::atomic<int> v{2};
  std::thread b = verify_on_thread(batcher, second, v);
  wait_for([&] { return batcher.waiting_leaders() == 1; });
  hold = false;
  a.join();
  b.join();
  EXPECT_EQ(thrown.load(), 1);
  EXPECT_EQ(v.load(), 1);
  EXPECT_EQ(batcher.running_checks(), 0u);
  EXPECT_EQ(batcher.waiting_leaders(), 0u);
}

TEST_F(PairingBatcherTest,
       a_batch_check_that_throws_falls_back_to_single_checks_and_frees_its_keys_turn) {
  const Case first = make_case(*one_, 1, true);
  const Case good = make_case(*one_, 2, true);
  const Case bad = make_case(*one_, 3, false);
  const Case last = make_case(*one_, 4, true);
  std::atomic<int> calls{0};
  std::atomic<bool> hold{true};
  PairingBatcher batcher({.window = std::chrono::microseconds(kLongWindow),
                          .max = 32,
                          .on_check_start = [&](std::size_t n) {
                            const int c = calls.fetch_add(1);
                            if (c == 0) {
                              while (hold.load()) std::this_thread::yield();
                            } else if (n > 1) {
                              throw std::runtime_error("batch hook");
                            }
                          }});
  std::atomic<int> v_first{2}, v_good{2}, v_bad{2};
  std::thread a = verify_on_thread(batcher, first, v_first);
  wait_for([&] { return batcher.running_checks() == 1; });
  std::thread b = verify_on_thread(batcher, good, v_good);
  wait_for([&] { return batcher.waiting_leaders() == 1; });
  std::thread c = verify_on_thread(batcher, bad, v_bad);
  wait_for([&] { return batcher.waiting_followers() == 1; });
  hold = false;
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(v_first.load(), 1);
  EXPECT_EQ(v_good.load(), 1);
  EXPECT_EQ(v_bad.load(), 0);
  EXPECT_EQ(batcher.running_checks(), 0u);
  // The lane is free: a lone proof is checked at once.
  EXPECT_TRUE(batcher.verify(last.key, last.proof, last.publics));
  EXPECT_EQ(batcher.running_checks(), 0u);
}

TEST_F(PairingBatcherTest, a_full_batch_runs_while_its_keys_check_is_held) {
  const Case first = make_case(*one_, 1, true);
  const Case good = make_case(*one_, 2, true);
  const Case bad = make_case(*one_, 3, false);
  std::atomic<bool> hold{true}, held_once{false};
  PairingBatcher batcher(holding_first_check(2, hold, held_once));
  std::atomic<int> v_first{2}, v_good{2}, v_bad{2};
  std::thread a = verify_on_thread(batcher, first, v_first);
  wait_for([&] { return batcher.running_checks() == 1; });
  std::thread b = verify_on_thread(batcher, good, v_good);
  wait_for([&] { return batcher.waiting_leaders() == 1; });
  std::thread c = verify_on_thread(batcher, bad, v_bad);
  b.join();
  c.join();  // while a's check is still held
  EXPECT_EQ(v_good.load(), 1);
  EXPECT_EQ(v_bad.load(), 0);
  EXPECT_EQ(batcher.running_checks(), 1u);
  hold = false;
  a.join();
  EXPECT_EQ(v_first.load(), 1);
  EXPECT_EQ(batcher.running_checks(), 0u);
}

TEST_F(PairingBatcherTest, window_zero_checks_every_proof_alone) {
  std::vector<Case> cases;
  for (std::size_t i = 0; i < 8; ++i) cases.push_back(make_case(*one_, i, i % 3 != 0));
  PairingBatcher batcher(settings(std::chrono::microseconds(0), 32));
  const std::vector<bool> verdicts = verify_together(batcher, cases);
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(verdicts[i], cases[i].valid) << i;
  const auto stats = batcher.stats();
  EXPECT_EQ(stats.batches, 8u);
  EXPECT_EQ(stats.size_buckets[0], 8u);
  EXPECT_EQ(stats.bisected, 0u);
}

TEST_F(PairingBatcherTest, metrics_name_the_batch_size_histogram_and_the_bisections) {
  PairingBatcher batcher(settings(std::chrono::microseconds(kLongWindow), 32));
  std::vector<Case> cases;
  for (std::size_t i = 0; i < 3; ++i) cases.push_back(make_case(*one_, i, i != 1));
  verify_together(batcher, cases);
  const std::string text = batcher.render_metrics();
  EXPECT_NE(text.find("# TYPE proofgate_verify_batch_size histogram\n"), std::string::npos);
  EXPECT_NE(text.find("proofgate_verify_batch_size_bucket{le=\"2\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("proofgate_verify_batch_size_bucket{le=\"4\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("proofgate_verify_batch_size_sum 3\n"), std::string::npos);
  EXPECT_NE(text.find("proofgate_verify_batch_size_count 1\n"), std::string::npos);
  EXPECT_NE(text.find("proofgate_verify_batch_bisections_total 1\n"), std::string::npos);
}

}  // namespace
}  // namespace pg::core
