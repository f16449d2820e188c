// What every core::OutboxStore must do, as one value-parameterised GoogleTest suite over backend
// factories (the shape of store_suite.hpp): claims under leases, per-partner caps, attempts,
// replays, admin views, webhook secrets, and two connections claiming at once. A backend's test
// file instantiates OutboxSuite with its own factory; include this header in exactly one
// translation unit per test executable.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/model.hpp"
#include "core/outbox.hpp"
#include "core/ports.hpp"
#include "store_suite.hpp"

namespace pg::store::test {

/// One connection to a test's storage, seen through both ports (one object in SQLite).
struct OutboxConnection {
  std::shared_ptr<core::Store> store;
  std::shared_ptr<core::OutboxStore> outbox;
};

/// Storage a test owns. Every open() is one more connection to the same storage, as another
/// process (or a restarted one) would have.
class OutboxBackend {
 public:
  virtual ~OutboxBackend() = default;
  virtual OutboxConnection open() = 0;
};

struct OutboxBackendFactory {
  std::string name;                                      // test-name suffix: [A-Za-z0-9_]
  std::function<std::unique_ptr<OutboxBackend>()> make;  // fresh, empty storage at every call
};

inline void PrintTo(const OutboxBackendFactory& factory, std::ostream* out) {
  *out << factory.name;
}

/// For INSTANTIATE_TEST_SUITE_P: names each instance after its backend.
inline std::string outbox_backend_name(const ::testing::TestParamInfo<OutboxBackendFactory>& info) {
  return info.param.name;
}

constexpr std::int64_t kLeaseMs = 30'000;
constexpr std::size_t kNoCap = 1'000;  // a per-partner cap no test reaches

/// An event without a proof (a test event), for `client_id`, created at kNow.
inline core::OutboxEvent bare_event(const std::string& event_id, const std::string& client_id) {
  return core::OutboxEvent{
      event_id, client_id, "", "webhook.test", R"({"event_id":")" + event_id + R"("})", kNow};
}

/// The outcome of attempt `number` of `event_id`, started at `started_at`.
inline core::AttemptOutcome delivered_outcome(const std::string& event_id, int number,
                                              core::UnixMillis started_at) {
  core::AttemptOutcome outcome;
  outcome.attempt = {event_id, number, started_at, 200, 42, ""};
  outcome.delivered = true;
  return outcome;
}
inline core::AttemptOutcome retry_outcome(const std::string& event_id, int number,
                                          core::UnixMillis started_at, int status_code,
                                          const std::string& error, core::UnixMillis next) {
  core::AttemptOutcome outcome;
  outcome.attempt = {event_id, number, started_at, status_code, 1'500, error};
  outcome.next_attempt_at = next;
  return outcome;
}
inline core::AttemptOutcome dead_outcome(const std::string& event_id, int number,
                                         core::UnixMillis started_at, const std::string& error) {
  core::AttemptOutcome outcome;
  outcome.attempt = {event_id, number, started_at, 0, 10'000, error};
  outcome.dead = true;
  return outcome;
}

inline std::vector<std::string> event_ids(const std::vector<core::Delivery>& deliveries) {
  std::vector<std::string> ids;
  for (const core::Delivery& delivery : deliveries) ids.push_back(delivery.event.event_id);
  return ids;
}

class OutboxSuite : public ::testing::TestWithParam<OutboxBackendFactory> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    connection_ = backend_->open();
    // client-1 has no webhook, client-2 has one (sample_client), client-3 none.
    for (int n = 1; n <= 3; ++n) store().insert_client(sample_client(n));
  }
  void TearDown() override {
    connection_ = {};
    backend_.reset();
  }
  /// Closes the connection and opens the same storage again.
  void reopen() {
    connection_ = {};
    connection_ = backend_->open();
  }
  core::Store& store() { return *connection_.store; }
  core::OutboxStore& outbox() { return *connection_.outbox; }

  /// Enqueues a bare event due at `due`.
  void enqueue(const std::string& event_id, const std::string& client_id,
               core::UnixMillis due = kNow) {
    outbox().enqueue_event(bare_event(event_id, client_id), due);
  }
  /// Claims one row for `worker` at `now`, failing the test unless exactly `event_id` comes.
  core::Delivery claim_one(const std::string& worker, core::UnixMillis now,
                           const std::string& event_id) {
    const std::vector<core::Delivery> claimed =
        outbox().claim_due(worker, now, 10, kLeaseMs, kNoCap);
    EXPECT_EQ(event_ids(claimed), std::vector<std::string>{event_id});
    return claimed.empty() ? core::Delivery{} : claimed.front();
  }
  core::Delivery delivery(const std::string& event_id) {
    const std::optional<core::Delivery> found = outbox().find_delivery(event_id);
    EXPECT_TRUE(found.has_value()) << event_id;
    return found.value_or(core::Delivery{});
  }

  std::unique_ptr<OutboxBackend> backend_;
  OutboxConnection connection_;
};

// --- enqueue and claim ---

TEST_P(OutboxSuite, enqueue_then_claim_returns_the_row_with_its_lease_set) {
  const core::OutboxEvent event = bare_event("event-1", "client-2");
  outbox().enqueue_event(event, kNow + 7);

  const std::vector<core::Delivery> claimed =
      outbox().claim_due("worker-a", kNow + 7, 10, kLeaseMs, kNoCap);
  ASSERT_EQ(claimed.size(), 1u);
  const core::Delivery& got = claimed[0];
  EXPECT_EQ(got.event.event_id, event.event_id);
  EXPECT_EQ(got.event.client_id, event.client_id);
  EXPECT_EQ(got.event.proof_id, "");
  EXPECT_EQ(got.event.event_type, event.event_type);
  EXPECT_EQ(got.event.payload, event.payload);
  EXPECT_EQ(got.event.created_at, event.created_at);
  EXPECT_EQ(got.status, core::kDeliveryPending);
  EXPECT_EQ(got.attempts, 0);
  EXPECT_EQ(got.next_attempt_at, kNow + 7);  // due when enqueued, not when created
  EXPECT_EQ(got.delivered_at, 0);
  EXPECT_EQ(got.last_error, "");
  EXPECT_EQ(got.lease_owner, "worker-a");
  EXPECT_EQ(got.lease_until, kNow + 7 + kLeaseMs);

  const core::Delivery stored = delivery("event-1");
  EXPECT_EQ(stored.lease_owner, "worker-a");
  EXPECT_EQ(stored.lease_until, kNow + 7 + kLeaseMs);
}

TEST_P(OutboxSuite, the_trace_context_travels_with_the_row) {
  // The writing request's traceparent (docs/observability.md, "Tracing") comes back with every
  // read of the row, so the worker's attempt joins that trace; a row without one reads empty.
  core::OutboxEvent event = bare_event("event-t", "client-2");
  event.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  outbox().enqueue_event(event, kNow);
  enqueue("event-u", "client-2");
  const std::vector<core::Delivery> claimed =
      outbox().claim_due("worker-a", kNow, 10, kLeaseMs, kNoCap);
  ASSERT_EQ(claimed.size(), 2u);
  for (const core::Delivery& d : claimed) {
    EXPECT_EQ(d.event.traceparent, d.event.event_id == "event-t" ? event.traceparent : "");
  }
  EXPECT_EQ(delivery("event-t").event.traceparent, event.traceparent);
  EXPECT_EQ(delivery("event-u").event.traceparent, "");
}

TEST_P(OutboxSuite, a_claimed_row_is_claimed_again_only_once_its_lease_expires) {
  enqueue("event-1", "client-1");
  claim_one("worker-a", kNow, "event-1");

  EXPECT_TRUE(outbox().claim_due("worker-b", kNow, 10, kLeaseMs, kNoCap).empty());
  EXPECT_TRUE(outbox().claim_due("worker-b", kNow + kLeaseMs - 1, 10, kLeaseMs, kNoCap).empty());
  // The lease holds until lease_until, exclusive: then another worker takes the row over.
  const core::Delivery taken = claim_one("worker-b", kNow + kLeaseMs, "event-1");
  EXPECT_EQ(taken.lease_owner, "worker-b");
  EXPECT_EQ(taken.lease_until, kNow + 2 * kLeaseMs);
  EXPECT_EQ(taken.attempts, 0);
  EXPECT_EQ(delivery("event-1").lease_owner, "worker-b");
}

TEST_P(OutboxSuite, rows_not_yet_due_are_not_claimed) {
  enqueue("event-1", "client-1", kNow + 1'000);
  EXPECT_TRUE(outbox().claim_due("worker-a", kNow, 10, kLeaseMs, kNoCap).empty());
  EXPECT_TRUE(outbox().claim_due("worker-a", kNow + 999, 10, kLeaseMs, kNoCap).empty());
  claim_one("worker-a", kNow + 1'000, "event-1");
}

TEST_P(OutboxSuite, claims_the_oldest_rows_first_up_to_the_limit) {
  // Event ids in reverse alphabetical order: the order must be the insertion order.
  for (int i = 9; i >= 5; --i) enqueue("event-" + std::to_string(i), "client-1");
  EXPECT_TRUE(outbox().claim_due("worker-a", kNow, 0, kLeaseMs, kNoCap).empty());
  EXPECT_EQ(event_ids(outbox().claim_due("worker-a", kNow, 3, kLeaseMs, kNoCap)),
            (std::vector<std::string>{"event-9", "event-8", "event-7"}));
  EXPECT_EQ(event_ids(outbox().claim_due("worker-b", kNow, 10, kLeaseMs, kNoCap)),
            (std::vector<std::string>{"event-6", "event-5"}));
}

TEST_P(OutboxSuite, per_client_limit_caps_one_partner_and_lets_the_others_through) {
  // client-1's five rows come first: a plain LIMIT would starve client-2.
  for (int i = 1; i <= 5; ++i) enqueue("a-" + std::to_string(i), "client-1");
  for (int i = 1; i <= 2; ++i) enqueue("b-" + std::to_string(i), "client-2");

  EXPECT_EQ(event_ids(outbox().claim_due("worker-a", kNow, 10, kLeaseMs, 2)),
            (std::vector<std::string>{"a-1", "a-2", "b-1", "b-2"}));
  for (const char* left : {"a-3", "a-4", "a-5"}) EXPECT_EQ(delivery(left).lease_owner, "") << left;
}

TEST_P(OutboxSuite, per_client_limit_counts_the_live_leases_of_earlier_claims) {
  for (int i = 1; i <= 5; ++i) enqueue("a-" + std::to_string(i), "client-1");
  EXPECT_EQ(outbox().claim_due("worker-a", kNow, 10, kLeaseMs, 2).size(), 2u);

  // client-1 holds two live leases already.
  EXPECT_TRUE(outbox().claim_due("worker-b", kNow + 1, 10, kLeaseMs, 2).empty());
  EXPECT_EQ(event_ids(outbox().claim_due("worker-b", kNow + 1, 10, kLeaseMs, 3)),
            std::vector<std::string>{"a-3"});

  // A finished attempt gives its slot back.
  ASSERT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("a-1", 1, kNow + 2)));
  EXPECT_EQ(event_ids(outbox().claim_due("worker-c", kNow + 3, 10, kLeaseMs, 3)),
            std::vector<std::string>{"a-4"});

  // Expired leases count no more: every pending row is free again, oldest first.
  EXPECT_EQ(event_ids(outbox().claim_due("worker-d", kNow + 10 * kLeaseMs, 10, kLeaseMs, 2)),
            (std::vector<std::string>{"a-2", "a-3"}));
}

// --- finishing attempts ---

TEST_P(OutboxSuite, finish_attempt_delivered_records_the_attempt_and_sets_delivered_at) {
  enqueue("event-1", "client-2");
  claim_one("worker-a", kNow, "event-1");

  const core::AttemptOutcome outcome = delivered_outcome("event-1", 1, kNow + 10);
  ASSERT_TRUE(outbox().finish_attempt("worker-a", outcome));

  const core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.status, core::kDeliveryDelivered);
  EXPECT_EQ(got.attempts, 1);
  EXPECT_EQ(got.delivered_at, kNow + 10 + 42);  // when the answer came
  EXPECT_EQ(got.last_error, "");
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_EQ(got.lease_until, 0);

