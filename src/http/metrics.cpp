// Prometheus text rendering (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "http/metrics.hpp"

#include <algorithm>
#include <cstdio>

#include "core/catalog.hpp"
#include "core/errors.hpp"
#include "http/routes.hpp"

namespace pg::http {

namespace {
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

std::string_view method_label(std::string_view method) noexcept {
  static constexpr std::string_view kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  const auto* it = std::find(std::begin(kMethods), std::end(kMethods), method);
  return it == std::end(kMethods) ? std::string_view("other") : *it;
}

std::string_view route_label(std::string_view route) noexcept {
  for (const Route& r : kRoutes) {
    if (r.path == route) return r.path;
  }
  return "unmatched";
}

std::string_view claim_type_label(std::string_view claim_type) noexcept {
  const auto* it =
      std::find(std::begin(core::kClaimTypes), std::end(core::kClaimTypes), claim_type);
  return it == std::end(core::kClaimTypes) ? std::string_view("other") : *it;
}

std::string_view outcome_label(std::string_view outcome) noexcept {
  if (outcome == "verified") return "verified";
  for (const core::ErrorCode code : core::kErrorCodes) {
    if (core::error_name(code) == outcome) return core::error_name(code);
  }
  return "other";
}

void Metrics::observe_request(std::string_view route, std::string_view method, int status,
                              double seconds) {
  std::lock_guard lock(mu_);
  const std::string_view r = route_label(route);
  // Statuses come from the server, never from the client: a closed set already.
  ++requests_[{std::string(r), std::string(method_label(method)), status}];
  Histogram& h = latency_[std::string(r)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::observe_verify(std::string_view claim_type, std::string_view outcome) {
  std::lock_guard lock(mu_);
  ++verify_[{std::string(claim_type_label(claim_type)), std::string(outcome_label(outcome))}];
}

std::string Metrics::render(const core::ServiceCounters& s) const {
  std::string out;
  std::lock_guard lock(mu_);
  out +=
      "# HELP proofgate_http_requests_total HTTP requests answered, by route template, method and "
      "status.\n";
  out += "# TYPE proofgate_http_requests_total counter\n";
  for (const auto& [k, v] : requests_) {
    out += "proofgate_http_requests_total{route=\"" + std::get<0>(k) + "\",method=\"" +
           std::get<1>(k) + "\",status=\"" + std::to_string(std::get<2>(k)) + "\"} " +
           std::to_string(v) + "\n";
  }
  out +=
      "# HELP proofgate_http_request_duration_seconds Time from a request's last byte read to its "
      "answer written.\n";
  out += "# TYPE proofgate_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string l = "route=\"" + route + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += "proofgate_http_request_duration_seconds_bucket{" + l + ",le=\"" + num(kBuckets[i]) +
             "\"} " + std::to_string(h.counts[i]) + "\n";
    }
    out += "proofgate_http_request_duration_seconds_bucket{" + l + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "proofgate_http_request_duration_seconds_sum{" + l + "} " + num(h.sum) + "\n";
    out += "proofgate_http_request_duration_seconds_count{" + l + "} " + std::to_string(h.count) +
           "\n";
  }
  out +=
      "# HELP proofgate_verify_total Verify outcomes by claim type: verified or the error code.\n";
  out += "# TYPE proofgate_verify_total counter\n";
  for (const auto& [k, v] : verify_) {
    out += "proofgate_verify_total{claim_type=\"" + k.first + "\",outcome=\"" + k.second + "\"} " +
           std::to_string(v) + "\n";
  }
  out +=
      "# HELP proofgate_nonce_cache_total Nonce fast-path results: claimed, taken (replay caught "
      "by the cache), db_taken (caught by the database).\n";
  out += "# TYPE proofgate_nonce_cache_total counter\n";
  out += "proofgate_nonce_cache_total{result=\"claimed\"} " +
         std::to_string(s.nonce_cache_claimed.load()) + "\n";
  out += "proofgate_nonce_cache_total{result=\"taken\"} " +
         std::to_string(s.nonce_cache_taken.load()) + "\n";
  out += "proofgate_nonce_cache_total{result=\"db_taken\"} " +
         std::to_string(s.nonce_db_taken.load()) + "\n";
  out += "# HELP proofgate_idempotency_total Idempotency-Key lookups: new, replayed, conflict.\n";
  out += "# TYPE proofgate_idempotency_total counter\n";
  out += "proofgate_idempotency_total{result=\"new\"} " + std::to_string(s.idempotency_new.load()) +
         "\n";
  out += "proofgate_idempotency_total{result=\"replayed\"} " +
         std::to_string(s.idempotency_replayed.load()) + "\n";
  out += "proofgate_idempotency_total{result=\"conflict\"} " +
         std::to_string(s.idempotency_conflict.load()) + "\n";
  out +=
      "# HELP proofgate_chain_disagreements_total chain_check: the deployed verifier's verdict "
      "differed from the server's (an alert: docs/onchain.md).\n"
      "# TYPE proofgate_chain_disagreements_total counter\n"
      "proofgate_chain_disagreements_total " +
      std::to_string(s.chain_disagreements.load()) +
      "\n"
      "# HELP proofgate_chain_unavailable_total chain_check: the node could not be asked.\n"
      "# TYPE proofgate_chain_unavailable_total counter\n"
      "proofgate_chain_unavailable_total " +
      std::to_string(s.chain_unavailable.load()) +
      "\n"
      "# HELP proofgate_chain_checks_saturated_total chain_check: verifies answered "
      "CHAIN_UNAVAILABLE at once because chain_check_concurrency calls were running.\n"
      "# TYPE proofgate_chain_checks_saturated_total counter\n"
      "proofgate_chain_checks_saturated_total " +
      std::to_string(s.chain_checks_saturated.load()) +
      "\n"
      "# HELP proofgate_chain_checks_in_flight chain_check calls to the node running now.\n"
      "# TYPE proofgate_chain_checks_in_flight gauge\n"
      "proofgate_chain_checks_in_flight " +
      std::to_string(s.chain_checks_in_flight.load()) + "\n";
  out += "# HELP proofgate_pool_queue_depth Requests waiting for a worker thread.\n";
  out += "# TYPE proofgate_pool_queue_depth gauge\n";
  out += "proofgate_pool_queue_depth " + std::to_string(pool_queue_depth.load()) + "\n";
  out += "# HELP proofgate_pool_busy Worker threads handling a request now.\n";
  out += "# TYPE proofgate_pool_busy gauge\n";
  out += "proofgate_pool_busy " + std::to_string(pool_busy.load()) + "\n";
  out += "# HELP proofgate_connections_open Open client connections.\n";
  out += "# TYPE proofgate_connections_open gauge\n";
  out += "proofgate_connections_open " + std::to_string(connections_open.load()) + "\n";
  out +=
      "# HELP proofgate_http_connections_refused_total Connections closed at once: limit "
      "(max_connections open) or fd_exhausted (accept failed, e.g. EMFILE).\n";
  out += "# TYPE proofgate_http_connections_refused_total counter\n";
  out += "proofgate_http_connections_refused_total{reason=\"limit\"} " +
         std::to_string(connections_refused_limit.load()) + "\n";
  out += "proofgate_http_connections_refused_total{reason=\"fd_exhausted\"} " +
         std::to_string(connections_refused_fd.load()) + "\n";
  out +=
      "# HELP proofgate_http_requests_shed_total Requests answered 503 because the worker pool's "
      "queue was full (pool_queue_limit).\n";
  out += "# TYPE proofgate_http_requests_shed_total counter\n";
  out += "proofgate_http_requests_shed_total " + std::to_string(requests_shed.load()) + "\n";
  out +=
      "# HELP proofgate_http_auth_throttled_total Requests answered 429 because their source "
      "address failed authentication too often (auth_failures_per_minute).\n";
  out += "# TYPE proofgate_http_auth_throttled_total counter\n";
  out += "proofgate_http_auth_throttled_total " + std::to_string(auth_throttled.load()) + "\n";
  const auto count = [](const std::atomic<std::uint64_t>* c) {
    return std::to_string(c ? c->load() : 0);
  };
  const trace::ExportCounters* t = trace_export;
  out += "# HELP proofgate_trace_spans_exported_total Spans the OTLP collector accepted.\n";
  out += "# TYPE proofgate_trace_spans_exported_total counter\n";
  out += "proofgate_trace_spans_exported_total " + count(t ? &t->exported : nullptr) + "\n";
  out +=
      "# HELP proofgate_trace_spans_dropped_total Spans not exported: queue_full (the export "
      "queue held trace_queue_spans) or export_failed (the collector refused, was slow or down).\n";
  out += "# TYPE proofgate_trace_spans_dropped_total counter\n";
  out += "proofgate_trace_spans_dropped_total{reason=\"queue_full\"} " +
         count(t ? &t->dropped_queue_full : nullptr) + "\n";
  out += "proofgate_trace_spans_dropped_total{reason=\"export_failed\"} " +
         count(t ? &t->dropped_export_failed : nullptr) + "\n";
  if (worker) {
    const core::DeliveryCounts c = worker->delivery_counts();
    out +=
        "# HELP proofgate_webhook_attempts_total Webhook delivery attempts by this process's "
        "worker: ok (2xx) or failed.\n";
    out += "# TYPE proofgate_webhook_attempts_total counter\n";
    out +=
        "proofgate_webhook_attempts_total{result=\"ok\"} " + std::to_string(c.attempts_ok) + "\n";
    out += "proofgate_webhook_attempts_total{result=\"failed\"} " +
           std::to_string(c.attempts_failed) + "\n";
    out += "# HELP proofgate_webhook_dead_total Deliveries this process's worker moved to dead.\n";
    out += "# TYPE proofgate_webhook_dead_total counter\n";
    out += "proofgate_webhook_dead_total " + std::to_string(c.dead) + "\n";
    out +=
        "# HELP proofgate_webhook_storage_errors_total Storage calls of this process's webhook "
        "worker that failed (the rows stay in the outbox and are retried).\n";
    out += "# TYPE proofgate_webhook_storage_errors_total counter\n";
    out += "proofgate_webhook_storage_errors_total " + std::to_string(c.storage_errors) + "\n";
    out +=
        "# HELP proofgate_webhook_delivery_seconds Time from an event's creation to its delivery "
        "(the 2xx answer), retries included, for deliveries by this process's worker.\n";
    out += "# TYPE proofgate_webhook_delivery_seconds histogram\n";
    for (std::size_t i = 0; i < core::kDeliveryLatencyBuckets.size(); ++i) {
      out += "proofgate_webhook_delivery_seconds_bucket{le=\"" +
             num(core::kDeliveryLatencyBuckets[i]) + "\"} " + std::to_string(c.latency_le[i]) +
             "\n";
    }
    out += "proofgate_webhook_delivery_seconds_bucket{le=\"+Inf\"} " +
           std::to_string(c.attempts_ok) + "\n";
    out += "proofgate_webhook_delivery_seconds_sum " + num(c.latency_sum_seconds) + "\n";
    out += "proofgate_webhook_delivery_seconds_count " + std::to_string(c.attempts_ok) + "\n";
    out += "# HELP proofgate_webhook_in_flight Webhook attempts in flight in this process.\n";
    out += "# TYPE proofgate_webhook_in_flight gauge\n";
    out += "proofgate_webhook_in_flight " + std::to_string(c.in_flight) + "\n";
  }
  if (outbox) {
    try {
      const auto counts = outbox->count_by_status();
      out += "# HELP proofgate_webhook_outbox Outbox rows by delivery status.\n";
      out += "# TYPE proofgate_webhook_outbox gauge\n";
      for (const auto& [status, n] : counts) {
        out += "proofgate_webhook_outbox{status=\"" + status + "\"} " + std::to_string(n) + "\n";
      }
    } catch (const std::exception&) {
      // Storage is down: /readyz says so; metrics still answer.
    }
  }
  if (extra) out += extra();
  return out;
}

}  // namespace pg::http
