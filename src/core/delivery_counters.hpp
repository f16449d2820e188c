// A read-only view of a webhook worker's counters: the worker implements it, metrics read it, so
// the HTTP adapter needs nothing of the webhooks adapter.
#pragma once

#include <cstdint>

namespace pg::core {

/// One reading of a worker's counters since it started.
struct DeliveryCounts {
  std::uint64_t attempts_ok = 0;      // attempts answered 2xx
  std::uint64_t attempts_failed = 0;  // attempts that failed (recorded)
  std::uint64_t dead = 0;             // deliveries moved to dead
  std::uint64_t storage_errors = 0;   // storage calls that failed (claim, next due, finish)
  std::int64_t in_flight = 0;         // attempts running now
};

class DeliveryCounters {
 public:
  virtual ~DeliveryCounters() = default;
  /// The counters now; safe to call from any thread while the worker runs.
  virtual DeliveryCounts delivery_counts() const = 0;
};

}  // namespace pg::core
