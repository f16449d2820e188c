// A read-only view of a webhook worker's counters: the worker implements it, metrics read it, so
// the HTTP adapter needs nothing of the webhooks adapter.
#pragma once

#include <array>
#include <cstdint>

namespace pg::core {

/// Upper bounds (seconds) of the delivery-latency histogram: from an event's creation (the verify
/// that queued it) to the 2xx answer of the attempt that delivered it, retries included.
inline constexpr std::array<double, 12> kDeliveryLatencyBuckets{0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                                                5,    10,  30,   60,  300, 1800};

/// One reading of a worker's counters since it started.
struct DeliveryCounts {
  std::uint64_t attempts_ok = 0;      // attempts answered 2xx
  std::uint64_t attempts_failed = 0;  // attempts that failed (recorded)
  std::uint64_t dead = 0;             // deliveries moved to dead
  std::uint64_t storage_errors = 0;   // storage calls that failed (claim, next due, finish)
  std::int64_t in_flight = 0;         // attempts running now
  /// Deliveries whose latency was at most kDeliveryLatencyBuckets[i] (cumulative, Prometheus
  /// style); their count is attempts_ok.
  std::array<std::uint64_t, kDeliveryLatencyBuckets.size()> latency_le{};
  double latency_sum_seconds = 0;
};

class DeliveryCounters {
 public:
  virtual ~DeliveryCounters() = default;
  /// The counters now; safe to call from any thread while the worker runs.
  virtual DeliveryCounts delivery_counts() const = 0;
};

}  // namespace pg::core
