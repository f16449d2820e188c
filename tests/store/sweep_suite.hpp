// What every core::SweepStore must do (docs/scaling.md, "Retention and partition maintenance"),
// over the outbox suite's backends (both stores are one object behind every port): each kind of
// row swept when old and kept when young, pending outbox rows never, batches bounded, a nonce that
// still guards an answerable request kept. Include in exactly one translation unit per executable.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/sweep.hpp"
#include "outbox_suite.hpp"

namespace pg::store::test {

constexpr core::UnixMillis kDay = 86'400'000;

class SweepSuite : public OutboxSuite {
 protected:
  core::SweepStore& sweeper() {
    auto* s = dynamic_cast<core::SweepStore*>(connection_.store.get());
    if (s == nullptr) throw std::logic_error("the store is not a core::SweepStore");
    return *s;
  }
  /// Windows of 7 days (requests), 90 (nonces), 30 (delivered), 90 (dead).
  static core::SweepWindows windows() { return core::SweepWindows{}; }
  /// Delivers `event_id` (enqueued for client-2 at kNow) with its attempt at `at`.
  void deliver(const std::string& event_id, core::UnixMillis at) {
    enqueue(event_id, "client-2", at);
    claim_one("worker", at, event_id);
    ASSERT_TRUE(outbox().finish_attempt("worker", delivered_outcome(event_id, 1, at)));
  }
};

TEST_P(SweepSuite, expired_requests_go_after_the_keep_window_and_younger_ones_stay) {
  core::ProofRequest old_one = sample_request("client-1", "nonce-old");
  core::ProofRequest young = sample_request("client-1", "nonce-young");
  young.expires_at = kNow + 3 * kDay;
  store().insert_request(old_one);
  store().insert_request(young);
  const core::UnixMillis now = old_one.expires_at + windows().request_keep_ms + 1;
  const core::SweepCounts c = sweeper().sweep_batch(now, windows(), 100, false);
  EXPECT_EQ(c.proof_requests, 1u);
  EXPECT_FALSE(store().find_request("client-1", "nonce-old").has_value());
  EXPECT_TRUE(store().find_request("client-1", "nonce-young").has_value());
}

TEST_P(SweepSuite, idempotency_keys_go_once_expired_and_live_ones_stay) {
  store().save_idempotency(sample_idempotency("client-1", "old"));  // expires kNow + 600 s
  core::IdempotencyRecord live = sample_idempotency("client-1", "live");
  live.expires_at = kNow + kDay;
  store().save_idempotency(live);
  const core::SweepCounts c = sweeper().sweep_batch(kNow + 600'001, windows(), 100, false);
  EXPECT_EQ(c.idempotency_keys, 1u);
  EXPECT_FALSE(store().find_idempotency("client-1", "old", kNow).has_value());
  EXPECT_TRUE(store().find_idempotency("client-1", "live", kNow).has_value());
}

TEST_P(SweepSuite, delivered_rows_and_their_attempts_go_after_the_replay_window) {
  deliver("event-old", kNow);
  deliver("event-young", kNow + 10 * kDay);
  const core::UnixMillis now = kNow + windows().delivered_keep_ms + kDay;
  const core::SweepCounts c = sweeper().sweep_batch(now, windows(), 100, false);
  EXPECT_EQ(c.outbox_delivered, 1u);
  EXPECT_EQ(c.webhook_attempts, 1u);
  EXPECT_FALSE(outbox().find_delivery("event-old").has_value());
  EXPECT_TRUE(outbox().delivery_attempts("event-old").empty());
  EXPECT_EQ(delivery("event-young").status, core::kDeliveryDelivered);
  EXPECT_EQ(outbox().delivery_attempts("event-young").size(), 1u);
}

TEST_P(SweepSuite, dead_rows_go_after_their_longer_window_and_pending_rows_never) {
  enqueue("event-dead", "client-2", kNow);
  claim_one("worker", kNow, "event-dead");
  ASSERT_TRUE(outbox().finish_attempt("worker", dead_outcome("event-dead", 1, kNow, "gone")));
  enqueue("event-pending", "client-2", kNow);  // never attempted, created at kNow
  core::SweepWindows w = windows();
  // Past the delivered window but not the dead one: the dead row stays.
  core::SweepCounts c = sweeper().sweep_batch(kNow + w.delivered_keep_ms + kDay, w, 100, false);
  EXPECT_EQ(c.outbox_dead, 0u);
  EXPECT_EQ(delivery("event-dead").status, core::kDeliveryDead);
  c = sweeper().sweep_batch(kNow + w.dead_keep_ms + kDay, w, 100, false);
  EXPECT_EQ(c.outbox_dead, 1u);
  EXPECT_FALSE(outbox().find_delivery("event-dead").has_value());
  // Every window 0, ten years on: a pending row is still never swept.
  w = core::SweepWindows{0, 0, 0, 0};
  c = sweeper().sweep_batch(kNow + 3650 * kDay, w, 100, false);
  EXPECT_EQ(c.outbox_delivered + c.outbox_dead, 0u);
  EXPECT_EQ(delivery("event-pending").status, core::kDeliveryPending);
}

TEST_P(SweepSuite, a_batch_removes_at_most_its_limit_and_says_more_remain) {
  for (int i = 0; i < 25; ++i)
    store().save_idempotency(sample_idempotency("client-1", "key-" + std::to_string(i)));
  const core::UnixMillis now = kNow + kDay;
  core::SweepCounts c = sweeper().sweep_batch(now, windows(), 10, false);
  EXPECT_EQ(c.idempotency_keys, 10u);
  EXPECT_TRUE(c.more);
  int left = 0;
  for (int i = 0; i < 25; ++i)
    left +=
        store().find_idempotency("client-1", "key-" + std::to_string(i), kNow).has_value() ? 1 : 0;
  EXPECT_EQ(left, 15);
  // A dry run counts without deleting.
  c = sweeper().sweep_batch(now, windows(), 100, true);
  EXPECT_EQ(c.idempotency_keys, 15u);
  left = 0;
  for (int i = 0; i < 25; ++i)
    left +=
        store().find_idempotency("client-1", "key-" + std::to_string(i), kNow).has_value() ? 1 : 0;
  EXPECT_EQ(left, 15);
  // run_sweep loops batches of 10 until nothing is due.
  c = core::run_sweep(
      sweeper(), [now] { return now; }, windows(), {10, 1000, std::chrono::seconds(60)}, false);
  EXPECT_EQ(c.idempotency_keys, 15u);
  EXPECT_FALSE(c.more);
  EXPECT_EQ(sweeper().sweep_batch(now, windows(), 10, false).idempotency_keys, 0u);
}

TEST_P(SweepSuite, a_run_stops_when_its_row_budget_is_spent_and_the_next_run_goes_on) {
  for (int i = 0; i < 25; ++i)
    store().save_idempotency(sample_idempotency("client-1", "key-" + std::to_string(i)));
  const core::UnixMillis now = kNow + kDay;
  const core::SweepBudget budget{10, 15, std::chrono::seconds(60)};
  core::SweepCounts c = core::run_sweep(
      sweeper(), [now] { return now; }, windows(), budget, false);
  EXPECT_EQ(c.idempotency_keys, 20u);  // two batches: the budget is checked between batches
  EXPECT_TRUE(c.more);
  c = core::run_sweep(
      sweeper(), [now] { return now; }, windows(), budget, false);
  EXPECT_EQ(c.idempotency_keys, 5u);
  EXPECT_FALSE(c.more);
}

TEST_P(SweepSuite, a_nonce_guarding_an_answerable_request_is_kept_and_a_replay_still_refused) {
  core::ProofRequest request = sample_request("client-1", "nonce-long");
  request.expires_at = kNow + 200 * kDay;  // still answerable when the sweep runs
  store().insert_request(request);
  const core::ProofRecord proof = sample_proof("proof-1", "client-1", "nonce-long");
  ASSERT_EQ(store().record_proof(proof, nullptr, nullptr), core::RecordOutcome::kStored);
  // Past the nonce window, every other window 0.
  const core::UnixMillis now = kNow + windows().nonce_keep_ms + kDay;
  const core::SweepCounts c = sweeper().sweep_batch(now, windows(), 100, false);
  EXPECT_EQ(c.proof_nonces, 0u);
  EXPECT_TRUE(store().nonce_answered("client-1", "nonce-long"));
  EXPECT_EQ(
      store().record_proof(sample_proof("proof-2", "client-1", "nonce-long"), nullptr, nullptr),
      core::RecordOutcome::kNonceTaken);
  EXPECT_TRUE(store().find_proof("proof-1").has_value());
}

TEST_P(SweepSuite, a_nonce_whose_proof_has_an_outbox_row_is_kept) {
  store().insert_request(sample_request("client-2", "nonce-hooked"));  // expires kNow + 300 s
  const core::ProofRecord proof = sample_proof("proof-3", "client-2", "nonce-hooked");
  const core::OutboxEvent event = sample_event("event-3", proof);
  ASSERT_EQ(store().record_proof(proof, &event, nullptr), core::RecordOutcome::kStored);
  const core::SweepCounts c =
      sweeper().sweep_batch(kNow + 400 * kDay, core::SweepWindows{0, 0, 0, 0}, 100, false);
  EXPECT_EQ(c.proof_nonces, 0u);  // the pending row names the proof
  EXPECT_TRUE(store().nonce_answered("client-2", "nonce-hooked"));
  EXPECT_EQ(delivery("event-3").status, core::kDeliveryPending);
  EXPECT_TRUE(store().find_proof("proof-3").has_value());
}

}  // namespace pg::store::test