  const std::vector<core::DeliveryAttempt> attempts = outbox().delivery_attempts("event-1");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].event_id, "event-1");
  EXPECT_EQ(attempts[0].attempt, 1);
  EXPECT_EQ(attempts[0].started_at, kNow + 10);
  EXPECT_EQ(attempts[0].status_code, 200);
  EXPECT_EQ(attempts[0].latency_ms, 42);
  EXPECT_EQ(attempts[0].error, "");

  EXPECT_TRUE(outbox().claim_due("worker-a", kNow + 100 * kLeaseMs, 10, kLeaseMs, kNoCap).empty());
  EXPECT_TRUE(store().pending_events(10).empty());
  EXPECT_EQ(outbox().next_due(), std::nullopt);
}

TEST_P(OutboxSuite, finish_attempt_failure_schedules_the_next_attempt_and_keeps_the_error) {
  enqueue("event-1", "client-2");
  claim_one("worker-a", kNow, "event-1");
  ASSERT_TRUE(outbox().finish_attempt(
      "worker-a", retry_outcome("event-1", 1, kNow + 1, 503, "HTTP 503", kNow + 60'000)));

  core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.status, core::kDeliveryPending);
  EXPECT_EQ(got.attempts, 1);
  EXPECT_EQ(got.next_attempt_at, kNow + 60'000);
  EXPECT_EQ(got.last_error, "HTTP 503");
  EXPECT_EQ(got.delivered_at, 0);
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_EQ(got.lease_until, 0);
  EXPECT_EQ(outbox().next_due(), std::optional<core::UnixMillis>(kNow + 60'000));

  EXPECT_TRUE(outbox().claim_due("worker-a", kNow + 59'999, 10, kLeaseMs, kNoCap).empty());
  EXPECT_EQ(claim_one("worker-b", kNow + 60'000, "event-1").attempts, 1);
  ASSERT_TRUE(outbox().finish_attempt(
      "worker-b", retry_outcome("event-1", 2, kNow + 60'001, 0, "timeout", kNow + 180'000)));

  got = delivery("event-1");
  EXPECT_EQ(got.attempts, 2);
  EXPECT_EQ(got.next_attempt_at, kNow + 180'000);
  EXPECT_EQ(got.last_error, "timeout");
  const std::vector<core::DeliveryAttempt> attempts = outbox().delivery_attempts("event-1");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].attempt, 1);
  EXPECT_EQ(attempts[0].status_code, 503);
  EXPECT_EQ(attempts[0].error, "HTTP 503");
  EXPECT_EQ(attempts[1].attempt, 2);
  EXPECT_EQ(attempts[1].status_code, 0);  // no HTTP answer
  EXPECT_EQ(attempts[1].latency_ms, 1'500);
  EXPECT_EQ(attempts[1].error, "timeout");
}

TEST_P(OutboxSuite, finish_attempt_dead_stops_the_deliveries_of_the_row) {
  enqueue("event-1", "client-2");
  claim_one("worker-a", kNow, "event-1");
  ASSERT_TRUE(outbox().finish_attempt("worker-a", dead_outcome("event-1", 1, kNow, "refused")));

  const core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.status, core::kDeliveryDead);
  EXPECT_EQ(got.attempts, 1);
  EXPECT_EQ(got.last_error, "refused");
  EXPECT_EQ(got.delivered_at, 0);
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_TRUE(outbox().claim_due("worker-a", kNow + 100 * kLeaseMs, 10, kLeaseMs, kNoCap).empty());
  EXPECT_EQ(outbox().next_due(), std::nullopt);
  EXPECT_EQ(outbox().delivery_attempts("event-1").size(), 1u);
}

TEST_P(OutboxSuite,
       finish_attempt_by_a_worker_that_lost_the_lease_returns_false_and_writes_nothing) {
  enqueue("event-1", "client-2");
  claim_one("worker-a", kNow, "event-1");
  claim_one("worker-b", kNow + kLeaseMs, "event-1");  // worker-a's lease expired

  EXPECT_FALSE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow + 5)));
  EXPECT_FALSE(outbox().finish_attempt(
      "worker-a", retry_outcome("event-1", 1, kNow + 5, 500, "HTTP 500", kNow + 1)));

  const core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.status, core::kDeliveryPending);
  EXPECT_EQ(got.attempts, 0);
  EXPECT_EQ(got.last_error, "");
  EXPECT_EQ(got.next_attempt_at, kNow);
  EXPECT_EQ(got.lease_owner, "worker-b");
  EXPECT_EQ(got.lease_until, kNow + 2 * kLeaseMs);
  EXPECT_TRUE(outbox().delivery_attempts("event-1").empty());

  // The new owner's attempt is the first one recorded.
  EXPECT_TRUE(
      outbox().finish_attempt("worker-b", delivered_outcome("event-1", 1, kNow + kLeaseMs)));
  EXPECT_EQ(outbox().delivery_attempts("event-1").size(), 1u);
}

TEST_P(OutboxSuite, finish_attempt_of_an_unclaimed_finished_or_unknown_row_returns_false) {
  enqueue("event-1", "client-1");
  EXPECT_FALSE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow)));
  EXPECT_FALSE(outbox().finish_attempt("", delivered_outcome("event-1", 1, kNow)));
  EXPECT_FALSE(outbox().finish_attempt("worker-a", delivered_outcome("no-such-event", 1, kNow)));

  claim_one("worker-a", kNow, "event-1");
  ASSERT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow)));
  // A second answer for the same attempt (a retried call) finds no lease any more.
  EXPECT_FALSE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow)));
  EXPECT_EQ(delivery("event-1").attempts, 1);
  EXPECT_EQ(outbox().delivery_attempts("event-1").size(), 1u);
}

