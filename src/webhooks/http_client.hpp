// The one guarded outbound HTTP(S) client: a single webhook POST to vetted addresses, one
// deadline, verified TLS, no redirects, every failure an error string.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "webhooks/address_guard.hpp"
#include "webhooks/url.hpp"

namespace pg::webhooks {

/// The most of a response body read (then discarded); an answer's status stands even when its
/// body is longer.
inline constexpr std::size_t kMaxResponseBody = 64 * 1024;
/// The most of a response's status line and header section accepted.
inline constexpr std::uint32_t kMaxResponseHeader = 16 * 1024;
inline constexpr std::string_view kUserAgent = "proofgate-webhooks/1";
/// The most a delta-seconds Retry-After is taken as (larger values saturate).
inline constexpr std::chrono::seconds kMaxRetryAfter{std::int64_t{0x7fffffff}};

/// One outbound POST.
struct PostRequest {
  WebhookUrl url;
  /// Extra headers (signature, event id...). Names must be RFC 9110 tokens and values free of
  /// control characters; Host, Content-Length, Transfer-Encoding and Connection are the
  /// client's own and refused here. A Content-Type or User-Agent given here replaces the default.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // connect + TLS + write + read, all together
};

/// What came of it.
struct PostResult {
  int status = 0;     // the HTTP status; 0: no HTTP answer
  std::string error;  // empty on an HTTP answer (whatever its status), else what went wrong
  std::optional<std::chrono::seconds> retry_after;  // from Retry-After: delta-seconds or HTTP-date
  std::int64_t latency_ms = 0;                      // the whole call, resolution included
};

/// Sends `request` as an HTTP/1.1 POST (Host, Content-Type: application/json, User-Agent:
/// proofgate-webhooks/1, Connection: close) to the endpoints resolve_guarded vetted, under one
/// deadline of `request.timeout` for connect, TLS handshake, write and read (host resolution
/// runs before it, on the system resolver's own timeout, and counts against what is left).
/// https: TLS 1.2 or later, the system's default CA paths, peer verification, SNI for names, and
/// the host name (or IP literal) checked against the certificate. Redirects are not followed: a
/// 3xx is returned as its status. Interim 1xx answers are skipped. The response body is read up
/// to kMaxResponseBody and discarded. Uses its own io_context; safe to call from many threads.
/// Never throws: errors read "refused by the address guard: ...", "cannot resolve ...",
/// "timeout after N ms (...)", "connection refused", "connection closed by the peer ...",
/// "TLS handshake failed: ...", "invalid HTTP answer: ...", "invalid request header ...".
[[nodiscard]] PostResult post_guarded(const PostRequest& request,
                                      const GuardPolicy& policy) noexcept;

/// Parses a Retry-After value (RFC 9110 §10.2.3): delta-seconds (saturating at kMaxRetryAfter)
/// or an HTTP-date in any of the three formats of §5.6.7 (IMF-fixdate, obsolete RFC 850,
/// asctime), given as the seconds from `now` rounded up (0 for a date in the past). nullopt when
/// it is neither.
[[nodiscard]] std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace pg::webhooks
