// The HTTP API as a plain function of a request: routing (routes.hpp), content checks, the
// service calls, operational endpoints and artifacts. No sockets: server.cpp owns those, and
// tests and benchmarks call handle() directly.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/service.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"

namespace pg::http {

struct HttpRequest {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;
  std::string_view content_type;
  std::optional<std::string_view> idempotency_key;
  std::string_view if_none_match;
  std::string_view body;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::shared_ptr<const std::string> shared_body;  // large immutable bodies (artifacts, assets)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error_code;  // for the log line
  std::string partner_id;  // for the log line
  std::string route = "unmatched";
};

class AdminApi;

class Api {
 public:
  struct Deps {
    core::ProofService& service;
    core::Store& store;
    core::Cache& cache;
    Metrics& metrics;
    std::function<bool()> stopping;
    AdminApi* admin = nullptr;  // /api/admin; null: not served
    // SHA-256 of the scrape token /metrics requires (Authorization: Bearer); empty: open.
    std::optional<std::array<std::uint8_t, 32>> metrics_token_sha256 = std::nullopt;
  };
  explicit Api(Deps deps) : d_(deps) {}

  /// True when the request's route does pairing or storage work and belongs on the worker pool.
  static bool needs_pool(std::string_view method, std::string_view target) noexcept;
  /// The answer to one request. Never throws: failures become INTERNAL.
  HttpReply handle(const HttpRequest& request);

 private:
  HttpReply dispatch(const HttpRequest& request, HttpReply& reply);
  HttpReply artifact(const HttpRequest& request, std::string_view claim, std::string_view version,
                     std::string_view file);

  Deps d_;
  std::mutex artifacts_mu_;
  std::map<std::string, std::pair<std::shared_ptr<const std::string>, std::string>>
      artifacts_;  // path -> body, sha
};

/// The route matching `path`, and its parameters, for a method-independent lookup.
struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::string_view> params;
  bool method_allowed = false;
};
RouteMatch match_route(std::string_view method, std::string_view path) noexcept;

/// HttpReply from a core answer.
HttpReply reply_from(core::Answer answer);

}  // namespace pg::http
