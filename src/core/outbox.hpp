// The webhook outbox port: delivery rows written in the verify transaction (Store::record_proof)
// or enqueued on their own (test events, account.deleted, circuit.deprecated), claimed by workers
// under a lease so two workers never send the same attempt at once, and their attempts recorded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"

namespace pg::core {

/// A delivery's state: pending (waiting for its next attempt), delivered (a 2xx answer), dead
/// (the last scheduled attempt failed; only a replay sends it again).
inline constexpr std::string_view kDeliveryPending = "pending";
inline constexpr std::string_view kDeliveryDelivered = "delivered";
inline constexpr std::string_view kDeliveryDead = "dead";

/// One outbox row as a worker or an admin sees it.
struct Delivery {
  OutboxEvent
      event;  // event_id, client_id, proof_id (may be empty), event_type, payload, created_at
  std::string status;  // pending | delivered | dead
  int attempts = 0;    // attempts made so far
  UnixMillis next_attempt_at = 0;
  UnixMillis delivered_at = 0;  // 0 unless delivered
  std::string last_error;       // empty when none
  std::string lease_owner;      // the worker holding it now, empty when free
  UnixMillis lease_until = 0;
};

/// One attempt to deliver.
struct DeliveryAttempt {
  std::string event_id;
  int attempt = 0;  // 1-based
  UnixMillis started_at = 0;
  int status_code = 0;  // 0 when no HTTP answer (timeout, refused, reset, guard refusal)
  std::int64_t latency_ms = 0;
  std::string error;  // empty on a 2xx
};

/// What the worker decided after an attempt.
struct AttemptOutcome {
  DeliveryAttempt attempt;
  bool delivered = false;
  bool dead = false;               // no further attempt
  UnixMillis next_attempt_at = 0;  // when !delivered && !dead
};

/// Where and how a partner's webhooks go. During a rotation's overlap both secrets sign.
struct WebhookTarget {
  std::string client_id;
  std::string url;                     // empty: the partner has no webhook
  std::string secret_sealed;           // current secret (sealed, context = client id)
  std::string previous_secret_sealed;  // empty when none
  UnixMillis previous_until = 0;       // the previous secret signs until then
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  /// The partner's webhook URL and secrets, or nullopt for an unknown partner.
  virtual std::optional<WebhookTarget> webhook_target(std::string_view client_id) = 0;
  /// Sets a new current secret; the old current one becomes the previous one, signing until
  /// `previous_until`. Also sets the URL when `url` is not empty.
  virtual void rotate_webhook_secret(std::string_view client_id, std::string_view new_secret_sealed,
                                     UnixMillis previous_until, std::string_view url) = 0;

  /// Adds a row (status pending, due now) outside a verify transaction. The event id is unique.
  virtual void enqueue_event(const OutboxEvent& event, UnixMillis now) = 0;

  /// Claims up to `limit` pending rows due at `now` (next_attempt_at <= now) whose lease is free
  /// or expired, oldest first, skipping partners that already hold `per_client_limit` live
  /// leases; sets lease_owner = `worker` and lease_until = now + lease_ms in one transaction.
  virtual std::vector<Delivery> claim_due(std::string_view worker, UnixMillis now,
                                          std::size_t limit, std::int64_t lease_ms,
                                          std::size_t per_client_limit) = 0;

  /// Records an attempt and the row's next state, only while `worker` still holds the lease of
  /// that row (else false and nothing written: another worker took it over after expiry).
  /// Clears the lease.
  virtual bool finish_attempt(std::string_view worker, const AttemptOutcome& outcome) = 0;

  /// The earliest next_attempt_at among pending rows, if any (for the worker's sleep).
  virtual std::optional<UnixMillis> next_due() = 0;

  /// Admin views: rows by partner (empty = all) and status (empty = all), newest first; one row;
  /// its attempts in order.
  virtual std::vector<Delivery> list_deliveries(std::string_view client_id, std::string_view status,
                                                std::size_t limit) = 0;
  virtual std::optional<Delivery> find_delivery(std::string_view event_id) = 0;
  virtual std::vector<DeliveryAttempt> delivery_attempts(std::string_view event_id) = 0;

  /// Makes a delivered or dead row pending again, due now, with its attempt count kept (the new
  /// attempts are appended). False when there is no such row or it is pending already.
  virtual bool replay(std::string_view event_id, UnixMillis now) = 0;

  /// Counts by status (for metrics and tests).
  virtual std::vector<std::pair<std::string, std::int64_t>> count_by_status() = 0;
};

}  // namespace pg::core
