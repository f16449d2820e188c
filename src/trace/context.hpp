// W3C Trace Context (https://www.w3.org/TR/trace-context/): the traceparent and tracestate
// headers, parsed strictly, and fresh trace and span ids from OpenSSL's RAND_bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pg::trace {

using TraceId = std::array<std::uint8_t, 16>;
using SpanId = std::array<std::uint8_t, 8>;

/// The sampled bit of trace-flags (Trace Context §3.2.2.5).
inline constexpr std::uint8_t kSampled = 0x01;
/// The longest tracestate kept (the spec's §3.3.1.5 asks to propagate at least 512 characters).
inline constexpr std::size_t kMaxTracestate = 512;

/// A position in a trace: the trace, the span that is the parent of what comes next, the flags
/// and the vendors' tracestate (kept as received when well formed, else empty).
struct Context {
  TraceId trace_id{};
  SpanId span_id{};
  std::uint8_t flags = 0;
  std::string tracestate;
  bool sampled() const noexcept { return (flags & kSampled) != 0; }
};

/// A traceparent of version 00 exactly: "00-" 32 lowercase hex (not all zero) "-" 16 lowercase
/// hex (not all zero) "-" 2 lowercase hex, nothing more. nullopt for anything else (the caller
/// then starts a new trace, §3.2.2). Other versions are refused too: this server speaks 00 only.
std::optional<Context> parse_traceparent(std::string_view header) noexcept;

/// Whether `header` is a well-formed tracestate (§3.3.1): at most 32 list members separated by
/// commas (optional spaces and tabs around them, empty members allowed), each key=value with the
/// spec's key and value grammars, no key twice, at most kMaxTracestate characters in all.
bool valid_tracestate(std::string_view header) noexcept;

/// "00-<trace id>-<span id>-<flags>".
std::string format_traceparent(const TraceId& trace_id, const SpanId& span_id, std::uint8_t flags);

/// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

/// Random ids from RAND_bytes, never all zero (an invalid id per §3.2.2.3 and §3.2.2.4).
TraceId new_trace_id() noexcept;
SpanId new_span_id() noexcept;

/// Whether every byte is zero (no parent).
bool is_zero(std::span<const std::uint8_t> bytes) noexcept;

/// The parent-based ratio sampler: an incoming context's sampled flag decides; with none, the
/// trace id's last 8 bytes read as a number below ratio * 2^64 (so every service sampling by
/// the same ratio agrees on a trace, as OpenTelemetry's TraceIdRatioBased does).
bool should_sample(const std::optional<Context>& incoming, const TraceId& trace_id,
                   double ratio) noexcept;

}  // namespace pg::trace
