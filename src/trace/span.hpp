// Spans: our own small model (trace id, span id, parent, name, kind, start and end in ns,
// attributes, status), one request's spans collected in memory until the request ends, and the
// thread's current request so deeper layers open child spans without being handed anything.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "trace/context.hpp"

namespace pg::trace {

/// OpenTelemetry's SpanKind values (the OTLP enum numbers).
enum class Kind : int { kInternal = 1, kServer = 2, kClient = 3 };
/// OpenTelemetry's status codes (the OTLP enum numbers).
enum class Status : int { kUnset = 0, kOk = 1, kError = 2 };

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero: a root span
  std::string name;
  Kind kind = Kind::kInternal;
  std::uint64_t start_ns = 0;  // Unix epoch nanoseconds
  std::uint64_t end_ns = 0;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  Status status = Status::kUnset;
  std::string status_message;

  void set(std::string_view key, AttributeValue value);
};

/// Now, in Unix epoch nanoseconds.
std::uint64_t now_ns() noexcept;

/// One request's trace: its server span and the spans opened under it, held until the request
/// ends, when the server decides whether they are exported. Spans end on the thread handling
/// the request; the lock only guards a hand-over between threads.
class RequestTrace {
 public:
  /// A trace continuing `incoming` (its span becomes the server span's parent) or, when nullopt,
  /// a new one; sampled by should_sample (an error answer overrides it at the end). Without
  /// `recording` (no exporter configured) only the ids live: spans opened under it record
  /// nothing, so the verify path pays for no span it would throw away.
  RequestTrace(const std::optional<Context>& incoming, double sample_ratio, bool recording = true);

  const TraceId& trace_id() const noexcept { return root_.trace_id; }
  const std::string& trace_id_hex() const noexcept { return trace_hex_; }
  /// The server span (its attributes are set by the server as the request ends).
  SpanData& root() noexcept { return root_; }
  bool sampled() const noexcept { return sampled_; }
  bool recording() const noexcept { return recording_; }
  const std::string& tracestate() const noexcept { return tracestate_; }
  /// The traceparent naming `span` in this trace, with the sampled flag.
  std::string traceparent(const SpanId& span) const;

  void add(SpanData span);
  /// Ends the server span now and hands over every span, the server span last.
  std::vector<SpanData> finish();

 private:
  SpanData root_;
  std::string trace_hex_;
  std::string tracestate_;
  bool sampled_;
  bool recording_;
  std::mutex mu_;
  std::vector<SpanData> spans_;
};

/// While alive, spans opened on this thread belong to `trace`, under its server span.
class Activate {
 public:
  explicit Activate(RequestTrace& trace) noexcept;
  ~Activate();
  Activate(const Activate&) = delete;
  Activate& operator=(const Activate&) = delete;

 private:
  RequestTrace* previous_trace_;
  SpanId previous_parent_;
};

/// An internal span under the thread's current span, ended when it goes out of scope. Without
/// an active request it records nothing (and costs a thread-local read). A recorded span also
/// carries the CPU time its thread spent inside it (`proofgate.thread_cpu_ns`): beside the wall
/// time it tells work from waiting (an fsync, a lock, a batch).
class ScopedSpan {
 public:
  explicit ScopedSpan(std::string_view name);
  ~ScopedSpan();
  ScopedSpan(const ScopedSpan&) = delete;
  ScopedSpan& operator=(const ScopedSpan&) = delete;

  void set(std::string_view key, AttributeValue value);
  /// Marks the span failed; `code` goes in the error.code attribute (an error code name, never
  /// data from the request).
  void fail(std::string_view code);

 private:
  std::optional<SpanData> span_;
  SpanId previous_parent_{};
  std::uint64_t cpu_start_ns_ = 0;
};

/// CPU time the calling thread has used, in nanoseconds (CLOCK_THREAD_CPUTIME_ID).
std::uint64_t thread_cpu_ns() noexcept;

/// The thread's active trace, if any.
RequestTrace* current() noexcept;
/// The traceparent of the thread's current position (trace id, the innermost open span), or empty
/// without an active trace. Stored with outbox rows so their deliveries join the request's trace.
std::string current_traceparent();

}  // namespace pg::trace
