// Settings turned into what the adapters take: the webhook worker's (shared by `serve`, which runs
// a worker inside, and `worker`, which runs one on its own) and the hashed tokens.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/config.hpp"
#include "trace/otlp.hpp"
#include "webhooks/worker.hpp"

namespace pg::cli {

/// The worker settings; `role` names the process in the lease owner ("serve" or "worker").
webhooks::WorkerSettings worker_settings(const Settings& s, const std::string& role);

/// Span export from otlp_traces_endpoint, trace_sample_ratio and trace_queue_spans: the batch
/// processor (none when the endpoint is empty) and the tracer the server and worker take. Sends
/// what is queued when destroyed. Throws std::runtime_error for an unusable endpoint.
class TraceExport {
 public:
  TraceExport(const Settings& s, trace::ExportCounters& counters);
  const trace::Tracer& tracer() const noexcept { return tracer_; }

 private:
  std::unique_ptr<trace::BatchProcessor> processor_;
  trace::Tracer tracer_;
};

/// A kSha256Hex setting's bytes (resolve_settings checked its form), nullopt when empty.
std::optional<std::array<std::uint8_t, 32>> sha256_setting(std::string_view hex);

/// The admin token's SHA-256 from `admin_token_sha256`, nullopt when empty.
inline std::optional<std::array<std::uint8_t, 32>> admin_token_hash(const Settings& s) {
  return sha256_setting(s.admin_token_sha256);
}

}  // namespace pg::cli