TEST_P(OutboxSuite,
       finish_attempt_with_an_attempt_number_out_of_sequence_throws_and_writes_nothing) {
  enqueue("event-1", "client-1");
  claim_one("worker-a", kNow, "event-1");
  EXPECT_THROW(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 2, kNow)),
               core::StoreError);

  const core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.status, core::kDeliveryPending);
  EXPECT_EQ(got.attempts, 0);
  EXPECT_EQ(got.lease_owner, "worker-a");
  EXPECT_TRUE(outbox().delivery_attempts("event-1").empty());
  EXPECT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow)));
}

// --- replay ---

TEST_P(OutboxSuite, replay_of_a_dead_row_makes_it_claimable_again_and_keeps_its_attempts) {
  enqueue("event-1", "client-2");
  claim_one("worker-a", kNow, "event-1");
  ASSERT_TRUE(outbox().finish_attempt("worker-a", dead_outcome("event-1", 1, kNow, "refused")));

  ASSERT_TRUE(outbox().replay("event-1", kNow + 5'000));
  const core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.status, core::kDeliveryPending);
  EXPECT_EQ(got.next_attempt_at, kNow + 5'000);
  EXPECT_EQ(got.attempts, 1);
  EXPECT_EQ(got.last_error, "refused");
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_EQ(got.lease_until, 0);

  EXPECT_TRUE(outbox().claim_due("worker-b", kNow + 4'999, 10, kLeaseMs, kNoCap).empty());
  EXPECT_EQ(claim_one("worker-b", kNow + 5'000, "event-1").attempts, 1);
  ASSERT_TRUE(outbox().finish_attempt("worker-b", delivered_outcome("event-1", 2, kNow + 5'000)));

  const std::vector<core::DeliveryAttempt> attempts = outbox().delivery_attempts("event-1");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].attempt, 1);
  EXPECT_EQ(attempts[0].error, "refused");
  EXPECT_EQ(attempts[1].attempt, 2);
  EXPECT_EQ(attempts[1].error, "");
  EXPECT_EQ(delivery("event-1").status, core::kDeliveryDelivered);
}

TEST_P(OutboxSuite, replay_of_a_delivered_row_sends_it_again_and_clears_delivered_at) {
  enqueue("event-1", "client-2");
  claim_one("worker-a", kNow, "event-1");
  ASSERT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow)));

  ASSERT_TRUE(outbox().replay("event-1", kNow + 1'000));
  const core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.status, core::kDeliveryPending);
  EXPECT_EQ(got.delivered_at, 0);
  EXPECT_EQ(got.attempts, 1);
  claim_one("worker-a", kNow + 1'000, "event-1");
}

TEST_P(OutboxSuite, replay_refuses_a_pending_or_unknown_row) {
  enqueue("event-1", "client-1", kNow + 9'000);
  EXPECT_FALSE(outbox().replay("event-1", kNow));
  EXPECT_EQ(delivery("event-1").next_attempt_at, kNow + 9'000);  // untouched

  claim_one("worker-a", kNow + 9'000, "event-1");
  EXPECT_FALSE(outbox().replay("event-1", kNow + 9'001));  // leased: still pending
  EXPECT_EQ(delivery("event-1").lease_owner, "worker-a");

  EXPECT_FALSE(outbox().replay("no-such-event", kNow));
}

// --- admin views ---

TEST_P(OutboxSuite, list_deliveries_filters_by_client_and_status_newest_first) {
  for (int i = 1; i <= 3; ++i) enqueue("a-" + std::to_string(i), "client-1");
  for (int i = 1; i <= 2; ++i) enqueue("b-" + std::to_string(i), "client-2");
  ASSERT_EQ(outbox().claim_due("worker-a", kNow, 10, kLeaseMs, kNoCap).size(), 5u);
  ASSERT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("a-2", 1, kNow)));
  ASSERT_TRUE(outbox().finish_attempt("worker-a", dead_outcome("b-2", 1, kNow, "refused")));

  EXPECT_EQ(event_ids(outbox().list_deliveries("", "", 100)),
            (std::vector<std::string>{"b-2", "b-1", "a-3", "a-2", "a-1"}));
  EXPECT_EQ(event_ids(outbox().list_deliveries("", "", 2)),
            (std::vector<std::string>{"b-2", "b-1"}));
  EXPECT_EQ(event_ids(outbox().list_deliveries("client-1", "", 100)),
            (std::vector<std::string>{"a-3", "a-2", "a-1"}));
  EXPECT_EQ(event_ids(outbox().list_deliveries("", core::kDeliveryPending, 100)),
            (std::vector<std::string>{"b-1", "a-3", "a-1"}));
  EXPECT_EQ(event_ids(outbox().list_deliveries("client-2", core::kDeliveryDead, 100)),
            std::vector<std::string>{"b-2"});
  EXPECT_EQ(event_ids(outbox().list_deliveries("client-1", core::kDeliveryDelivered, 100)),
            std::vector<std::string>{"a-2"});
  EXPECT_TRUE(outbox().list_deliveries("client-1", core::kDeliveryDead, 100).empty());
  EXPECT_TRUE(outbox().list_deliveries("client-3", "", 100).empty());
  EXPECT_TRUE(outbox().list_deliveries("", "", 0).empty());

  const std::vector<core::Delivery> dead = outbox().list_deliveries("", core::kDeliveryDead, 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].event.client_id, "client-2");
  EXPECT_EQ(dead[0].attempts, 1);
  EXPECT_EQ(dead[0].last_error, "refused");
}

TEST_P(OutboxSuite, find_delivery_and_delivery_attempts_of_an_unknown_event_are_empty) {
  enqueue("event-1", "client-1");
  EXPECT_FALSE(outbox().find_delivery("no-such-event").has_value());
  EXPECT_TRUE(outbox().delivery_attempts("no-such-event").empty());
  EXPECT_TRUE(outbox().delivery_attempts("event-1").empty());
}

TEST_P(OutboxSuite, count_by_status_counts_each_status_including_the_empty_ones) {
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(outbox().count_by_status(), (Counts{{"pending", 0}, {"delivered", 0}, {"dead", 0}}));

  for (int i = 1; i <= 4; ++i) enqueue("event-" + std::to_string(i), "client-1");
  ASSERT_EQ(outbox().claim_due("worker-a", kNow, 2, kLeaseMs, kNoCap).size(), 2u);
  ASSERT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow)));
  ASSERT_TRUE(outbox().finish_attempt("worker-a", dead_outcome("event-2", 1, kNow, "refused")));
  EXPECT_EQ(outbox().count_by_status(), (Counts{{"pending", 2}, {"delivered", 1}, {"dead", 1}}));
}

TEST_P(OutboxSuite, next_due_is_the_earliest_time_a_pending_row_can_be_claimed) {
  EXPECT_EQ(outbox().next_due(), std::nullopt);
  enqueue("event-1", "client-1", kNow + 500);
  enqueue("event-2", "client-1", kNow + 200);
  EXPECT_EQ(outbox().next_due(), std::optional<core::UnixMillis>(kNow + 200));

  // A leased row counts from the end of its lease: nobody can claim it before.
  claim_one("worker-a", kNow + 200, "event-2");
  EXPECT_EQ(outbox().next_due(), std::optional<core::UnixMillis>(kNow + 500));
  claim_one("worker-a", kNow + 500, "event-1");
  ASSERT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow + 500)));
  EXPECT_EQ(outbox().next_due(), std::optional<core::UnixMillis>(kNow + 200 + kLeaseMs));
  ASSERT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-2", 1, kNow + 500)));
  EXPECT_EQ(outbox().next_due(), std::nullopt);
}

// --- events with and without a proof ---

TEST_P(OutboxSuite, events_without_a_proof_are_enqueued_listed_and_delivered) {
  core::OutboxEvent deleted = bare_event("event-1", "client-2");
  deleted.event_type = "account_deleted";
  outbox().enqueue_event(deleted, kNow);

  const std::vector<core::OutboxEvent> pending = store().pending_events(10);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].event_id, "event-1");
  EXPECT_EQ(pending[0].proof_id, "");
  EXPECT_EQ(pending[0].event_type, "account_deleted");
  EXPECT_EQ(delivery("event-1").event.proof_id, "");

  claim_one("worker-a", kNow, "event-1");
  EXPECT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-1", 1, kNow)));
  EXPECT_TRUE(store().pending_events(10).empty());
}

