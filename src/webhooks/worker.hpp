// The outbox worker: claims due deliveries under a lease, signs and POSTs them through the
// guarded client, records each attempt, and schedules retries (exponential backoff with jitter,
// Retry-After honoured) until delivered or dead. Runs inside `proofgate serve` and as
// `proofgate worker`; several workers may share one database.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "core/delivery_counters.hpp"
#include "core/outbox.hpp"
#include "core/ports.hpp"
#include "core/secrets.hpp"
#include "trace/otlp.hpp"
#include "webhooks/address_guard.hpp"

namespace pg::webhooks {

/// The default retry schedule: the wait after the 1st, 2nd, ... failed attempt. After the last
/// entry's attempt fails too, the delivery is dead: 8 attempts over about 17 hours.
inline const std::vector<std::chrono::milliseconds> kDefaultSchedule{
    std::chrono::seconds(5),  std::chrono::seconds(30), std::chrono::minutes(2),
    std::chrono::minutes(10), std::chrono::hours(1),    std::chrono::hours(4),
    std::chrono::hours(12)};

struct WorkerSettings {
  std::string worker_id;        // unique per process (the lease owner)
  std::size_t concurrency = 8;  // deliveries in flight
  std::size_t per_client = 2;   // in flight per partner: a slow receiver cannot starve others
  std::chrono::milliseconds poll{250};      // the longest sleep when nothing is due
  std::chrono::milliseconds timeout{5000};  // per attempt: connect, send, answer
  std::vector<std::chrono::milliseconds> schedule = kDefaultSchedule;
  double jitter = 0.2;  // each wait is scaled by a uniform factor in [1-j, 1+j]
  std::chrono::milliseconds max_retry_after{std::chrono::hours(24)};
  GuardPolicy policy;
  const trace::Tracer* tracer = nullptr;  // one client span per attempt; null: none exported
};

/// The wait before attempt `attempts + 1` after `attempts` failed ones (1-based), honouring a
/// receiver's Retry-After (never shorter than it, capped at max_retry_after), jittered with
/// `unit` in [0, 1); nullopt when the schedule is exhausted (dead).
std::optional<std::chrono::milliseconds> retry_delay(
    const WorkerSettings& s, int attempts, std::optional<std::chrono::seconds> retry_after,
    double unit);

class Worker final : public core::DeliveryCounters {
 public:
  Worker(core::OutboxStore& store, const core::Clock& clock, const core::MasterKey& master_key,
         WorkerSettings settings);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Delivers until `stop` is set (then finishes the attempts in flight and returns).
  void run(const std::atomic<bool>& stop);
  /// Wakes the claim loop now (the verify path calls this after writing an outbox row).
  void notify();

  core::DeliveryCounts delivery_counts() const override;

 private:
  void deliver(const core::Delivery& d);
  /// Counts and logs a storage call that failed; the loop goes on (the row stays in the outbox).
  void storage_failed(std::string_view call, std::string_view event_id, const std::exception& e);

  std::atomic<std::uint64_t> attempts_ok_{0}, attempts_failed_{0}, dead_{0}, storage_errors_{0};
  std::atomic<std::int64_t> in_flight_{0};
  std::array<std::atomic<std::uint64_t>, core::kDeliveryLatencyBuckets.size()> latency_le_{};
  std::atomic<std::int64_t> latency_sum_ms_{0};

  core::OutboxStore& store_;
  const core::Clock& clock_;
  core::MasterKey master_key_;
  WorkerSettings s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace pg::webhooks
