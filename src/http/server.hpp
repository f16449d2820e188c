// The HTTP/1.1 server: Boost.Beast sessions on one I/O thread, handlers that do pairing or
// storage work on a worker pool, limits and timeouts on every read, graceful shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "http/api.hpp"

namespace pg::http {

struct ServerSettings {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (the log line "listening" names it)
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 8 * 1024;
  std::chrono::seconds read_timeout{10};   // to read one request, header and body
  std::chrono::seconds idle_timeout{30};   // keep-alive wait for the next request
  std::chrono::seconds drain_timeout{10};  // on shutdown, for requests in flight
  unsigned workers = 0;                    // 0: one per core
};

/// Runs the server until SIGTERM or SIGINT (which set `stopping`), then stops accepting, lets the
/// requests in flight finish (up to drain_timeout), and returns. `on_listening` receives
/// "host:port" once bound. Throws std::runtime_error when the address cannot be bound.
void run_server(const ServerSettings& settings, Api& api, Metrics& metrics,
                std::atomic<bool>& stopping,
                const std::function<void(const std::string&)>& on_listening);

}  // namespace pg::http