TEST_P(OutboxSuite, record_proof_events_are_pending_and_due_at_their_creation) {
  const core::ProofRecord proof = sample_proof("proof-1", "client-2", "nonce-a");
  const core::OutboxEvent event = sample_event("event-1", proof);
  ASSERT_EQ(store().record_proof(proof, &event, nullptr), core::RecordOutcome::kStored);

  const core::Delivery got = delivery("event-1");
  EXPECT_EQ(got.event.proof_id, "proof-1");
  EXPECT_EQ(got.event.payload, event.payload);
  EXPECT_EQ(got.status, core::kDeliveryPending);
  EXPECT_EQ(got.attempts, 0);
  EXPECT_EQ(got.next_attempt_at, event.created_at);
  EXPECT_EQ(got.delivered_at, 0);
  EXPECT_EQ(got.lease_owner, "");
  EXPECT_EQ(got.lease_until, 0);
  EXPECT_EQ(outbox().next_due(), std::optional<core::UnixMillis>(event.created_at));

  EXPECT_TRUE(outbox().claim_due("worker-a", event.created_at - 1, 10, kLeaseMs, kNoCap).empty());
  claim_one("worker-a", event.created_at, "event-1");
}

TEST_P(OutboxSuite, enqueue_event_refuses_a_taken_event_id_or_an_unknown_partner_or_proof) {
  enqueue("event-1", "client-1");
  EXPECT_THROW(enqueue("event-1", "client-2"), core::StoreError);
  EXPECT_THROW(enqueue("event-2", "no-such-client"), core::StoreError);
  core::OutboxEvent orphan = bare_event("event-3", "client-1");
  orphan.proof_id = "no-such-proof";
  EXPECT_THROW(outbox().enqueue_event(orphan, kNow), core::StoreError);
  EXPECT_EQ(event_ids(outbox().list_deliveries("", "", 10)), std::vector<std::string>{"event-1"});
  EXPECT_EQ(delivery("event-1").event.client_id, "client-1");
}

