// The row -> model mapping both stores share, by column name. Each adapter passes its own row
// reader (SQLite: one stepped statement; PostgreSQL: one row of a result) with these members, all
// taking a column name:
//   text (NULL reads ""), bytes (a BLOB/bytea; NULL reads ""), integer (NULL reads 0), is_null,
//   json (a JSON column's text as the adapter returns it).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/outbox.hpp"
#include "store/json_columns.hpp"
#include "store/store_error.hpp"

namespace pg::store {

/// api_clients: id, name, key_prefix, key_hash, scopes, domains (JSON arrays), webhook_url,
/// webhook_secret_sealed, created_at, last_used, revoked_at, suspended_at.
template <class Row>
core::Client client_from_row(const Row& row, std::string_view store) {
  core::Client client;
  client.id = row.text("id");
  client.name = row.text("name");
  client.key_prefix = row.text("key_prefix");
  const std::string key_hash = row.bytes("key_hash");
  if (key_hash.size() != client.key_hash.size()) {
    fail_store(store, "read api_clients.key_hash", "not 32 bytes");
  }
  std::memcpy(client.key_hash.data(), key_hash.data(), key_hash.size());
  client.scopes = json_to_strings(row.json("scopes"), "api_clients.scopes", store);
  client.domains = json_to_strings(row.json("domains"), "api_clients.domains", store);
  client.webhook_url = row.text("webhook_url");
  client.webhook_secret_sealed = row.bytes("webhook_secret_sealed");
  client.created_at = row.integer("created_at");
  client.last_used = row.integer("last_used");
  client.revoked_at = row.integer("revoked_at");
  client.suspended_at = row.integer("suspended_at");
  const auto mode = core::parse_mode(row.text("mode"));
  if (!mode) fail_store(store, "read api_clients.mode", "neither live nor test");
  client.mode = *mode;
  client.live_client_id = row.is_null("live_client_id") ? "" : row.text("live_client_id");
  return client;
}

/// client_keys: prefix, key_hash, created_at, expires_at, revoked_at, last_used_at.
template <class Row>
core::ClientKey key_from_row(const Row& row, std::string_view store) {
  core::ClientKey key;
  key.prefix = row.text("prefix");
  const std::string hash = row.bytes("key_hash");
  if (hash.size() != key.hash.size())
    fail_store(store, "read client_keys.key_hash", "not 32 bytes");
  std::memcpy(key.hash.data(), hash.data(), hash.size());
  key.created_at = row.integer("created_at");
  key.expires_at = row.integer("expires_at");
  key.revoked_at = row.integer("revoked_at");
  key.last_used_at = row.integer("last_used_at");
  return key;
}

/// proof_requests: id, verifier_id, nonce, claim_type, circuit_version, verifier_domain, params,
/// created_at, expires_at.
template <class Row>
core::ProofRequest request_from_row(const Row& row, std::string_view store) {
  core::ProofRequest request;
  request.id = row.text("id");
  request.client_id = row.text("verifier_id");
  request.nonce = row.text("nonce");
  request.claim_type = row.text("claim_type");
  request.circuit_version = row.text("circuit_version");
  request.verifier_domain = row.text("verifier_domain");
  request.params = json_to_params(row.json("params"), store);
  request.created_at = row.integer("created_at");
  request.expires_at = row.integer("expires_at");
  return request;
}

/// proofs: id, verifier_id, claim_type, circuit_version, status, error_code, public_hash,
/// request_nonce, created_at, verified_at.
template <class Row>
core::ProofRecord proof_from_row(const Row& row) {
  core::ProofRecord proof;
  proof.id = row.text("id");
  proof.client_id = row.text("verifier_id");
  proof.claim_type = row.text("claim_type");
  proof.circuit_version = row.text("circuit_version");
  proof.status = row.text("status");
  proof.error_code = row.text("error_code");
  proof.public_hash = row.text("public_hash");
  proof.request_nonce = row.text("request_nonce");
  proof.created_at = row.integer("created_at");
  proof.verified_at = row.integer("verified_at");
  return proof;
}

/// webhooks_outbox: event_id, verifier_id, proof_id (NULL reads ""), event_type, payload,
/// created_at, traceparent.
template <class Row>
core::OutboxEvent event_from_row(const Row& row) {
  core::OutboxEvent event;
  event.event_id = row.text("event_id");
  event.client_id = row.text("verifier_id");
  event.proof_id = row.text("proof_id");
  event.event_type = row.text("event_type");
  event.payload = row.text("payload");
  event.created_at = row.integer("created_at");
  event.traceparent = row.text("traceparent");
  return event;
}

/// webhooks_outbox: the event's columns, then status, attempts, next_attempt_at, delivered_at,
/// last_error, lease_owner, lease_until.
template <class Row>
core::Delivery delivery_from_row(const Row& row) {
  core::Delivery delivery;
  delivery.event = event_from_row(row);
  delivery.status = row.text("status");
  delivery.attempts = static_cast<int>(row.integer("attempts"));
  delivery.next_attempt_at = row.integer("next_attempt_at");
  delivery.delivered_at = row.integer("delivered_at");
  delivery.last_error = row.text("last_error");
  delivery.lease_owner = row.text("lease_owner");
  delivery.lease_until = row.integer("lease_until");
  return delivery;
}

/// webhook_attempts: event_id, attempt, started_at, status_code (NULL reads 0), latency_ms, error.
template <class Row>
core::DeliveryAttempt attempt_from_row(const Row& row) {
  core::DeliveryAttempt attempt;
  attempt.event_id = row.text("event_id");
  attempt.attempt = static_cast<int>(row.integer("attempt"));
  attempt.started_at = row.integer("started_at");
  attempt.status_code = static_cast<int>(row.integer("status_code"));
  attempt.latency_ms = row.integer("latency_ms");
  attempt.error = row.text("error");
  return attempt;
}

/// api_clients as a webhook target: id, webhook_url, webhook_secret_sealed,
/// webhook_secret_previous_sealed, webhook_previous_until.
template <class Row>
core::WebhookTarget webhook_target_from_row(const Row& row) {
  core::WebhookTarget target;
  target.client_id = row.text("id");
  target.url = row.text("webhook_url");
  target.secret_sealed = row.bytes("webhook_secret_sealed");
  target.previous_secret_sealed = row.bytes("webhook_secret_previous_sealed");
  target.previous_until = row.integer("webhook_previous_until");
  return target;
}

/// idempotency_keys: verifier_id, key, body_hash, status, response, expires_at.
template <class Row>
core::IdempotencyRecord idempotency_from_row(const Row& row) {
  core::IdempotencyRecord record;
  record.client_id = row.text("verifier_id");
  record.key = row.text("key");
  record.body_hash = row.text("body_hash");
  record.status = static_cast<int>(row.integer("status"));
  record.response = row.text("response");
  record.expires_at = row.integer("expires_at");
  return record;
}

/// issuer_roots: issuer_id, root, published_at, superseded_at.
template <class Row>
core::IssuerRoot root_from_row(const Row& row) {
  core::IssuerRoot root;
  root.issuer_id = static_cast<std::uint32_t>(row.integer("issuer_id"));
  root.root = row.text("root");
  root.published_at = row.integer("published_at");
  root.superseded_at = row.integer("superseded_at");
  root.seq = static_cast<std::uint64_t>(row.integer("seq"));
  root.issued_at = row.integer("issued_at");
  root.sandbox = row.boolean("sandbox");
  return root;
}

/// feed_keys: issuer_id, key_id, public_key, valid_until, announced_seq.
template <class Row>
core::FeedKey feed_key_from_row(const Row& row) {
  core::FeedKey key;
  key.issuer_id = static_cast<std::uint32_t>(row.integer("issuer_id"));
  key.key_id = row.text("key_id");
  key.public_key = row.text("public_key");
  key.valid_until = row.integer("valid_until");
  key.announced_seq = static_cast<std::uint64_t>(row.integer("announced_seq"));
  key.sandbox = row.boolean("sandbox");
  return key;
}

/// audit_logs: id, actor_type, actor_id, action, details (NULL reads as the empty object), at.
template <class Row>
core::AuditEntry audit_from_row(const Row& row) {
  core::AuditEntry entry;
  entry.id = row.integer("id");
  entry.actor_type = row.text("actor_type");
  entry.actor_id = row.text("actor_id");
  entry.action = row.text("action");
  entry.details_json = row.is_null("details") ? std::string("{}") : row.json("details");
  entry.at = row.integer("at");
  entry.seq = row.integer("seq");
  entry.prev_hash = row.text("prev_hash");
  entry.hash = row.text("hash");
  return entry;
}

}  // namespace pg::store
