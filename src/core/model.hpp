// The records the service keeps: partners, proof requests, proof metadata, outbox events,
// idempotency records, issuer roots. Plain values; no personal data and no proofs among them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pg::core {

/// Seconds since the Unix epoch (UTC) for expiries; milliseconds where ordering matters.
using UnixSeconds = std::int64_t;
using UnixMillis = std::int64_t;

/// The two sides of a partner (docs/partners.md, "Keys and modes"): live keys accept only issuers'
/// roots, test keys only sandbox roots; the mode is in every answer, event and log line.
enum class Mode { kLive, kTest };
/// "live" | "test".
std::string_view mode_name(Mode mode) noexcept;
/// The mode named `text`, or nullopt.
std::optional<Mode> parse_mode(std::string_view text) noexcept;

/// A partner (the blueprint's api_clients row). The API key itself is never kept: only its
/// public prefix and SHA-256.
struct Client {
  std::string id;  // uuid
  std::string name;
  std::string key_prefix;                   // 8 base64url chars, unique
  std::array<std::uint8_t, 32> key_hash{};  // SHA-256 of the whole key
  std::vector<std::string> scopes;          // claim types
  std::vector<std::string> domains;         // verifier domains, lowercase
  std::string webhook_url;                  // empty when none
  std::string webhook_secret_sealed;        // AES-256-GCM sealed secret (binary), empty when none
  UnixMillis created_at = 0;
  UnixMillis last_used = 0;     // 0 = never (found by key: that key's last use)
  UnixMillis revoked_at = 0;    // when its API keys were revoked; 0 = not revoked
  UnixMillis suspended_at = 0;  // 0 = active; else its API calls answer CLIENT_SUSPENDED
  // SHA-256 (32 bytes) of its OAuth client secret: written at creation only, read through
  // core::OAuthStore (core/oauth.hpp); empty when none.
  std::string client_secret_hash;
  Mode mode = Mode::kLive;
  std::string live_client_id;  // a test client made with a live partner: that partner; else empty
};

/// One API key of a partner (client_keys): a rotation adds one and gives the old ones an expiry.
struct ClientKey {
  std::string prefix;                   // 8 base64url chars, unique
  std::array<std::uint8_t, 32> hash{};  // SHA-256 of the whole key
  UnixMillis created_at = 0;
  UnixMillis expires_at = 0;    // 0 = none; refused from this instant on
  UnixMillis revoked_at = 0;    // 0 = not revoked
  UnixMillis last_used_at = 0;  // 0 = never; written at most once a minute per key
};

/// A claim parameter of a proof request, by its public-signal name (today, threshold, ...).
using Params = std::vector<std::pair<std::string, std::uint64_t>>;

/// A proof request a partner created (POST /api/v1/requests).
struct ProofRequest {
  std::string id;  // uuid
  std::string client_id;
  std::string nonce;  // 22 base64url chars
  std::string claim_type;
  std::string circuit_version;
  std::string verifier_domain;
  Params params;  // always holds "today"
  UnixMillis created_at = 0;
  UnixMillis expires_at = 0;
  /// The versions of claim_type the partner accepts now, newest first (the request answer and the
  /// wallet's payload; not stored). Empty when the lifecycle is not wired.
  std::vector<std::string> accepted_versions = {};
};

/// The metadata of one answered proof request; never the proof or the public signals.
struct ProofRecord {
  std::string id;  // uuid
  std::string client_id;
  std::string claim_type;
  std::string circuit_version;
  std::string status;       // "verified" | "failed"
  std::string error_code;   // empty when verified
  std::string public_hash;  // hex SHA-256 of the public signals (docs/api.md)
  std::string request_nonce;
  UnixMillis created_at = 0;
  UnixMillis verified_at = 0;    // 0 when failed
  std::int64_t latency_ms = -1;  // the request's processing time; -1 unknown (stored as NULL)
  /// The citizen's account the wallet linked it to (core/citizens.hpp); empty: none (NULL).
  std::string user_id = {};
};

/// A webhook to deliver (transactional outbox): written in the proof's transaction.
struct OutboxEvent {
  std::string event_id;  // uuid, stable across retries: receivers dedupe on it
  std::string client_id;
  std::string proof_id;
  std::string event_type;  // proof.verified | proof.failed
  std::string payload;     // JSON
  UnixMillis created_at = 0;
  std::string traceparent{};  // the writing request's trace position (W3C), empty when none
};

/// The stored outcome of a request made with an Idempotency-Key (store_outcome and
/// stored_outcome in service.hpp write and read it).
struct IdempotencyRecord {
  std::string client_id;
  std::string key;
  std::string body_hash;  // hex SHA-256 of the request body
  int status = 0;         // 1 verified, 2 refused (rows of earlier versions: an HTTP status)
  std::string response;   // the outcome as a JSON object
  UnixMillis expires_at = 0;
};

/// A Merkle root an issuer published; superseded_at = 0 while it is the current one.
struct IssuerRoot {
  std::uint32_t issuer_id = 0;
  std::string root;              // decimal field element
  UnixMillis published_at = 0;   // when this verifier took it
  UnixMillis superseded_at = 0;  // when a newer root replaced it; 0 while current
  std::uint64_t seq = 0;         // its signed feed entry's seq; 0: published by an operator
  UnixMillis issued_at = 0;      // when the issuer signed it (the operator's: published_at)
  bool sandbox = false;          // a sandbox issuer's root: only test clients accept it
};

/// A key that signs an issuer's root feed, as the verifier's feed follower trusts it: stored with
/// the feed entry that announced or retired it, so a restart keeps what the chain taught
/// (docs/issuers.md, "Key rotation").
struct FeedKey {
  std::uint32_t issuer_id = 0;
  std::string key_id;               // 16 hex: the first 8 bytes of SHA-256 of the raw key
  std::string public_key;           // base64url of the raw 32-byte Ed25519 key
  UnixMillis valid_until = 0;       // it signs nothing issued after this; 0: no end announced
  std::uint64_t announced_seq = 0;  // the entry that announced it; 0: a configured key
  bool sandbox = false;             // a key of the issuer's sandbox feed
  bool operator==(const FeedKey&) const = default;
};

/// What publishing a root did.
enum class PublishOutcome {
  kPublished,       // it is the issuer's current root now
  kAlreadyCurrent,  // it was already; nothing changed
  kReplacedBefore,  // it was current once and was replaced: never current again, nothing changed
  kOtherSide,       // the issuer's other side (sandbox or live) knows it: nothing changed
};

}  // namespace pg::core