TEST_P(OutboxSuite, leases_and_attempts_survive_reopening) {
  enqueue("event-1", "client-1");
  enqueue("event-2", "client-1", kNow + 1);
  claim_one("worker-a", kNow, "event-1");
  ASSERT_TRUE(outbox().finish_attempt(
      "worker-a", retry_outcome("event-1", 1, kNow, 502, "HTTP 502", kNow + 60'000)));
  claim_one("worker-a", kNow + 1, "event-2");

  reopen();

  EXPECT_EQ(delivery("event-1").attempts, 1);
  EXPECT_EQ(delivery("event-1").last_error, "HTTP 502");
  EXPECT_EQ(outbox().delivery_attempts("event-1").size(), 1u);
  EXPECT_EQ(delivery("event-2").lease_owner, "worker-a");
  EXPECT_TRUE(outbox().claim_due("worker-b", kNow + 2, 10, kLeaseMs, kNoCap).empty());
  EXPECT_TRUE(outbox().finish_attempt("worker-a", delivered_outcome("event-2", 1, kNow + 3)));
}

// --- webhook targets and secret rotation ---

TEST_P(OutboxSuite, webhook_target_gives_the_url_and_secrets_and_nothing_for_an_unknown_partner) {
  const core::Client with_webhook = sample_client(2);
  const std::optional<core::WebhookTarget> target = outbox().webhook_target("client-2");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->client_id, "client-2");
  EXPECT_EQ(target->url, with_webhook.webhook_url);
  EXPECT_EQ(target->secret_sealed, with_webhook.webhook_secret_sealed);  // binary, with a NUL
  EXPECT_EQ(target->previous_secret_sealed, "");
  EXPECT_EQ(target->previous_until, 0);

  const std::optional<core::WebhookTarget> none = outbox().webhook_target("client-1");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->url, "");
  EXPECT_EQ(none->secret_sealed, "");

  EXPECT_FALSE(outbox().webhook_target("no-such-client").has_value());
}

TEST_P(OutboxSuite, rotate_webhook_secret_makes_the_current_secret_the_previous_one) {
  const core::Client before = sample_client(2);
  const std::string first(std::string("new\0one", 7));
  outbox().rotate_webhook_secret("client-2", first, kNow + 86'400'000, "");

  std::optional<core::WebhookTarget> target = outbox().webhook_target("client-2");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->secret_sealed, first);
  EXPECT_EQ(target->previous_secret_sealed, before.webhook_secret_sealed);
  EXPECT_EQ(target->previous_until, kNow + 86'400'000);
  EXPECT_EQ(target->url, before.webhook_url);  // an empty url keeps it

  outbox().rotate_webhook_secret("client-2", "second", kNow + 90'000'000,
                                 "https://hooks.example/moved");
  target = outbox().webhook_target("client-2");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->secret_sealed, "second");
  EXPECT_EQ(target->previous_secret_sealed, first);
  EXPECT_EQ(target->previous_until, kNow + 90'000'000);
  EXPECT_EQ(target->url, "https://hooks.example/moved");
  // The partner row is the same one the API key finds.
  EXPECT_EQ(store().find_client_by_prefix(before.key_prefix)->webhook_secret_sealed, "second");
}

