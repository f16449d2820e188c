// The partner-facing use cases: authenticate a key, create a proof request, verify a proof
// answering one, read a proof's status. Strict decoding, the checks of docs/api.md in their
// order (one named step each), and domain outcomes; storage, cache and clock come in through the
// ports. How an outcome is answered over HTTP is src/http/presenter.cpp's business.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/catalog.hpp"
#include "core/errors.hpp"
#include "core/lifecycle.hpp"
#include "core/model.hpp"
#include "core/outcome.hpp"
#include "core/pairing_batcher.hpp"
#include "core/ports.hpp"

namespace pg::core {

/// A decoded POST /api/v1/verify body.
struct VerifyInput {
  std::string claim_type;
  std::string circuit_version;
  crypto::Proof proof;
  std::vector<crypto::Fr> publics;
  std::vector<std::string> decimals;  // the public signals' canonical decimals
  std::string nonce;
  std::string domain;
  std::optional<std::string> account_link;  // a citizen's link token (docs/citizens.md)
  /// `"mode":"onchain"`: the answer carries the verifier call's calldata (docs/onchain.md).
  bool onchain = false;
};

struct ServiceSettings {
  std::chrono::milliseconds idempotency_ttl{std::chrono::minutes(10)};
  std::chrono::milliseconds root_grace{std::chrono::hours(1)};
  std::int64_t default_request_ttl_s = 300;
  std::int64_t max_request_ttl_s = 3600;
  double rate_per_second = 100;  // per partner; 0 turns the limit off
  double rate_burst = 200;
  /// Called after a proof row with an outbox event was committed (wakes the webhook worker).
  std::function<void()> on_event_recorded;
  /// The partner a bearer access token (a JWT, core/oauth.hpp) speaks for, with the token's
  /// scopes; empty: only API keys are accepted.
  std::function<Outcome<Client>(std::string_view token)> access_tokens;
  /// The citizen's account a verify body's `account_link` token names, bound to the request's
  /// nonce (core::CitizenService::resolve_link); empty: account_link is refused.
  std::function<Outcome<std::string>(std::string_view token, std::string_view nonce)> account_links;
  /// `chain_check` (docs/onchain.md): for a `"mode":"onchain"` verify whose pairing check ran,
  /// the deployed verifier's verdict on the same proof against `server_accepts`: nullopt when
  /// they agree, else CHAIN_DISAGREES or CHAIN_UNAVAILABLE (nothing is then recorded, and the
  /// nonce stays unspent). Empty: no chain check (never called for offchain verifies).
  std::function<std::optional<ApiError>(const VerifyInput& in, bool server_accepts)> chain_check;
  /// chain_check calls running at once at most (each may hold a verify worker for its
  /// timeout); a verify beyond it is CHAIN_UNAVAILABLE at once, without asking the chain.
  std::uint32_t chain_check_concurrency = 8;
  /// Batches the pairing checks of concurrent verifies (core/pairing_batcher.hpp); empty: the
  /// service makes its own with the default window and size.
  std::shared_ptr<PairingBatcher> pairing_batcher;
};

/// A proof that passed every check and was recorded.
struct Verified {
  std::string proof_id;
  std::string claim_type;
  std::string circuit_version;
  std::string nullifier;  // decimal: the holder's partner-specific nullifier
  UnixMillis at = 0;
  // How fresh the credential root was (docs/issuers.md): a partner applies its own policy.
  std::string issuer;                 // "moha", "tu", "nrb"
  std::uint64_t root_seq = 0;         // the root's signed feed seq; 0: an operator's root
  std::int64_t root_age_seconds = 0;  // since the issuer signed the root
};

/// The outcome of POST /api/v1/verify: verified, or refused (recorded when error.proof_id is
/// set); `replayed` when it is the stored outcome of an earlier request with the same
/// Idempotency-Key and body.
struct VerifyOutcome {
  std::variant<Verified, ApiError> result;
  bool replayed = false;
};

/// Counters the metrics endpoint reads.
struct ServiceCounters {
  std::atomic<std::uint64_t> nonce_cache_claimed{0}, nonce_cache_taken{0}, nonce_db_taken{0};
  std::atomic<std::uint64_t> idempotency_new{0}, idempotency_replayed{0}, idempotency_conflict{0};
  // chain_check: the deployed verifier disagreed with the server; could not be asked.
  std::atomic<std::uint64_t> chain_disagreements{0}, chain_unavailable{0};
  // chain_check: refused because chain_check_concurrency calls were running; running now.
  std::atomic<std::uint64_t> chain_checks_saturated{0};
  std::atomic<std::uint32_t> chain_checks_in_flight{0};
};

/// Nepal's civil date (UTC+05:45) at `ms` as yyyymmdd: the date a proof's `today` is.
std::uint32_t yyyymmdd(UnixMillis ms);
/// RFC 3339 UTC time with seconds, e.g. 2026-11-26T10:01:02Z.
std::string rfc3339(UnixMillis ms);
/// SHA-256 (hex) of the public signals' canonical decimals joined by ','.
std::string public_signals_hash(const std::vector<std::string>& decimals);
/// What a wallet needs to answer `request` (docs/protocol.md), as a `proofgate:request?d=` URI
/// (base64url of the JSON object {nonce, verifier_domain, claim_type, circuit_version, params}).
std::string wallet_request_uri(const ProofRequest& request);

/// The stored form of a verify outcome for an idempotency record, and back. The record's
/// `status` is 1 for verified, 2 for refused; records written by earlier versions (an HTTP status
/// and the answered body) decode too.
void store_outcome(const std::variant<Verified, ApiError>& outcome, IdempotencyRecord& record);
std::variant<Verified, ApiError> stored_outcome(const IdempotencyRecord& record);

class ProofService {
 public:
  /// `circuits` (may be null: every loaded version is enabled unless Store::circuit_enabled says
  /// otherwise) adds the lifecycle's refusals: uploaded, disabled, past its sunset.
  ProofService(Store& store, Cache& cache, const Clock& clock, const CircuitCatalog& catalog,
               ServiceSettings settings, CircuitGate* circuits = nullptr);

