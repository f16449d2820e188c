// The outbox and idempotency state machines both stores share (outbox_rules.hpp).
#include "store/outbox_rules.hpp"

#include <algorithm>
#include <limits>

#include "store/store_error.hpp"

namespace pg::store {

core::UnixMillis claim_lease_end(std::string_view worker, core::UnixMillis now,
                                 std::int64_t lease_ms, std::string_view store) {
  constexpr std::string_view kOperation = "claim_due";
  if (worker.empty()) fail_store(store, kOperation, "no worker name");
  if (lease_ms <= 0) fail_store(store, kOperation, "lease_ms must be positive");
  if (lease_ms > std::numeric_limits<core::UnixMillis>::max() - now) {
    fail_store(store, kOperation, "now + lease_ms overflows");
  }
  return now + lease_ms;
}

std::vector<core::Delivery> in_enqueue_order(
    std::vector<std::pair<std::int64_t, core::Delivery>> claimed) {
  std::sort(claimed.begin(), claimed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<core::Delivery> deliveries;
  deliveries.reserve(claimed.size());
  for (auto& [id, delivery] : claimed) deliveries.push_back(std::move(delivery));
  return deliveries;
}

FinishedRow finished_row(const core::AttemptOutcome& outcome) {
  const core::DeliveryAttempt& attempt = outcome.attempt;
  FinishedRow row;
  if (outcome.delivered) {
    row.status = core::kDeliveryDelivered;
    row.delivered_at = attempt.started_at + attempt.latency_ms;
    return row;
  }
  row.status = outcome.dead ? core::kDeliveryDead : core::kDeliveryPending;
  if (!outcome.dead) row.next_attempt_at = outcome.next_attempt_at;
  row.last_error = attempt.error;
  return row;
}

void check_attempt_number(std::int64_t attempts, const core::DeliveryAttempt& attempt,
                          std::string_view store) {
  if (attempts == attempt.attempt) return;
  fail_store(store, "finish_attempt",
             "attempt " + std::to_string(attempt.attempt) + " of event '" + attempt.event_id +
                 "' is not the next one (" + std::to_string(attempts) + ")");
}

StatusCounts::StatusCounts()
    : counts_{{std::string(core::kDeliveryPending), 0},
              {std::string(core::kDeliveryDelivered), 0},
              {std::string(core::kDeliveryDead), 0}} {}

void StatusCounts::add(const std::string& status, std::int64_t count) {
  const auto entry = std::find_if(counts_.begin(), counts_.end(),
                                  [&](const auto& known) { return known.first == status; });
  if (entry != counts_.end()) {
    entry->second = count;
  } else {
    counts_.emplace_back(status, count);
  }
}

std::optional<core::IdempotencyRecord> idempotency_replay(core::IdempotencyRecord record,
                                                          core::UnixMillis now) {
  if (record.expires_at < now) return std::nullopt;
  return record;
}

std::int64_t sql_count(std::size_t value) noexcept {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(value, std::numeric_limits<std::int64_t>::max()));
}

}  // namespace pg::store