TEST_P(OutboxSuite, rotate_webhook_secret_without_a_current_secret_leaves_no_previous_one) {
  outbox().rotate_webhook_secret("client-1", "first", kNow + 1'000, "https://hooks.example/1");
  const std::optional<core::WebhookTarget> target = outbox().webhook_target("client-1");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->url, "https://hooks.example/1");
  EXPECT_EQ(target->secret_sealed, "first");
  EXPECT_EQ(target->previous_secret_sealed, "");
  EXPECT_EQ(target->previous_until, 0);
}

TEST_P(OutboxSuite, rotate_webhook_secret_of_an_unknown_partner_throws) {
  EXPECT_THROW(outbox().rotate_webhook_secret("no-such-client", "s", kNow, ""), core::StoreError);
}

// --- concurrency ---

/// Several workers on two connections claim and finish until nothing is left to claim.
TEST_P(OutboxSuite, four_workers_on_two_connections_never_claim_one_row_twice) {
  constexpr int kThreads = 4;
  constexpr int kRows = 120;
  constexpr std::int64_t kLongLease = 3'600'000;  // no lease expires during the test
  for (int i = 0; i < kRows; ++i) {
    enqueue("event-" + std::to_string(i), "client-" + std::to_string(1 + i % 3));
  }
  const OutboxConnection second = backend_->open();

  std::vector<std::vector<std::string>> claimed(kThreads);
  std::vector<std::string> errors(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      core::OutboxStore& outbox = t % 2 == 0 ? *connection_.outbox : *second.outbox;
      const std::string worker = "worker-" + std::to_string(t);
      start.arrive_and_wait();
      try {
        // Each round claims a row at least: more rounds than rows means rows came back.
        for (int round = 0;; ++round) {
          if (round > kRows) throw std::runtime_error("still claiming after every row was claimed");
          const std::vector<core::Delivery> batch =
              outbox.claim_due(worker, kNow, 7, kLongLease, kNoCap);
          if (batch.empty()) break;
          for (const core::Delivery& row : batch) {
            claimed[t].push_back(row.event.event_id);
            // Even rows succeed; odd ones fail and are due again only after the test's now.
            const bool even = (std::stoi(row.event.event_id.substr(6)) % 2) == 0;
            const core::AttemptOutcome outcome =
                even ? delivered_outcome(row.event.event_id, 1, kNow)
                     : retry_outcome(row.event.event_id, 1, kNow, 500, "HTTP 500", kNow + 1);
            if (!outbox.finish_attempt(worker, outcome)) {
              throw std::runtime_error("lost the lease of " + row.event.event_id);
            }
          }
        }
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::map<std::string, int> times_claimed;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "worker " << t;
    for (const std::string& id : claimed[t]) ++times_claimed[id];
  }
  ASSERT_EQ(times_claimed.size(), static_cast<std::size_t>(kRows));
  for (const auto& [id, times] : times_claimed) EXPECT_EQ(times, 1) << id;
  for (int i = 0; i < kRows; ++i) {
    const std::string id = "event-" + std::to_string(i);
    EXPECT_EQ(outbox().delivery_attempts(id).size(), 1u) << id;
    EXPECT_EQ(delivery(id).attempts, 1) << id;
  }
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(outbox().count_by_status(),
            (Counts{{"pending", kRows / 2}, {"delivered", kRows / 2}, {"dead", 0}}));
}

TEST_P(OutboxSuite, workers_claiming_at_once_on_two_connections_keep_the_per_client_limit) {
  constexpr int kThreads = 4;
  constexpr int kRows = 60;
  constexpr std::size_t kCap = 3;
  for (int i = 0; i < kRows; ++i) {
    enqueue("event-" + std::to_string(i), "client-" + std::to_string(1 + i % 3));
  }
  const OutboxConnection second = backend_->open();

  std::vector<std::vector<core::Delivery>> claimed(kThreads);
  std::vector<std::string> errors(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      core::OutboxStore& outbox = t % 2 == 0 ? *connection_.outbox : *second.outbox;
      start.arrive_and_wait();
      try {
        for (int round = 0;; ++round) {
          if (round > kRows) throw std::runtime_error("still claiming after every row was claimed");
          std::vector<core::Delivery> batch =
              outbox.claim_due("worker-" + std::to_string(t), kNow, 2, kLeaseMs, kCap);
          if (batch.empty()) break;
          for (core::Delivery& row : batch) claimed[t].push_back(std::move(row));
        }
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::map<std::string, std::size_t> leases_by_client;
  std::set<std::string> ids;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "worker " << t;
    for (const core::Delivery& row : claimed[t]) {
      ++leases_by_client[row.event.client_id];
      EXPECT_TRUE(ids.insert(row.event.event_id).second) << row.event.event_id << " twice";
    }
  }
  EXPECT_EQ(leases_by_client, (std::map<std::string, std::size_t>{
                                  {"client-1", kCap}, {"client-2", kCap}, {"client-3", kCap}}));
}

}  // namespace pg::store::test
