// The HTTP API as a plain function of a request: routing (routes.hpp), content checks, the
// service calls, operational endpoints and artifacts. No sockets: server.cpp owns those, and
// tests and benchmarks call handle() directly.
#pragma once

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "chain/deployment.hpp"
#include "core/artifacts.hpp"
#include "core/service.hpp"
#include "http/message.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"

namespace pg::http {

class AdminApi;
class CitizenApi;
class LifecycleApi;
class OAuthApi;

class Api {
 public:
  struct Deps {
    core::ProofService& service;
    core::Store& store;
    core::Cache& cache;
    Metrics& metrics;
    const core::ArtifactSource& artifacts;  // GET /artifacts
    std::function<bool()> stopping;
    AdminApi* admin = nullptr;  // /api/admin; null: not served
    // SHA-256 of the scrape token /metrics requires (Authorization: Bearer); empty: open.
    std::optional<std::array<std::uint8_t, 32>> metrics_token_sha256 = std::nullopt;
    LifecycleApi* lifecycle = nullptr;      // /api/admin approvals and circuits; null: not served
    core::CircuitGate* circuits = nullptr;  // deprecation headers on verify answers (may be null)
    OAuthApi* oauth = nullptr;       // /oauth/token, /.well-known/jwks.json; null: not served
    CitizenApi* citizens = nullptr;  // /api/v1/account; null: not served
    // The verifiers on chain (`chain_deployment`) for "mode":"onchain"; null: none configured.
    const chain::Deployment* deployment = nullptr;
  };
  explicit Api(Deps deps) : d_(deps) {}
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  /// Probes storage and cache every `interval` on a thread of its own; /readyz then answers from
  /// the last probe, on the I/O thread, never queued behind verifications (an overloaded
  /// instance still answers its health checks). A probe that has not finished for 4 intervals
  /// (at least 2 s) makes /readyz fail. Without it (tests calling handle()), /readyz probes live.
  void start_readiness_probe(std::chrono::milliseconds interval);

  /// True when the request's route does pairing or storage work and belongs on the worker pool.
  static bool needs_pool(std::string_view method, std::string_view target) noexcept;
  /// POST /api/admin/circuits's credential, from the header alone (Handler::admit_upload):
  /// nullopt when the caller may send a large body, else the refusal.
  std::optional<HttpReply> admit_upload(const HttpRequest& header_only);
  /// The answer to one request. Never throws: failures become INTERNAL.
  HttpReply handle(const HttpRequest& request);

 private:
  HttpReply dispatch(const HttpRequest& request, HttpReply& reply);
  boost::json::array keys_json() const;
  /// The deployed verifier a "mode":"onchain" verify of `in` is answered with, or
  /// ONCHAIN_UNAVAILABLE saying why there is none.
  core::Outcome<const chain::DeployedVerifier*> onchain_verifier(const core::VerifyInput& in) const;
  HttpReply artifact(const HttpRequest& request, std::string_view claim, std::string_view version,
                     std::string_view file);

  HttpReply readyz();

  struct Probe {
    std::chrono::milliseconds interval{};
    std::atomic<bool> storage{false}, cache{false};
    std::atomic<std::int64_t> finished_at_ns{0};  // steady clock; 0: no probe finished yet
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    std::thread thread;
  };

  Deps d_;
  std::unique_ptr<Probe> probe_;
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

}  // namespace pg::http
