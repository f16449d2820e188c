// The webhook outbox's and the idempotency records' state machines, written once for both stores:
// the decisions as plain functions over row values; each adapter only runs its SQL with them.
// (Which rows are due and claimable stays in each adapter's claim statement, where it must be
// decided row by row under the database's locks: a row is due when next_attempt_at <= now and its
// lease has expired, lease_until <= now; lease_is_live below is the same rule.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.hpp"
#include "core/outbox.hpp"

namespace pg::store {

/// A lease is live while lease_until > now; at now it has expired and the row is free again.
constexpr bool lease_is_live(core::UnixMillis lease_until, core::UnixMillis now) noexcept {
  return lease_until > now;
}

/// Checks claim_due's arguments and returns when the claimed rows' lease ends (now + lease_ms).
/// Throws core::StoreError for an empty worker name (an empty owner would read as "free"), a
/// lease_ms that is not positive (a lease that ends at once holds nothing) or that overflows.
core::UnixMillis claim_lease_end(std::string_view worker, core::UnixMillis now,
                                 std::int64_t lease_ms, std::string_view store);

/// Claimed rows (each with its outbox id) in the order they were enqueued.
std::vector<core::Delivery> in_enqueue_order(
    std::vector<std::pair<std::int64_t, core::Delivery>> claimed);

/// What a finished attempt writes to the row its worker holds (the lease is released and attempts
/// counts one more in any case).
struct FinishedRow {
  std::string_view status;  // delivered wins over dead; neither leaves the row pending
  std::optional<core::UnixMillis> next_attempt_at;  // pending only; nullopt keeps the row's
  std::optional<core::UnixMillis> delivered_at;     // delivered: started_at + latency_ms
  std::string_view last_error;  // the attempt's error unless delivered ("" NULL)
};
FinishedRow finished_row(const core::AttemptOutcome& outcome);

/// `attempts` is the row's count after the finish: it must be the attempt's own number (the
/// worker numbers it from the Delivery it claimed). Throws core::StoreError otherwise.
void check_attempt_number(std::int64_t attempts, const core::DeliveryAttempt& attempt,
                          std::string_view store);

/// count_by_status's answer: pending, delivered, dead in that order, each present (0 when none),
/// then any other status a row holds (the schema's CHECK admits none; counted should one appear).
class StatusCounts {
 public:
  StatusCounts();
  void add(const std::string& status, std::int64_t count);
  std::vector<std::pair<std::string, std::int64_t>> take() { return std::move(counts_); }

 private:
  std::vector<std::pair<std::string, std::int64_t>> counts_;
};

/// What a stored idempotency record replays at `now`: the record while expires_at >= now, nothing
/// once it has expired (the key is free again).
std::optional<core::IdempotencyRecord> idempotency_replay(core::IdempotencyRecord record,
                                                          core::UnixMillis now);

/// A count or limit for a 64-bit integer parameter (saturates).
std::int64_t sql_count(std::size_t value) noexcept;

}  // namespace pg::store
