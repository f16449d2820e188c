// Prometheus text rendering (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "http/metrics.hpp"

#include <cstdio>

namespace pg::http {

namespace {
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

void Metrics::observe_request(std::string_view route, std::string_view method, int status,
                              double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  Histogram& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::observe_verify(std::string_view claim_type, std::string_view outcome) {
  std::lock_guard lock(mu_);
  ++verify_[{std::string(claim_type), std::string(outcome)}];
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
  out += "# HELP proofgate_pool_queue_depth Requests waiting for a worker thread.\n";
  out += "# TYPE proofgate_pool_queue_depth gauge\n";
  out += "proofgate_pool_queue_depth " + std::to_string(pool_queue_depth.load()) + "\n";
  out += "# HELP proofgate_pool_busy Worker threads handling a request now.\n";
  out += "# TYPE proofgate_pool_busy gauge\n";
  out += "proofgate_pool_busy " + std::to_string(pool_busy.load()) + "\n";
  out += "# HELP proofgate_connections_open Open client connections.\n";
  out += "# TYPE proofgate_connections_open gauge\n";
  out += "proofgate_connections_open " + std::to_string(connections_open.load()) + "\n";
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
  return out;
}

}  // namespace pg::http
