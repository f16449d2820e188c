// The HTTP/1.1 server: Boost.Beast sessions on one I/O thread, handlers that do pairing or
// storage work on a worker pool, limits and timeouts on every read, graceful shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/api.hpp"
#include "trace/otlp.hpp"

namespace pg::http {

struct ServerSettings {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (the log line "listening" names it)
  std::size_t body_limit = 64 * 1024;
  // POST /api/admin/circuits (a circuit version's files): once Handler::admit_upload has admitted
  // its header (on the pool, before any of the body is read), this limit and upload_read_timeout
  // instead, at most max_uploads at once. Every other request keeps body_limit.
  std::size_t upload_body_limit = 128u << 20;
  std::chrono::seconds upload_read_timeout{300};
  unsigned max_uploads = 2;
  std::size_t header_limit = 8 * 1024;
  std::chrono::seconds read_timeout{10};   // to read one request, header and body
  std::chrono::seconds idle_timeout{30};   // keep-alive wait for the next request
  std::chrono::seconds drain_timeout{10};  // on shutdown, for requests in flight
  unsigned workers = 0;                    // 0: one per core
  std::size_t max_connections = 4096;      // beyond it a new connection is closed at once
  std::size_t pool_queue_limit = 1024;     // beyond it a pool request is answered 503
  unsigned auth_failures_per_minute = 60;  // per source address; 0: no throttle
  // Called on the I/O thread when shutdown begins, before the drain: wakes handlers that hold a
  // request open (the issuer node's feed long polls), which the drain would otherwise wait for.
  std::function<void()> on_shutdown;
  // Sampling and span export (docs/observability.md, Tracing). Null: every request still gets
  // its trace id, its traceparent answer header and its trace_id in logs and problem bodies.
  const trace::Tracer* tracer = nullptr;
};

/// Failed authentications per source address, as token buckets (burst = rate = `per_minute`,
/// refilled continuously). Holds at most `max_addresses` entries: when full, entries that have
/// refilled completely go first, then the least recently touched one. Not thread-safe (the I/O
/// thread owns it).
class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AuthThrottle(unsigned per_minute, std::size_t max_addresses = 16384)
      : per_minute_(per_minute), max_addresses_(max_addresses) {}
  /// 0 when `address` may try now; else the whole seconds until its bucket holds a token again.
  unsigned retry_after(const std::string& address, Clock::time_point now) const;
  /// One failed authentication from `address`.
  void record_failure(const std::string& address, Clock::time_point now);
  std::size_t size() const noexcept { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double tokens_at(const Bucket& b, Clock::time_point now) const;
  void make_room(Clock::time_point now);

  unsigned per_minute_;
  std::size_t max_addresses_;
  std::unordered_map<std::string, Bucket> buckets_;
};

/// The throttle's key for a peer: the IPv4 address, or the /64 prefix of an IPv6 one (a single
/// host usually holds a whole /64). A text that is no IP address is its own key.
std::string throttle_key(std::string_view address);

/// What the server calls for each request: `handle` answers it (never throws), on the worker
/// pool when `on_pool` says so, else on the I/O thread.
struct Handler {
  std::function<HttpReply(const HttpRequest&)> handle;
  std::function<bool(std::string_view method, std::string_view target)> on_pool;
  /// For POST /api/admin/circuits, called on the pool with the request's header alone (no body):
  /// nullopt admits a body up to upload_body_limit; else the refusal to send (401, 403, ...)
  /// before the body is read. Empty: uploads keep body_limit.
  std::function<std::optional<HttpReply>(const HttpRequest&)> admit_upload;
};

/// Runs the server until SIGTERM or SIGINT (which set `stopping`), then stops accepting, lets the
/// requests in flight finish (up to drain_timeout), and returns. `on_listening` receives
/// "host:port" once bound. Throws std::runtime_error when the address cannot be bound.
void run_server(const ServerSettings& settings, Api& api, Metrics& metrics,
                std::atomic<bool>& stopping,
                const std::function<void(const std::string&)>& on_listening);
/// The same with any handler (tests use one they can hold on the pool).
void run_server(const ServerSettings& settings, const Handler& handler, Metrics& metrics,
                std::atomic<bool>& stopping,
                const std::function<void(const std::string&)>& on_listening);

}  // namespace pg::http
