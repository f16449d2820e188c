// Export: the OTLP/HTTP JSON encoding of spans (ExportTraceServiceRequest,
// https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding), a batch processor on its own
// thread with a bounded queue that drops (and counts) rather than block, and the sink that POSTs
// a batch to a collector.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "trace/span.hpp"

namespace pg::trace {

/// The ExportTraceServiceRequest for `spans`: one resourceSpans (service.name = `service`), one
/// scopeSpans (scope "proofgate"), ids as lowercase hex, times as decimal-string unixNano,
/// int64 attribute values as decimal strings (the protobuf JSON mapping).
std::string encode_otlp_json(const std::vector<SpanData>& spans, std::string_view service,
                             std::string_view version);

/// The processor's counts, read by /metrics.
struct ExportCounters {
  std::atomic<std::uint64_t> exported{0};
  std::atomic<std::uint64_t> dropped_queue_full{0};
  std::atomic<std::uint64_t> dropped_export_failed{0};
};

/// Sends one encoded batch; true when the collector accepted it.
using Sink = std::function<bool(const std::string& body)>;

struct ProcessorSettings {
  std::size_t queue_limit = 2048;            // spans held at most; beyond it new spans are dropped
  std::size_t batch_size = 512;              // a batch is sent when this many wait ...
  std::chrono::milliseconds interval{1000};  // ... or this long after the last send
  std::string service = "proofgate";
  std::string version;
};

class BatchProcessor {
 public:
  BatchProcessor(ProcessorSettings settings, Sink sink, ExportCounters& counters);
  /// Sends what is queued (one last try), then stops the thread.
  ~BatchProcessor();
  BatchProcessor(const BatchProcessor&) = delete;
  BatchProcessor& operator=(const BatchProcessor&) = delete;

  /// Queues `spans`; what does not fit is dropped and counted. Never waits on the sink.
  void submit(std::vector<SpanData> spans) noexcept;
  /// Spans waiting (for tests).
  std::size_t queued() const;

 private:
  void run();

  ProcessorSettings s_;
  Sink sink_;
  ExportCounters& counters_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SpanData> queue_;
  bool stop_ = false;
  std::thread thread_;
};

/// A sink POSTing to an OTLP/HTTP endpoint ("http://host:port/v1/traces" or https) with
/// Content-Type application/json, within `timeout`; a 2xx answer is success. The error names
/// what is wrong with the URL.
std::variant<Sink, std::string> otlp_http_sink(const std::string& endpoint,
                                               std::chrono::milliseconds timeout);

/// What the server and the webhook worker share: the sampling ratio and, when export is on, the
/// processor.
struct Tracer {
  double sample_ratio = 1.0;
  BatchProcessor* processor = nullptr;  // null: ids and headers only, nothing exported
  void export_spans(std::vector<SpanData> spans) const noexcept {
    if (processor != nullptr) processor->submit(std::move(spans));
  }
};

}  // namespace pg::trace