  /// The partner for an `Authorization` header value ("Bearer pgk_..." or "Bearer <access
  /// token>", told apart by shape), or UNAUTHORIZED; then the partner's rate limit (RATE_LIMITED
  /// with a retry hint). `identified`, when given, receives the partner of a valid key or token
  /// that is refused all the same (CLIENT_SUSPENDED, RATE_LIMITED), so the answer can say its mode.
  Outcome<Client> authenticate(std::string_view authorization, Client* identified = nullptr);

  /// POST /api/v1/requests: a stored proof request, or the refusal naming the field.
  Outcome<ProofRequest> create_request(const Client& client, std::string_view body);

  using VerifyInput = core::VerifyInput;
  /// Strict decoding of a verify body (INVALID_REQUEST naming the field).
  static Outcome<VerifyInput> decode_verify(std::string_view body);
  /// The verify flow after authentication and decoding (docs/api.md, steps 3 to 8); `body` is
  /// the raw body (hashed for the idempotency record), `idempotency_key` the header's value.
  VerifyOutcome verify(const Client& client, const VerifyInput& in, std::string_view body,
                       std::optional<std::string_view> idempotency_key);
  /// GET /api/v1/status/{proof_id}: the partner's own proofs only (NOT_FOUND otherwise).
  Outcome<ProofRecord> status(const Client& client, std::string_view proof_id);

  const ServiceCounters& counters() const noexcept { return counters_; }
  const CircuitCatalog& catalog() const noexcept { return catalog_; }
  const PairingBatcher& pairing_batcher() const noexcept { return *batcher_; }

 private:
  class CacheClaims;
  /// One token of the partner's rate limit, or RATE_LIMITED with a retry hint.
  std::optional<ApiError> take_rate_token(const std::string& client_id);
  // The steps of docs/api.md, in order. Each returns the refusal that ends the flow, if any.
  std::optional<ApiError> check_partner_scope(const Client& client, const VerifyInput& in) const;
  std::variant<Verified, ApiError> verify_once(const Client& client, const VerifyInput& in,
                                               const IdempotencyRecord* idempotency);
  Outcome<ProofRequest> find_proof_request(const Client& client, const VerifyInput& in,
                                           UnixMillis now);
  std::optional<ApiError> claim_nonce(const Client& client, const VerifyInput& in,
                                      CacheClaims& claims, const std::string& nonce_key);
  Outcome<const Circuit*> find_enabled_circuit(const Client& client, const VerifyInput& in);
  std::optional<ApiError> check_public_signals(const Circuit& circuit, const ProofRequest& request,
                                               const VerifyInput& in, UnixMillis now);
  /// The issuer root the proof's root signal names, if current or replaced within the grace.
  /// A test client accepts only sandbox roots, a live client only issuers' own roots.
  Outcome<IssuerRoot> check_root(const Client& client, const Circuit& circuit,
                                 const VerifyInput& in, UnixMillis now);
  std::optional<ApiError> check_pairing(const Circuit& circuit, const VerifyInput& in,
                                        PairingBatcher::Pending& pending) const;
  /// settings_.chain_check within chain_check_concurrency calls at once.
  std::optional<ApiError> ask_chain(const VerifyInput& in, bool server_accepts);
  /// `latency_ms`: the request's processing time so far, kept on the proof row (usage report).
  std::variant<Verified, ApiError> record_verified(const Client& client, const VerifyInput& in,
                                                   const Circuit& circuit, const IssuerRoot& root,
                                                   UnixMillis now, std::int64_t latency_ms,
                                                   const IdempotencyRecord* idempotency,
                                                   const std::string& user_id);
  std::variant<Verified, ApiError> record_failure(const Client& client, const VerifyInput& in,
                                                  const ProofRequest& request, ApiError error,
                                                  std::int64_t latency_ms,
                                                  const IdempotencyRecord* idempotency);
  std::variant<Verified, ApiError> record(const Client& client, const ProofRecord& proof,
                                          std::variant<Verified, ApiError> outcome,
                                          const IdempotencyRecord* idempotency);
  void remember(const IdempotencyRecord* idempotency,
                const std::variant<Verified, ApiError>& outcome);

  Store& store_;
  Cache& cache_;
  const Clock& clock_;
  const CircuitCatalog& catalog_;
  ServiceSettings settings_;
  CircuitGate* circuits_;
  std::shared_ptr<PairingBatcher> batcher_;
  ServiceCounters counters_;
};

}  // namespace pg::core
