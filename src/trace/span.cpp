// Span collection (see span.hpp).
#include "trace/span.hpp"

#include <ctime>

namespace pg::trace {

namespace {
thread_local RequestTrace* tl_trace = nullptr;
thread_local SpanId tl_parent{};
}  // namespace

void SpanData::set(std::string_view key, AttributeValue value) {
  for (auto& [k, v] : attributes) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  attributes.emplace_back(std::string(key), std::move(value));
}

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

RequestTrace::RequestTrace(const std::optional<Context>& incoming, double sample_ratio,
                           bool recording)
    : recording_(recording) {
  root_.trace_id = incoming ? incoming->trace_id : new_trace_id();
  sampled_ = should_sample(incoming, root_.trace_id, sample_ratio);
  if (incoming) {
    root_.parent_span_id = incoming->span_id;
    tracestate_ = incoming->tracestate;
  }
  root_.span_id = new_span_id();
  root_.kind = Kind::kServer;
  root_.start_ns = now_ns();
  trace_hex_ = to_hex(root_.trace_id);
}

std::string RequestTrace::traceparent(const SpanId& span) const {
  return format_traceparent(root_.trace_id, span, sampled_ ? kSampled : 0);
}

void RequestTrace::add(SpanData span) {
  const std::lock_guard lock(mu_);
  spans_.push_back(std::move(span));
}

std::vector<SpanData> RequestTrace::finish() {
  const std::lock_guard lock(mu_);
  root_.end_ns = now_ns();
  std::vector<SpanData> out = std::move(spans_);
  spans_.clear();
  out.push_back(root_);
  return out;
}

Activate::Activate(RequestTrace& trace) noexcept
    : previous_trace_(tl_trace), previous_parent_(tl_parent) {
  tl_trace = &trace;
  tl_parent = trace.root().span_id;
}

Activate::~Activate() {
  tl_trace = previous_trace_;
  tl_parent = previous_parent_;
}

ScopedSpan::ScopedSpan(std::string_view name) {
  if (tl_trace == nullptr || !tl_trace->recording()) return;
  span_.emplace();
  span_->trace_id = tl_trace->trace_id();
  span_->span_id = new_span_id();
  span_->parent_span_id = tl_parent;
  span_->name = name;
  span_->start_ns = now_ns();
  previous_parent_ = tl_parent;
  tl_parent = span_->span_id;
  cpu_start_ns_ = thread_cpu_ns();
}

ScopedSpan::~ScopedSpan() {
  if (!span_) return;
  const std::uint64_t cpu_ns = thread_cpu_ns() - cpu_start_ns_;
  tl_parent = previous_parent_;
  span_->end_ns = now_ns();
  span_->set("proofgate.thread_cpu_ns", static_cast<std::int64_t>(cpu_ns));
  if (tl_trace != nullptr) tl_trace->add(std::move(*span_));
}

void ScopedSpan::set(std::string_view key, AttributeValue value) {
  if (span_) span_->set(key, std::move(value));
}

void ScopedSpan::fail(std::string_view code) {
  if (!span_) return;
  span_->status = Status::kError;
  span_->set("error.code", std::string(code));
}

RequestTrace* current() noexcept {
  return tl_trace;
}

std::string current_traceparent() {
  if (tl_trace == nullptr) return {};
  return tl_trace->traceparent(tl_parent);
}

}  // namespace pg::trace
