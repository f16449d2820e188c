// Prometheus text exposition of the server's counters and latency histograms (format 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "core/delivery_counters.hpp"
#include "core/outbox.hpp"
#include "core/service.hpp"
#include "trace/otlp.hpp"

namespace pg::http {

/// The closed label sets: a client can choose among these values but never add one, so the
/// series count (and each scrape's size) stays bounded whatever requests arrive.
/// A standard method (RFC 9110 §9, PATCH of RFC 5789), else "other".
std::string_view method_label(std::string_view method) noexcept;
/// A route template of routes.hpp or "unmatched".
std::string_view route_label(std::string_view route) noexcept;
/// A claim type of core::kClaimTypes, else "other".
std::string_view claim_type_label(std::string_view claim_type) noexcept;
/// "verified" or an error-code name, else "other".
std::string_view outcome_label(std::string_view outcome) noexcept;

class Metrics {
 public:
  /// One answered HTTP request: route (the template, or "unmatched"), method, status and latency
  /// in seconds. Values outside the closed label sets above are counted as "other"/"unmatched".
  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  /// One verify outcome: "verified" or the error code (closed label sets as above).
  void observe_verify(std::string_view claim_type, std::string_view outcome);

  std::atomic<std::int64_t> pool_queue_depth{0};
  std::atomic<std::int64_t> pool_busy{0};
  std::atomic<std::int64_t> connections_open{0};
  // The edge's refusals (server.cpp): connections closed at once, requests answered without work.
  std::atomic<std::uint64_t> connections_refused_limit{0};  // max_connections reached
  std::atomic<std::uint64_t> connections_refused_fd{0};     // accept failed: EMFILE, ENFILE, ...
  std::atomic<std::uint64_t> requests_shed{0};              // 503: the pool's queue was full
  std::atomic<std::uint64_t> auth_throttled{0};             // 429: too many failed authentications
  const core::DeliveryCounters* worker = nullptr;           // this process's webhook worker, if any
  core::OutboxStore* outbox = nullptr;  // outbox counts by status, read at each scrape
  std::function<std::string()> extra;   // more exposition text (the feed followers), if set
  const trace::ExportCounters* trace_export = nullptr;  // span export counts (0 when unset)

  /// The exposition text, including the service's counters.
  std::string render(const core::ServiceCounters& service) const;

 private:
  // 0.2 is the blueprint's verify latency objective (ops/prometheus/proofgate-rules.yml).
  static constexpr std::array<double, 15> kBuckets{
      0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> verify_;
};

}  // namespace pg::http
