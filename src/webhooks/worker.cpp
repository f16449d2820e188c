// The outbox worker (see worker.hpp).
#include "webhooks/worker.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cmath>
#include <random>

#include "log/log.hpp"
#include "trace/otlp.hpp"
#include "webhooks/http_client.hpp"
#include "webhooks/signer.hpp"
#include "webhooks/url.hpp"

namespace pg::webhooks {

std::optional<std::chrono::milliseconds> retry_delay(
    const WorkerSettings& s, int attempts, std::optional<std::chrono::seconds> retry_after,
    double unit) {
  if (attempts < 1 || static_cast<std::size_t>(attempts) > s.schedule.size()) return std::nullopt;
  const double base =
      static_cast<double>(s.schedule[static_cast<std::size_t>(attempts - 1)].count());
  const double factor = 1.0 - s.jitter + 2.0 * s.jitter * std::clamp(unit, 0.0, 1.0);
  auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(base * factor)));
  if (retry_after) {
    const auto asked = std::min<std::chrono::milliseconds>(*retry_after, s.max_retry_after);
    wait = std::max(wait, asked);
  }
  return wait;
}

Worker::Worker(core::OutboxStore& store, const core::Clock& clock,
               const core::MasterKey& master_key, WorkerSettings settings)
    : store_(store), clock_(clock), master_key_(master_key), s_(std::move(settings)) {}

core::DeliveryCounts Worker::delivery_counts() const {
  core::DeliveryCounts c{attempts_ok_.load(), attempts_failed_.load(), dead_.load(),
                         storage_errors_.load(), in_flight_.load()};
  // A delivery counts in its buckets before attempts_ok: never report a bucket above +Inf.
  for (std::size_t i = 0; i < c.latency_le.size(); ++i)
    c.latency_le[i] = std::min(latency_le_[i].load(), c.attempts_ok);
  c.latency_sum_seconds = static_cast<double>(latency_sum_ms_.load()) / 1000.0;
  return c;
}

void Worker::storage_failed(std::string_view call, std::string_view event_id,
                            const std::exception& e) {
  storage_errors_++;
  log::error(
      "webhook worker: storage call failed",
      {{"call", call}, {"event_id", event_id}, {"worker_id", s_.worker_id}, {"error", e.what()}});
}

void Worker::notify() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void Worker::run(const std::atomic<bool>& stop) {
  boost::asio::thread_pool pool(s_.concurrency);
  // A lease outlives one attempt by a margin, so a live worker never loses a row mid-attempt.
  const std::int64_t lease_ms = s_.timeout.count() * 2 + 5000;
  while (!stop.load()) {
    const std::int64_t free = static_cast<std::int64_t>(s_.concurrency) - in_flight_.load();
    std::size_t claimed = 0;
    if (free > 0) {
      try {
        const auto due = store_.claim_due(s_.worker_id, clock_.now_ms(),
                                          static_cast<std::size_t>(free), lease_ms, s_.per_client);
        claimed = due.size();
        for (const auto& d : due) {
          in_flight_++;
          boost::asio::post(pool, [this, d] {
            deliver(d);
            in_flight_--;
            notify();  // a slot is free
          });
        }
      } catch (const std::exception& e) {
        // Nothing was claimed: try again after the poll interval.
        storage_failed("claim_due", "", e);
      }
    }
    if (claimed > 0 && in_flight_.load() < static_cast<std::int64_t>(s_.concurrency)) continue;
    std::chrono::milliseconds sleep = s_.poll;
    try {
      if (const auto next = store_.next_due()) {
        sleep = std::clamp(std::chrono::milliseconds(*next - clock_.now_ms()),
                           std::chrono::milliseconds(0), s_.poll);
      }
    } catch (const std::exception& e) {
      storage_failed("next_due", "", e);  // sleep the poll interval
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, sleep, [&] { return woken_ || stop.load(); });
    woken_ = false;
  }
  pool.join();
}

