// Trace Context parsing and id generation (see context.hpp).
#include "trace/context.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <random>
#include <vector>

namespace pg::trace {

namespace {

constexpr char kHex[] = "0123456789abcdef";

int lower_hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/// Reads exactly out.size() bytes of lowercase hex from s.
bool read_hex(std::string_view s, std::span<std::uint8_t> out) noexcept {
  if (s.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = lower_hex_value(s[2 * i]);
    const int lo = lower_hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool lcalpha(char c) noexcept {
  return c >= 'a' && c <= 'z';
}
bool digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool key_char(char c) noexcept {
  return lcalpha(c) || digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// key = simple-key / multi-tenant-key (§3.3.1.3.1):
//   simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   multi-tenant-key = tenant-id "@" system-id
//   tenant-id = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
//   system-id = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
bool valid_key(std::string_view k) noexcept {
  const auto at = k.find('@');
  if (at == std::string_view::npos) {
    return !k.empty() && k.size() <= 256 && lcalpha(k[0]) &&
           std::all_of(k.begin(), k.end(), key_char);
  }
  const std::string_view tenant = k.substr(0, at);
  const std::string_view system = k.substr(at + 1);
  return !tenant.empty() && tenant.size() <= 241 && (lcalpha(tenant[0]) || digit(tenant[0])) &&
         std::all_of(tenant.begin(), tenant.end(), key_char) && !system.empty() &&
         system.size() <= 14 && lcalpha(system[0]) &&
         std::all_of(system.begin(), system.end(), key_char);
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
bool nblk(char c) noexcept {
  return c >= 0x21 && c <= 0x7E && c != ',' && c != '=';
}
bool valid_value(std::string_view v) noexcept {
  return !v.empty() && v.size() <= 256 && nblk(v.back()) &&
         std::all_of(v.begin(), v.end(), [](char c) { return c == ' ' || nblk(c); });
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void random_fill(std::span<std::uint8_t> out) noexcept {
  // Trace ids correlate, they protect nothing: if OpenSSL's generator ever fails, the C++ one
  // stands in rather than failing the request being read on the I/O thread.
  do {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
      thread_local std::mt19937_64 fallback{std::random_device{}()};
      for (auto& b : out) b = static_cast<std::uint8_t>(fallback());
    }
  } while (is_zero(out));
}

}  // namespace

std::optional<Context> parse_traceparent(std::string_view h) noexcept {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2+1+32+1+16+1+2 = 55 characters.
  if (h.size() != 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  if (h.substr(0, 2) != "00") return std::nullopt;
  Context c;
  std::array<std::uint8_t, 1> flags{};
  if (!read_hex(h.substr(3, 32), c.trace_id) || !read_hex(h.substr(36, 16), c.span_id) ||
      !read_hex(h.substr(53, 2), flags)) {
    return std::nullopt;
  }
  if (is_zero(c.trace_id) || is_zero(c.span_id)) return std::nullopt;
  c.flags = flags[0];
  return c;
}

bool valid_tracestate(std::string_view h) noexcept {
  if (h.size() > kMaxTracestate) return false;
  std::vector<std::string_view> keys;
  std::size_t members = 0;
  while (true) {
    const auto comma = h.find(',');
    const std::string_view member = trim_ows(h.substr(0, comma));
    if (!member.empty()) {
      const auto eq = member.find('=');
      if (eq == std::string_view::npos) return false;
      const std::string_view key = member.substr(0, eq);
      if (!valid_key(key) || !valid_value(member.substr(eq + 1))) return false;
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) return false;
      keys.push_back(key);
      if (++members > 32) return false;
    }
    if (comma == std::string_view::npos) break;
    h.remove_prefix(comma + 1);
  }
  return true;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

std::string format_traceparent(const TraceId& trace_id, const SpanId& span_id, std::uint8_t flags) {
  const std::array<std::uint8_t, 1> f{flags};
  return "00-" + to_hex(trace_id) + "-" + to_hex(span_id) + "-" + to_hex(f);
}

bool is_zero(std::span<const std::uint8_t> bytes) noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

TraceId new_trace_id() noexcept {
  TraceId id;
  random_fill(id);
  return id;
}

SpanId new_span_id() noexcept {
  SpanId id;
  random_fill(id);
  return id;
}

bool should_sample(const std::optional<Context>& incoming, const TraceId& trace_id,
                   double ratio) noexcept {
  if (incoming) return incoming->sampled();
  if (ratio >= 1) return true;
  if (!(ratio > 0)) return false;
  std::uint64_t x = 0;
  for (std::size_t i = 8; i < 16; ++i) x = x << 8 | trace_id[i];
  return static_cast<double>(x) < ratio * 18446744073709551616.0;
}

}  // namespace pg::trace
