// Worker settings and token hashes (see worker_settings.hpp).
#include "cli/worker_settings.hpp"

#include <unistd.h>

#include <stdexcept>

#include "core/secrets.hpp"

namespace pg::cli {

TraceExport::TraceExport(const Settings& s, trace::ExportCounters& counters) {
  tracer_.sample_ratio = s.trace_sample_ratio;
  if (s.otlp_traces_endpoint.empty()) return;
  auto sink = trace::otlp_http_sink(s.otlp_traces_endpoint, std::chrono::milliseconds(5000));
  if (auto* e = std::get_if<std::string>(&sink)) throw std::runtime_error(*e);
  trace::ProcessorSettings ps;
  ps.queue_limit = s.trace_queue_spans;
  ps.version = "0.1.0";
  processor_ =
      std::make_unique<trace::BatchProcessor>(ps, std::move(std::get<trace::Sink>(sink)), counters);
  tracer_.processor = processor_.get();
}

webhooks::WorkerSettings worker_settings(const Settings& s, const std::string& role) {
  webhooks::WorkerSettings w;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  w.worker_id =
      role + "@" + host + ":" + std::to_string(::getpid()) + ":" + core::uuid_v4().substr(0, 8);
  w.policy.allow_loopback = s.webhook_allow_loopback;
  w.policy.require_https = !w.policy.allow_loopback;
  w.timeout = std::chrono::milliseconds(s.webhook_timeout_ms);
  w.concurrency = s.webhook_concurrency;
  w.per_client = s.webhook_per_client;
  w.poll = std::chrono::milliseconds(s.webhook_poll_ms);
  auto schedule = parse_retry_schedule(s.webhook_retry_schedule);
  if (!schedule)
    throw std::runtime_error(
        "webhook_retry_schedule: must be 1 to 30 comma-separated waits in seconds");
  w.schedule = std::move(*schedule);
  return w;
}

std::optional<std::array<std::uint8_t, 32>> sha256_setting(std::string_view hex) {
  if (hex.empty()) return std::nullopt;
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    throw std::runtime_error("a SHA-256 setting must be 64 lowercase hex digits");
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i)
    out[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

}  // namespace pg::cli