void Worker::deliver(const core::Delivery& d) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const core::UnixMillis started = clock_.now_ms();
  core::AttemptOutcome out;
  out.attempt.event_id = d.event.event_id;
  out.attempt.attempt = d.attempts + 1;
  out.attempt.started_at = started;
  std::optional<std::chrono::seconds> retry_after;
  std::string error;
  // One client span per attempt, a child of the request that wrote the row (its stored
  // traceparent; a row without one starts its own trace). Only the host of the URL is recorded.
  const std::optional<trace::Context> parent = trace::parse_traceparent(d.event.traceparent);
  trace::SpanData span;
  span.trace_id = parent ? parent->trace_id : trace::new_trace_id();
  if (parent) span.parent_span_id = parent->span_id;
  span.span_id = trace::new_span_id();
  span.kind = trace::Kind::kClient;
  span.name = "webhook " + d.event.event_type;
  span.start_ns = trace::now_ns();
  const double ratio = s_.tracer ? s_.tracer->sample_ratio : 1.0;
  const bool sampled = trace::should_sample(parent, span.trace_id, ratio);
  span.set("proofgate.webhook.attempt", std::int64_t{out.attempt.attempt});
  span.set("proofgate.event_type", d.event.event_type);
  try {
    std::optional<core::WebhookTarget> target;
    try {
      target = store_.webhook_target(d.event.client_id);
    } catch (const std::exception& e) {
      storage_failed("webhook_target", d.event.event_id, e);
      throw;  // recorded below as this attempt's error
    }
    if (!target || target->url.empty()) {
      error = "the partner has no webhook URL";
    } else {
      std::vector<std::string> keys;
      const auto current = core::unseal(master_key_, target->secret_sealed, d.event.client_id);
      if (current) {
        if (auto k = decode_secret(*current)) keys.push_back(*k);
      }
      if (!target->previous_secret_sealed.empty() && started < target->previous_until) {
        if (const auto prev =
                core::unseal(master_key_, target->previous_secret_sealed, d.event.client_id)) {
          if (auto k = decode_secret(*prev)) keys.push_back(*k);
        }
      }
      const auto url = parse_webhook_url(target->url);
      if (keys.empty()) {
        error = "the partner's webhook secret cannot be opened with this master key";
      } else if (const auto* bad = std::get_if<std::string>(&url)) {
        error = "webhook URL: " + *bad;
      } else {
        PostRequest req;
        req.url = std::get<WebhookUrl>(url);
        req.body = d.event.payload;
        req.timeout = s_.timeout;
        req.headers = signed_headers(keys, d.event.event_id, started / 1000, d.event.payload);
        req.headers.emplace_back(
            "traceparent",
            trace::format_traceparent(span.trace_id, span.span_id, sampled ? trace::kSampled : 0));
        if (parent && !parent->tracestate.empty())
          req.headers.emplace_back("tracestate", parent->tracestate);
        span.set("url.host", req.url.host);
        const PostResult r = post_guarded(req, s_.policy);
        if (r.status) span.set("http.response.status_code", std::int64_t{r.status});
        out.attempt.status_code = r.status;
        out.attempt.latency_ms = r.latency_ms;
        retry_after = r.retry_after;
        if (r.status >= 200 && r.status < 300) {
          out.delivered = true;
        } else {
          error = r.status ? "HTTP " + std::to_string(r.status) : r.error;
        }
      }
    }
  } catch (const std::exception& e) {
    error = std::string("delivery failed: ") + e.what();
  }
  if (!out.delivered) {
    out.attempt.error = error.empty() ? "failed" : error;
    const auto wait = retry_delay(s_, out.attempt.attempt, retry_after,
                                  std::uniform_real_distribution<double>(0, 1)(rng));
    if (wait) {
      out.next_attempt_at = clock_.now_ms() + wait->count();
    } else {
      out.dead = true;
    }
  }
  if (out.attempt.latency_ms == 0) out.attempt.latency_ms = clock_.now_ms() - started;
  span.end_ns = trace::now_ns();
  if (!out.delivered) {
    span.status = trace::Status::kError;
    span.set("error.type", out.attempt.status_code ? "http_status" : "no_answer");
  }
  if (s_.tracer && (sampled || !out.delivered)) s_.tracer->export_spans({std::move(span)});
  try {
    if (store_.finish_attempt(s_.worker_id, out)) {
      if (out.delivered) {
        // From the event's creation, so retries and queueing count against the delivery.
        const std::int64_t ms = std::max<std::int64_t>(0, clock_.now_ms() - d.event.created_at);
        for (std::size_t i = 0; i < core::kDeliveryLatencyBuckets.size(); ++i) {
          if (static_cast<double>(ms) <= core::kDeliveryLatencyBuckets[i] * 1000.0)
            latency_le_[i]++;
        }
        latency_sum_ms_ += ms;
        attempts_ok_++;
      } else
        attempts_failed_++;
      if (out.dead) dead_++;
    }
  } catch (const std::exception& e) {
    // The lease expires and another claim retries the row: at least once, never lost.
    storage_failed("finish_attempt", d.event.event_id, e);
  }
}

}  // namespace pg::webhooks
