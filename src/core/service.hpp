// The partner-facing flows: authenticate a key, create a proof request, verify a proof answering
// one, read a proof's status. Decoding, the checks of docs/api.md in their order, and the JSON
// answers; storage, cache and clock come in through the ports. No sockets here.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/catalog.hpp"
#include "core/errors.hpp"
#include "core/model.hpp"
#include "core/ports.hpp"

namespace pg::core {

struct ServiceSettings {
  std::chrono::milliseconds idempotency_ttl{std::chrono::minutes(10)};
  std::chrono::milliseconds root_grace{std::chrono::hours(1)};
  std::int64_t default_request_ttl_s = 300;
  std::int64_t max_request_ttl_s = 3600;
  double rate_per_second = 100;  // per partner; 0 turns the limit off
  double rate_burst = 200;
  /// Called after a proof row with an outbox event was committed (wakes the webhook worker).
  std::function<void()> on_event_recorded;
};

/// An answer: status, JSON body, extra headers, and for logs and metrics the error code.
struct Answer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error_code;  // empty on success
};

/// The problem+json answer for an error (RFC 9457), with `extra` members merged in.
Answer problem(const ApiError& error, std::string_view extra_json_members = {});

/// Counters the metrics endpoint reads.
struct ServiceCounters {
  std::atomic<std::uint64_t> nonce_cache_claimed{0}, nonce_cache_taken{0}, nonce_db_taken{0};
  std::atomic<std::uint64_t> idempotency_new{0}, idempotency_replayed{0}, idempotency_conflict{0};
};

/// The UTC date of `ms` as yyyymmdd.
std::uint32_t yyyymmdd(UnixMillis ms);
/// RFC 3339 UTC time with seconds, e.g. 2026-11-26T10:01:02Z.
std::string rfc3339(UnixMillis ms);
/// SHA-256 (hex) of the public signals' canonical decimals joined by ','.
std::string public_signals_hash(const std::vector<std::string>& decimals);

class ProofService {
 public:
  ProofService(Store& store, Cache& cache, const Clock& clock, const CircuitCatalog& catalog,
               ServiceSettings settings);

  /// The partner for an `Authorization` header value ("Bearer pgk_..."), or UNAUTHORIZED; then
  /// the partner's rate limit (RATE_LIMITED with Retry-After).
  std::variant<Client, Answer> authenticate(std::string_view authorization);

  /// POST /api/v1/requests.
  Answer create_request(const Client& client, std::string_view body);
  /// A decoded POST /api/v1/verify body.
  struct VerifyInput {
    std::string claim_type;
    std::string circuit_version;
    crypto::Proof proof;
    std::vector<crypto::Fr> publics;
    std::vector<std::string> decimals;  // the public signals' canonical decimals
    std::string nonce;
    std::string domain;
  };
  /// Step 1 of POST /api/v1/verify: strict decoding, before authentication (INVALID_REQUEST
  /// naming the field).
  static std::variant<VerifyInput, Answer> decode_verify(std::string_view body);
  /// The remaining steps for an authenticated partner; `body` is the raw body (hashed for the
  /// idempotency record), `idempotency_key` the header's value when present.
  Answer verify(const Client& client, const VerifyInput& in, std::string_view body,
                std::optional<std::string_view> idempotency_key);
  /// GET /api/v1/status/{proof_id}.
  Answer status(const Client& client, std::string_view proof_id);

  const ServiceCounters& counters() const noexcept { return counters_; }
  const CircuitCatalog& catalog() const noexcept { return catalog_; }

 private:
  Answer verify_checked(const Client& client, const VerifyInput& in,
                        const IdempotencyRecord* idem_template);
  Answer record_failure(const Client& client, const VerifyInput& in, const ProofRequest& request,
                        const ApiError& error, const IdempotencyRecord* idem_template);

  Store& store_;
  Cache& cache_;
  const Clock& clock_;
  const CircuitCatalog& catalog_;
  ServiceSettings settings_;
  ServiceCounters counters_;
};

}  // namespace pg::core
