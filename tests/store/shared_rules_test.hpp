// The pieces both stores share (src/store: outbox_rules, rows, column_index, audit_batches) checked
// on their own; included by the SQLite test binary (they need no database).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/ports.hpp"
#include "store/audit_batches.hpp"
#include "store/column_index.hpp"
#include "store/outbox_rules.hpp"
#include "store/rows.hpp"

namespace pg::store::test {

constexpr std::string_view kTestStore = "test store";

core::AttemptOutcome outcome_of(int number, std::string error) {
  core::AttemptOutcome outcome;
  outcome.attempt.event_id = "ev-1";
  outcome.attempt.attempt = number;
  outcome.attempt.started_at = 1000;
  outcome.attempt.latency_ms = 25;
  outcome.attempt.error = std::move(error);
  return outcome;
}

TEST(OutboxRules, a_delivered_attempt_stamps_delivered_at_and_keeps_next_attempt_at) {
  core::AttemptOutcome outcome = outcome_of(1, "");
  outcome.delivered = true;
  outcome.dead = true;  // delivered wins over dead
  outcome.next_attempt_at = 9999;
  const FinishedRow row = finished_row(outcome);
  EXPECT_EQ(row.status, core::kDeliveryDelivered);
  EXPECT_FALSE(row.next_attempt_at.has_value());
  ASSERT_TRUE(row.delivered_at.has_value());
  EXPECT_EQ(*row.delivered_at, 1025);
  EXPECT_EQ(row.last_error, "");
}

TEST(OutboxRules, a_failed_attempt_with_retries_left_stays_pending_until_the_next_attempt) {
  core::AttemptOutcome outcome = outcome_of(2, "timeout");
  outcome.next_attempt_at = 5000;
  const FinishedRow row = finished_row(outcome);
  EXPECT_EQ(row.status, core::kDeliveryPending);
  ASSERT_TRUE(row.next_attempt_at.has_value());
  EXPECT_EQ(*row.next_attempt_at, 5000);
  EXPECT_FALSE(row.delivered_at.has_value());
  EXPECT_EQ(row.last_error, "timeout");
}

TEST(OutboxRules, a_failed_last_attempt_is_dead_and_keeps_next_attempt_at) {
  core::AttemptOutcome outcome = outcome_of(8, "HTTP 500");
  outcome.dead = true;
  outcome.next_attempt_at = 5000;
  const FinishedRow row = finished_row(outcome);
  EXPECT_EQ(row.status, core::kDeliveryDead);
  EXPECT_FALSE(row.next_attempt_at.has_value());
  EXPECT_FALSE(row.delivered_at.has_value());
  EXPECT_EQ(row.last_error, "HTTP 500");
}

TEST(OutboxRules, only_the_next_attempt_number_is_accepted) {
  const core::AttemptOutcome outcome = outcome_of(3, "");
  EXPECT_NO_THROW(check_attempt_number(3, outcome.attempt, kTestStore));
  try {
    check_attempt_number(2, outcome.attempt, kTestStore);
    FAIL() << "attempt 3 accepted as the second";
  } catch (const core::StoreError& error) {
    EXPECT_EQ(std::string(error.what()),
              "test store: finish_attempt: attempt 3 of event 'ev-1' is not the next one (2)");
  }
}

TEST(OutboxRules, a_claim_needs_a_worker_and_a_positive_lease_that_does_not_overflow) {
  EXPECT_EQ(claim_lease_end("w1", 1000, 30, kTestStore), 1030);
  EXPECT_THROW(claim_lease_end("", 1000, 30, kTestStore), core::StoreError);
  EXPECT_THROW(claim_lease_end("w1", 1000, 0, kTestStore), core::StoreError);
  EXPECT_THROW(claim_lease_end("w1", 1000, -5, kTestStore), core::StoreError);
  EXPECT_THROW(
      claim_lease_end("w1", std::numeric_limits<core::UnixMillis>::max() - 10, 11, kTestStore),
      core::StoreError);
}

TEST(OutboxRules, a_lease_expires_at_its_end) {
  EXPECT_TRUE(lease_is_live(1001, 1000));
  EXPECT_FALSE(lease_is_live(1000, 1000));
  EXPECT_FALSE(lease_is_live(0, 1000));
}

TEST(OutboxRules, claimed_rows_come_back_in_enqueue_order) {
  std::vector<std::pair<std::int64_t, core::Delivery>> claimed(3);
  claimed[0] = {7, {}};
  claimed[0].second.event.event_id = "c";
  claimed[1] = {2, {}};
  claimed[1].second.event.event_id = "a";
  claimed[2] = {5, {}};
  claimed[2].second.event.event_id = "b";
  const std::vector<core::Delivery> ordered = in_enqueue_order(std::move(claimed));
  ASSERT_EQ(ordered.size(), 3U);
  EXPECT_EQ(ordered[0].event.event_id, "a");
  EXPECT_EQ(ordered[1].event.event_id, "b");
  EXPECT_EQ(ordered[2].event.event_id, "c");
}

TEST(OutboxRules, status_counts_name_every_status_then_any_other) {
  StatusCounts counts;
  counts.add("dead", 4);
  counts.add("unexpected", 1);
  const auto taken = counts.take();
  const std::vector<std::pair<std::string, std::int64_t>> expected = {
      {"pending", 0}, {"delivered", 0}, {"dead", 4}, {"unexpected", 1}};
  EXPECT_EQ(taken, expected);
}

TEST(IdempotencyRules, a_record_replays_until_it_expires) {
  core::IdempotencyRecord record;
  record.key = "k";
  record.expires_at = 2000;
  EXPECT_TRUE(idempotency_replay(record, 1999).has_value());
  EXPECT_TRUE(idempotency_replay(record, 2000).has_value());
  EXPECT_FALSE(idempotency_replay(record, 2001).has_value());
}

/// A row reader over a name -> value map, in no particular column order.
class MapRow {
 public:
  explicit MapRow(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  std::string text(std::string_view name) const { return get(name); }
  std::string bytes(std::string_view name) const { return get(name); }
  std::int64_t integer(std::string_view name) const {
    const std::string value = get(name);
    return value.empty() ? 0 : std::stoll(value);
  }
  bool is_null(std::string_view name) const { return !values_.contains(std::string(name)); }
  std::string json(std::string_view name) const { return get(name); }

 private:
  std::string get(std::string_view name) const {
    const auto found = values_.find(std::string(name));
    return found == values_.end() ? std::string() : found->second;
  }
  std::map<std::string, std::string> values_;
};

TEST(RowMapping, rows_are_read_by_column_name) {
  const MapRow row({{"verifier_id", "cl-1"},
                    {"key", "idem"},
                    {"body_hash", "h"},
                    {"status", "201"},
                    {"response", "{}"},
                    {"expires_at", "77"}});
  const core::IdempotencyRecord record = idempotency_from_row(row);
  EXPECT_EQ(record.client_id, "cl-1");
  EXPECT_EQ(record.key, "idem");
  EXPECT_EQ(record.body_hash, "h");
  EXPECT_EQ(record.status, 201);
  EXPECT_EQ(record.response, "{}");
  EXPECT_EQ(record.expires_at, 77);

  const core::AuditEntry entry =
      audit_from_row(MapRow({{"id", "3"}, {"actor_type", "admin"}, {"action", "x"}, {"at", "9"}}));
  EXPECT_EQ(entry.details_json, "{}");  // NULL details
  EXPECT_EQ(entry.actor_id, "");
}

TEST(RowMapping, a_client_whose_key_hash_is_not_32_bytes_is_refused) {
  const MapRow row({{"id", "cl-1"}, {"key_hash", "short"}, {"scopes", "[]"}, {"domains", "[]"}});
  EXPECT_THROW(client_from_row(row, kTestStore), core::StoreError);
}

TEST(ColumnIndexTest, finds_a_column_by_name_and_names_a_missing_one) {
  const ColumnIndex columns({"id", "status", "attempts"});
  EXPECT_EQ(columns.at("attempts", "op", kTestStore), 2);
  EXPECT_EQ(columns.at("id", "op", kTestStore), 0);
  try {
    columns.at("due", "next_due", kTestStore);
    FAIL() << "a missing column was found";
  } catch (const core::StoreError& error) {
    EXPECT_EQ(std::string(error.what()), "test store: next_due: no column due in the result");
  }
}

TEST(AuditBatches, batches_run_until_one_comes_back_short) {
  std::vector<std::size_t> sizes = {3, 3, 1, 3};
  std::size_t calls = 0;
  const std::size_t taken = take_audit_batches(3, kTestStore, [&] { return sizes[calls++]; });
  EXPECT_EQ(taken, 7U);
  EXPECT_EQ(calls, 3U);
  EXPECT_THROW(take_audit_batches(0, kTestStore, [] { return std::size_t{0}; }), core::StoreError);
}

TEST(AuditBatches, an_empty_callback_is_refused) {
  EXPECT_THROW(archive_without_entry({}, kTestStore), core::StoreError);
  EXPECT_THROW(archive_with_entry({}, kTestStore), core::StoreError);
  bool archived = false;
  const std::function<void(const std::vector<core::AuditEntry>&)> archive =
      [&](const std::vector<core::AuditEntry>&) { archived = true; };
  EXPECT_FALSE(archive_without_entry(archive, kTestStore)({}).has_value());
  EXPECT_TRUE(archived);
}

}  // namespace pg::store::test
