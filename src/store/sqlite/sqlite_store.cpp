// core::Store, core::OutboxStore and core::AuditStore on SQLite: the queries as named constants
// and the row <-> model mapping, on the shared statement, transaction and migration helpers of
// sqlite_db.hpp.
#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "core/audit_chain.hpp"
#include "store/audit_batches.hpp"
#include "store/column_index.hpp"
#include "store/json_columns.hpp"
#include "store/outbox_rules.hpp"
#include "store/rows.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace pg::store {
namespace {

// The shared SQLite building blocks (sqlite_db.hpp); Transaction is the store's own, below.
using sqlite::applied_schema_version;
using sqlite::DatabaseHandle;
using sqlite::execute;
using sqlite::fail;
using sqlite::fail_with;
using sqlite::kStoreName;
using sqlite::migrate;
using sqlite::open_database;
using sqlite::open_reader;
using sqlite::pragma_value;
using sqlite::prepare;
using sqlite::Query;
using sqlite::Row;
using sqlite::SqliteError;
using sqlite::StatementHandle;
using sqlite::unix_millis_now;

// --- Queries: one statement each, numbered parameters. ---

constexpr std::string_view kBegin = "BEGIN IMMEDIATE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";
constexpr std::string_view kPing = "SELECT 1 AS one";
// One write of a commit group (CommitGroup): undone alone when it refuses or fails.
constexpr std::string_view kSavepoint = "SAVEPOINT group_write";
constexpr std::string_view kReleaseSavepoint = "RELEASE group_write";
constexpr std::string_view kRollbackSavepoint = "ROLLBACK TO group_write";

constexpr std::string_view kInsertClient = R"sql(
  INSERT INTO api_clients (id, name, key_prefix, key_hash, scopes, domains, webhook_url,
                           webhook_secret_sealed, created_at, last_used, mode, live_client_id)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql";
// The partner by one of its keys: live (not revoked, not expired at ?2); the key's own columns.
constexpr std::string_view kFindClientByPrefix = R"sql(
  SELECT c.id, c.name, k.prefix AS key_prefix, k.key_hash, c.scopes, c.domains, c.webhook_url,
         c.webhook_secret_sealed, c.created_at, k.last_used_at AS last_used, k.revoked_at,
         c.suspended_at, c.mode, c.live_client_id
  FROM client_keys k JOIN api_clients c ON c.id = k.client_id
  WHERE k.prefix = ?1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?2))sql";
constexpr std::string_view kListClients = R"sql(
  SELECT id, name, key_prefix, key_hash, scopes, domains, webhook_url, webhook_secret_sealed,
         created_at, last_used, revoked_at, suspended_at, mode, live_client_id
  FROM api_clients ORDER BY created_at, id)sql";
constexpr std::string_view kFindClient = R"sql(
  SELECT id, name, key_prefix, key_hash, scopes, domains, webhook_url, webhook_secret_sealed,
         created_at, last_used, revoked_at, suspended_at, mode, live_client_id
  FROM api_clients WHERE id = ?1)sql";
// Keyset pagination: strictly after (?1, ?2) in (created_at, id) order; ?2 '' from the first.
constexpr std::string_view kListClientsAfter = R"sql(
  SELECT id, name, key_prefix, key_hash, scopes, domains, webhook_url, webhook_secret_sealed,
         created_at, last_used, revoked_at, suspended_at, mode, live_client_id
  FROM api_clients WHERE ?2 = '' OR (created_at, id) > (?1, ?2)
  ORDER BY created_at, id LIMIT ?3)sql";
constexpr std::string_view kClientKeys = R"sql(
  SELECT prefix, key_hash, created_at, expires_at, revoked_at, last_used_at FROM client_keys
  WHERE client_id = ?1 ORDER BY created_at, prefix)sql";
// last_used only moves forward, so touches that commit out of order keep the newest.
constexpr std::string_view kTouchClient = R"sql(
  UPDATE api_clients SET last_used = ?2
  WHERE id = ?1 AND (last_used IS NULL OR last_used < ?2))sql";
constexpr std::string_view kTouchKey = R"sql(
  UPDATE client_keys SET last_used_at = ?2
  WHERE prefix = ?1 AND (last_used_at IS NULL OR last_used_at < ?2))sql";
constexpr std::string_view kInsertKey = R"sql(
  INSERT INTO client_keys (prefix, client_id, key_hash, created_at, expires_at, last_used_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql";
// Every other live key of the partner expires at ?2 (one expiring sooner keeps its expiry).
constexpr std::string_view kExpireKeys = R"sql(
  UPDATE client_keys SET expires_at = ?2
  WHERE client_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2))sql";
constexpr std::string_view kSetCurrentKey = R"sql(
  UPDATE api_clients SET key_prefix = ?2, key_hash = ?3, revoked_at = NULL WHERE id = ?1
  RETURNING 1)sql";
constexpr std::string_view kUpdateClient = R"sql(
  UPDATE api_clients SET name = ?2, scopes = ?3, domains = ?4, webhook_url = ?5 WHERE id = ?1
  RETURNING 1)sql";
// The test twin of a partner follows its scopes and domains (it claims no domain).
constexpr std::string_view kUpdateTwin = R"sql(
  UPDATE api_clients SET scopes = ?2, domains = ?3 WHERE live_client_id = ?1)sql";
constexpr std::string_view kReleaseDomains = "DELETE FROM verifier_domains WHERE client_id = ?1";
// ?2 NULL resumes; a row already in the asked state is not changed (no row returned).
constexpr std::string_view kSetSuspended = R"sql(
  UPDATE api_clients SET suspended_at = ?2
  WHERE (id = ?1 OR live_client_id = ?1) AND (?2 IS NULL) <> (suspended_at IS NULL) RETURNING 1)sql";

// A domain held by another partner returns no row (and the caller rolls back).
constexpr std::string_view kClaimDomain = R"sql(
  INSERT INTO verifier_domains (domain, client_id) VALUES (?1, ?2)
  ON CONFLICT (domain) DO NOTHING
  RETURNING 1)sql";
constexpr std::string_view kInsertClientSecret =
    "INSERT INTO client_secrets (client_id, secret_hash, updated_at) VALUES (?1, ?2, ?3)";
constexpr std::string_view kClientRevokedAt = "SELECT revoked_at FROM api_clients WHERE id = ?1";
// Every live key of the partner (an expired one stays as it is); then the partner is marked.
constexpr std::string_view kRevokeKey = R"sql(
  UPDATE client_keys SET revoked_at = ?2
  WHERE client_id IN (SELECT id FROM api_clients WHERE id = ?1 OR live_client_id = ?1)
    AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)
  RETURNING 1)sql";
constexpr std::string_view kMarkRevoked =
    "UPDATE api_clients SET revoked_at = ?2 WHERE id = ?1 OR live_client_id = ?1";

constexpr std::string_view kInsertRequest = R"sql(
  INSERT INTO proof_requests (id, verifier_id, nonce, claim_type, circuit_version,
                              verifier_domain, params, created_at, expires_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9))sql";
constexpr std::string_view kFindRequest = R"sql(
  SELECT id, verifier_id, nonce, claim_type, circuit_version, verifier_domain, params,
         created_at, expires_at
  FROM proof_requests WHERE verifier_id = ?1 AND nonce = ?2)sql";

// user_id only while the account exists (one writer: a deletion is wholly before or after), so a
// verify racing the account's deletion links nothing.
constexpr std::string_view kInsertProof = R"sql(
  INSERT INTO proofs (id, verifier_id, claim_type, circuit_version, status, error_code,
                      public_hash, request_nonce, created_at, verified_at, latency_ms, user_id)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, (SELECT id FROM users WHERE id = ?12)))sql";
constexpr std::string_view kFindProof = R"sql(
  SELECT id, verifier_id, claim_type, circuit_version, status, error_code, public_hash,
         request_nonce, created_at, verified_at
  FROM proofs WHERE id = ?1)sql";
constexpr std::string_view kNonceAnswered =
    "SELECT 1 FROM proofs WHERE verifier_id = ?1 AND request_nonce = ?2";

// A new row is pending, unleased, with no attempt; record_proof makes it due at its creation
// (?6 = ?7), enqueue_event at the time it is enqueued. proof_id is NULL for events without one.
constexpr std::string_view kInsertOutboxEvent = R"sql(
  INSERT INTO webhooks_outbox (event_id, verifier_id, proof_id, event_type, payload,
                               next_attempt_at, created_at, traceparent)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql";
constexpr std::string_view kPendingEvents = R"sql(
  SELECT event_id, verifier_id, proof_id, event_type, payload, created_at, traceparent
  FROM webhooks_outbox WHERE status = 'pending' ORDER BY id LIMIT ?1)sql";

// --- The webhook outbox (core::OutboxStore). A lease is live while lease_until > now. ---

constexpr std::string_view kWebhookTarget = R"sql(
  SELECT id, webhook_url, webhook_secret_sealed, webhook_secret_previous_sealed,
         webhook_previous_until
  FROM api_clients WHERE id = ?1)sql";
// The right-hand sides read the row as it was, so the old current secret becomes the previous one.
// Without a current secret there is nothing to keep signing: previous_until stays 0. ?4 NULL keeps
// the URL.
constexpr std::string_view kRotateWebhookSecret = R"sql(
  UPDATE api_clients
  SET webhook_secret_previous_sealed = webhook_secret_sealed,
      webhook_previous_until = CASE WHEN webhook_secret_sealed IS NULL THEN 0 ELSE ?3 END,
      webhook_secret_sealed = ?2,
      webhook_url = coalesce(?4, webhook_url)
  WHERE id = ?1
  RETURNING 1)sql";

// Claims in one statement (?1 now, ?2 per-partner cap, ?3 limit, ?4 worker, ?5 lease end): `due`
// numbers each partner's claimable rows oldest first, so a row is taken only while the partner's
// live leases plus its rows taken before it in this call stay within the cap; the cap then the
// limit apply in id order. RETURNING gives the rows as claimed, in no set order (the caller sorts
// by the last column, id).
constexpr std::string_view kClaimDue = R"sql(
  WITH live AS (
    SELECT verifier_id, count(*) AS held FROM webhooks_outbox
    WHERE status = 'pending' AND lease_until > ?1
    GROUP BY verifier_id),
  due AS (
    SELECT id, verifier_id,
           row_number() OVER (PARTITION BY verifier_id ORDER BY id) AS nth
    FROM webhooks_outbox
    WHERE status = 'pending' AND next_attempt_at <= ?1 AND lease_until <= ?1
      AND verifier_id NOT IN (SELECT id FROM api_clients WHERE suspended_at IS NOT NULL)),
  chosen AS (
    SELECT due.id FROM due LEFT JOIN live USING (verifier_id)
    WHERE coalesce(live.held, 0) + due.nth <= ?2
    ORDER BY due.id LIMIT ?3)
  UPDATE webhooks_outbox SET lease_owner = ?4, lease_until = ?5
  WHERE id IN (SELECT id FROM chosen)
  RETURNING event_id, verifier_id, proof_id, event_type, payload, created_at, traceparent, status, attempts,
            next_attempt_at, delivered_at, last_error, lease_owner, lease_until, id)sql";

// Only the lease owner finishes a pending row (?2 = worker); RETURNING the new count lets the
// caller check the attempt's number. ?3 status; ?4 next_attempt_at (NULL keeps it); ?5
// delivered_at; ?6 last_error.
constexpr std::string_view kFinishDelivery = R"sql(
  UPDATE webhooks_outbox
  SET status = ?3, attempts = attempts + 1, next_attempt_at = coalesce(?4, next_attempt_at),
      delivered_at = ?5, last_error = ?6, lease_owner = NULL, lease_until = 0
  WHERE event_id = ?1 AND lease_owner = ?2 AND status = 'pending'
  RETURNING attempts)sql";
constexpr std::string_view kInsertAttempt = R"sql(
  INSERT INTO webhook_attempts (event_id, attempt, started_at, status_code, latency_ms, error)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql";

// A leased row is claimable again only when its lease ends.
constexpr std::string_view kNextDue = R"sql(
  SELECT min(max(next_attempt_at, lease_until)) AS due FROM webhooks_outbox
  WHERE status = 'pending'
    AND verifier_id NOT IN (SELECT id FROM api_clients WHERE suspended_at IS NOT NULL))sql";

// Empty filters match every row; newest first is the reverse insertion order.
constexpr std::string_view kListDeliveries = R"sql(
  SELECT event_id, verifier_id, proof_id, event_type, payload, created_at, traceparent, status, attempts,
         next_attempt_at, delivered_at, last_error, lease_owner, lease_until, id
  FROM webhooks_outbox
  WHERE (?1 = '' OR verifier_id = ?1) AND (?2 = '' OR status = ?2)
  ORDER BY id DESC LIMIT ?3)sql";
constexpr std::string_view kFindDelivery = R"sql(
  SELECT event_id, verifier_id, proof_id, event_type, payload, created_at, traceparent, status, attempts,
         next_attempt_at, delivered_at, last_error, lease_owner, lease_until, id
  FROM webhooks_outbox WHERE event_id = ?1)sql";
constexpr std::string_view kDeliveryAttempts = R"sql(
  SELECT event_id, attempt, started_at, status_code, latency_ms, error
  FROM webhook_attempts WHERE event_id = ?1 ORDER BY attempt)sql";

// The attempts (and their count) stay: new attempts are numbered after them.
constexpr std::string_view kReplay = R"sql(
  UPDATE webhooks_outbox
  SET status = 'pending', next_attempt_at = ?2, delivered_at = NULL, lease_owner = NULL,
      lease_until = 0
  WHERE event_id = ?1 AND status IN ('delivered', 'dead')
  RETURNING 1)sql";
constexpr std::string_view kCountByStatus =
    "SELECT status, count(*) AS count FROM webhooks_outbox GROUP BY status";

constexpr std::string_view kSaveIdempotency = R"sql(
  INSERT OR REPLACE INTO idempotency_keys (verifier_id, key, body_hash, status, response,
                                           expires_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6))sql";
constexpr std::string_view kFindIdempotency = R"sql(
  SELECT verifier_id, key, body_hash, status, response, expires_at
  FROM idempotency_keys WHERE verifier_id = ?1 AND key = ?2)sql";

constexpr std::string_view kFindRoot = R"sql(
  SELECT issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox
  FROM issuer_roots WHERE issuer_id = ?1 AND root = ?2 AND sandbox = ?3)sql";
constexpr std::string_view kLatestFeedRoot = R"sql(
  SELECT issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox
  FROM issuer_roots WHERE issuer_id = ?1 AND sandbox = ?2 AND seq > 0
  ORDER BY seq DESC LIMIT 1)sql";
constexpr std::string_view kSupersedeRoots = R"sql(
  UPDATE issuer_roots SET superseded_at = ?2
  WHERE issuer_id = ?1 AND sandbox = ?3 AND superseded_at = 0)sql";
constexpr std::string_view kInsertCurrentRoot = R"sql(
  INSERT INTO issuer_roots (issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox)
  VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6))sql";
// A stored key keeps its public key and the entry that announced it; its end only comes sooner
// (0 is "no end"), as in feed::ChainState::accept.
constexpr std::string_view kUpsertFeedKey = R"sql(
  INSERT INTO feed_keys (issuer_id, key_id, public_key, valid_until, announced_seq, sandbox)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6)
  ON CONFLICT (issuer_id, sandbox, key_id) DO UPDATE SET valid_until = CASE
    WHEN feed_keys.valid_until = 0 THEN excluded.valid_until
    WHEN excluded.valid_until = 0 THEN feed_keys.valid_until
    ELSE min(feed_keys.valid_until, excluded.valid_until) END)sql";
constexpr std::string_view kFeedKeys = R"sql(
  SELECT issuer_id, key_id, public_key, valid_until, announced_seq, sandbox FROM feed_keys
  WHERE issuer_id = ?1 AND sandbox = ?2 ORDER BY announced_seq, key_id)sql";
constexpr std::string_view kRecentRoots = R"sql(
  SELECT issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox
  FROM issuer_roots WHERE issuer_id = ?1 AND sandbox = ?3
    AND (superseded_at = 0 OR superseded_at >= ?2)
  ORDER BY superseded_at = 0 DESC, superseded_at DESC, published_at DESC)sql";

constexpr std::string_view kSetCircuitEnabled = R"sql(
  INSERT INTO circuit_versions (claim_type, semver, enabled, updated_at)
  VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (claim_type, semver)
  DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at)sql";
constexpr std::string_view kCircuitEnabled =
    "SELECT enabled FROM circuit_versions WHERE claim_type = ?1 AND semver = ?2";

// --- The audit trail (core::AuditStore). Oldest first is (at, id): the audit_logs_at index. ---

constexpr std::string_view kInsertAudit = R"sql(
  INSERT INTO audit_logs (actor_type, actor_id, action, details, at, seq, prev_hash, hash)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql";
constexpr std::string_view kListAudit = R"sql(
  SELECT id, actor_type, actor_id, action, details, at, seq, prev_hash, hash FROM audit_logs
  WHERE at >= ?1 AND at < ?2 ORDER BY seq LIMIT ?3)sql";
constexpr std::string_view kLatestAudit = R"sql(
  SELECT id, actor_type, actor_id, action, details, at, seq, prev_hash, hash FROM audit_logs
  ORDER BY seq DESC LIMIT ?1)sql";
constexpr std::string_view kOldestAudit = R"sql(
  SELECT id, actor_type, actor_id, action, details, at, seq, prev_hash, hash FROM audit_logs
  WHERE at < ?1 ORDER BY seq LIMIT ?2)sql";
// The chain head (0007_audit_chain_and_latency.sql); the store's write lock serializes writers.
constexpr std::string_view kAuditHead = "SELECT seq, hash, at FROM audit_chain WHERE id = 1";
constexpr std::string_view kSetAuditHead =
    "UPDATE audit_chain SET seq = ?1, hash = ?2, at = ?3 WHERE id = 1";
constexpr std::string_view kUnchainedAudit = R"sql(
  SELECT id, actor_type, actor_id, action, details, at, seq, prev_hash, hash FROM audit_logs
  WHERE seq IS NULL
  ORDER BY id)sql";
constexpr std::string_view kChainAudit = R"sql(
  UPDATE audit_logs SET seq = ?2, prev_hash = ?3, hash = ?4, details = ?5, at = ?6
  WHERE id = ?1)sql";
constexpr std::string_view kDeleteAudit = "DELETE FROM audit_logs WHERE id = ?1";
// --- The usage report (core::UsageStore): proofs grouped by UTC bucket, claim type, partner ---
// Test-mode clients never count (docs/partners.md, "Keys and modes").

constexpr std::string_view kUsageCounts = R"sql(
  SELECT created_at / ?3 * ?3 AS bucket, claim_type, verifier_id, status,
         COALESCE(error_code, '') AS error_code, count(*) AS count
  FROM proofs
  WHERE created_at >= ?1 AND created_at < ?2 AND (?4 = '' OR claim_type = ?4)
    AND (?5 = '' OR verifier_id = ?5)
    AND verifier_id NOT IN (SELECT id FROM api_clients WHERE mode = 'test')
  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5)sql";
// Nearest-rank percentiles: the latency at rank ceil(p * n), p in percent.
constexpr std::string_view kUsageLatencies = R"sql(
  WITH ranked AS (
    SELECT created_at / ?3 * ?3 AS bucket, claim_type, verifier_id, latency_ms,
           row_number() OVER w AS rank, count(*) OVER w AS n
    FROM proofs
    WHERE created_at >= ?1 AND created_at < ?2 AND latency_ms IS NOT NULL
      AND (?4 = '' OR claim_type = ?4) AND (?5 = '' OR verifier_id = ?5)
    AND verifier_id NOT IN (SELECT id FROM api_clients WHERE mode = 'test')
    WINDOW w AS (PARTITION BY created_at / ?3, claim_type, verifier_id ORDER BY latency_ms
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
  SELECT bucket, claim_type, verifier_id, n,
         min(CASE WHEN rank >= (n * 50 + 99) / 100 THEN latency_ms END) AS p50_ms,
         min(CASE WHEN rank >= (n * 95 + 99) / 100 THEN latency_ms END) AS p95_ms
  FROM ranked GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3)sql";
constexpr std::string_view kAnonymiseUser =
    "UPDATE proofs SET user_id = NULL WHERE user_id = ?1 RETURNING 1";

/// A connection and the statements of the reads that a read connection may answer (the verify
/// path's reads and ping). `db` comes first so that it is destroyed last, after every statement is
/// finalized.
struct Reader {
  DatabaseHandle db;
  StatementHandle ping, find_client_by_prefix, find_client, find_request, find_proof,
      nonce_answered, find_idempotency, circuit_enabled, recent_roots, find_root;
};

/// The write connection: the reads above and every other statement the store runs, prepared once.
/// Reader (with `db`) is the base, so its members are destroyed after these statements.
struct Handles : Reader {
  StatementHandle begin, commit, rollback, savepoint, release_savepoint, rollback_savepoint;
  StatementHandle insert_client, list_clients, touch_client;
  StatementHandle claim_domain, client_revoked_at, revoke_key, mark_revoked;
  StatementHandle list_clients_after, client_keys, touch_key, insert_key, expire_keys,
      set_current_key, update_client, update_twin, release_domains, set_suspended;
  StatementHandle insert_request;
  StatementHandle insert_proof;
  StatementHandle insert_outbox_event, pending_events;
  StatementHandle webhook_target, rotate_webhook_secret, claim_due, finish_delivery, insert_attempt,
      next_due, list_deliveries, find_delivery, delivery_attempts, replay, count_by_status;
  StatementHandle save_idempotency;
  StatementHandle latest_feed_root, supersede_roots, insert_current_root;
  StatementHandle upsert_feed_key, feed_keys;
  StatementHandle set_circuit_enabled;
  StatementHandle insert_audit, list_audit, latest_audit, oldest_audit, delete_audit,
      anonymise_user;
  StatementHandle audit_head, set_audit_head, unchained_audit, chain_audit;
  StatementHandle usage_counts, usage_latencies;
};

/// Prepares the statements of a Reader on `r.db`.
void prepare_reads(Reader& r, std::string_view operation) {
  sqlite3* raw = r.db.get();
  r.ping = prepare(raw, kPing, operation);
  r.find_client_by_prefix = prepare(raw, kFindClientByPrefix, operation);
  r.find_client = prepare(raw, kFindClient, operation);
  r.find_request = prepare(raw, kFindRequest, operation);
  r.find_proof = prepare(raw, kFindProof, operation);
  r.nonce_answered = prepare(raw, kNonceAnswered, operation);
  r.find_idempotency = prepare(raw, kFindIdempotency, operation);
  r.circuit_enabled = prepare(raw, kCircuitEnabled, operation);
  r.recent_roots = prepare(raw, kRecentRoots, operation);
  r.find_root = prepare(raw, kFindRoot, operation);
}

/// BEGIN IMMEDIATE ... COMMIT on the connection's prepared statements (sqlite::Transaction).
class Transaction : public sqlite::Transaction {
 public:
  Transaction(Handles& h, std::string_view operation)
      : sqlite::Transaction(h.db.get(), h.begin, h.commit, h.rollback, operation) {}
};

// --- Steps shared by several operations (the caller holds the lock) ---

void insert_outbox_row(Handles& h, const core::OutboxEvent& event, core::UnixMillis due,
                       std::string_view operation) {
  Query(h.db.get(), h.insert_outbox_event, operation)
      .text(1, event.event_id)
      .text(2, event.client_id)
      .nullable_text(3, event.proof_id)
      .text(4, event.event_type)
      .text(5, event.payload)
      .integer(6, due)
      .integer(7, event.created_at)
      .text(8, event.traceparent)
      .run();
}

bool answered(Reader& h, std::string_view client_id, std::string_view nonce,
              std::string_view operation) {
  Query query(h.db.get(), h.nonce_answered, operation);
  query.text(1, client_id).text(2, nonce);
  return query.step();
}

void write_idempotency(Handles& h, const core::IdempotencyRecord& record,
                       std::string_view operation) {
  Query query(h.db.get(), h.save_idempotency, operation);
  query.text(1, record.client_id)
      .text(2, record.key)
      .text(3, record.body_hash)
      .integer(4, record.status)
      .text(5, record.response)
      .integer(6, record.expires_at);
  query.run();
}

/// record_proof's write inside a group's transaction: false (the caller undoes it) when a proof
/// row answers the nonce already.
bool write_proof(Handles& h, const core::ProofRecord& proof, const core::OutboxEvent* event,
                 const core::IdempotencyRecord* idempotency) {
  constexpr std::string_view kOperation = "record_proof";
  // Under the write lock nobody can answer the nonce between this check and the insert (a write
  // earlier in the same group is seen too); the unique constraint stays the last word should
  // another writer have slipped in regardless.
  if (answered(h, proof.client_id, proof.request_nonce, kOperation)) return false;
  try {
    Query query(h.db.get(), h.insert_proof, kOperation);
    query.text(1, proof.id)
        .text(2, proof.client_id)
        .text(3, proof.claim_type)
        .text(4, proof.circuit_version)
        .text(5, proof.status)
        .nullable_text(6, proof.error_code)
        .text(7, proof.public_hash)
        .text(8, proof.request_nonce)
        .integer(9, proof.created_at)
        .nullable_integer(10, proof.verified_at);
    if (proof.latency_ms >= 0) query.integer(11, proof.latency_ms);  // unbound: NULL
    query.nullable_text(12, proof.user_id);
    query.run();
  } catch (const SqliteError& error) {
    if (error.code() == SQLITE_CONSTRAINT_UNIQUE &&
        answered(h, proof.client_id, proof.request_nonce, kOperation)) {
      return false;
    }
    throw;
  }
  if (event != nullptr) insert_outbox_row(h, *event, event->created_at, kOperation);
  if (idempotency != nullptr) write_idempotency(h, *idempotency, kOperation);
  return true;
}

void write_key(Handles& h, std::string_view client_id, const core::ClientKey& key,
               std::string_view operation) {
  Query(h.db.get(), h.insert_key, operation)
      .text(1, key.prefix)
      .text(2, client_id)
      .blob(3, key.hash.data(), key.hash.size())
      .integer(4, key.created_at)
      .nullable_integer(5, key.expires_at)
      .nullable_integer(6, key.last_used_at)
      .run();
}

/// Claims the partner's domains; the first one another partner holds, or nullopt.
std::optional<std::string> claim_domains(Handles& h, const core::Client& client,
                                         std::string_view operation) {
  for (const std::string& domain : client.domains) {
    Query claim(h.db.get(), h.claim_domain, operation);
    if (!claim.text(1, domain).text(2, client.id).step()) return domain;
  }
  return std::nullopt;
}

/// The partner row, its key and its domains; the first domain another partner holds, or nullopt.
std::optional<std::string> write_client(Handles& h, const core::Client& client,
                                        std::string_view operation) {
  const std::string scopes = strings_to_json(client.scopes);
  const std::string domains = strings_to_json(client.domains);
  Query(h.db.get(), h.insert_client, operation)
      .text(1, client.id)
      .text(2, client.name)
      .text(3, client.key_prefix)
      .blob(4, client.key_hash.data(), client.key_hash.size())
      .text(5, scopes)
      .text(6, domains)
      .nullable_text(7, client.webhook_url)
      .nullable_blob(8, client.webhook_secret_sealed)
      .integer(9, client.created_at)
      .nullable_integer(10, client.last_used)
      .text(11, core::mode_name(client.mode))
      .nullable_text(12, client.live_client_id)
      .run();
  write_key(h, client.id,
            {client.key_prefix, client.key_hash, client.created_at, 0, 0, client.last_used},
            operation);
  if (!client.client_secret_hash.empty()) {
    const auto statement = prepare(h.db.get(), kInsertClientSecret, operation, false);
    Query(h.db.get(), statement, operation)
        .text(1, client.id)
        .nullable_blob(2, client.client_secret_hash)
        .integer(3, client.created_at)
        .run();
  }
  // A test client claims no domain: its partner's live side holds them.
  return client.mode == core::Mode::kTest ? std::nullopt : claim_domains(h, client, operation);
}

core::AuditChainHead read_audit_head(Handles& h, std::string_view operation) {
  Query query(h.db.get(), h.audit_head, operation);
  if (!query.step()) fail(operation, "the audit chain head is missing");
  const Row row(query);
  return core::AuditChainHead{row.integer("seq"), row.text("hash"), row.integer("at")};
}

void write_audit_head(Handles& h, const core::AuditChainHead& head, std::string_view operation) {
  Query(h.db.get(), h.set_audit_head, operation)
      .integer(1, head.seq)
      .text(2, head.hash)
      .integer(3, head.at)
      .run();
}

/// Checks `entry` as record_audit promises and appends it at the chain's head, inside the
/// caller's transaction (which holds the database's write lock: BEGIN IMMEDIATE): a refusal
/// throws there and rolls back whatever the transaction changed before.
void write_audit(Handles& h, const core::AuditEntry& entry, std::string_view operation) {
  // The column's CHECK refuses a non-object too; this names the problem first.
  core::AuditEntry chained = entry;
  chained.details_json = audit_details_json(entry, operation, kStoreName);
  const core::AuditChainHead head = core::chain_audit_entry(chained, read_audit_head(h, operation));
  Query(h.db.get(), h.insert_audit, operation)
      .text(1, chained.actor_type)
      .nullable_text(2, chained.actor_id)
      .text(3, chained.action)
      .text(4, chained.details_json)
      .integer(5, chained.at)
      .integer(6, chained.seq)
      .text(7, chained.prev_hash)
      .text(8, chained.hash)
      .run();
  write_audit_head(h, head, operation);
}

/// Chains the entries written before the chain existed, in id order, after the head.
void chain_legacy_audit(Handles& h, std::string_view operation) {
  std::vector<core::AuditEntry> rows;
  {
    Query query(h.db.get(), h.unchained_audit, operation);
    while (query.step()) rows.push_back(audit_from_row(Row(query)));
  }
  if (rows.empty()) return;
  core::AuditChainHead head = read_audit_head(h, operation);
  for (core::AuditEntry& row : rows) {
    head = core::chain_audit_entry(row, head, /*keep_at=*/true);
    Query(h.db.get(), h.chain_audit, operation)
        .integer(1, row.id)
        .integer(2, row.seq)
        .text(3, row.prev_hash)
        .text(4, row.hash)
        .text(5, row.details_json)
        .integer(6, row.at)
        .run();
  }
  write_audit_head(h, head, operation);
}

/// Publishes `root` as current; false when it is current already (nothing to change).
std::optional<core::IssuerRoot> read_root(Reader& h, StatementHandle& statement,
                                          std::uint32_t issuer_id, const std::string_view* root,
                                          bool sandbox, std::string_view operation) {
  Query query(h.db.get(), statement, operation);
  query.integer(1, issuer_id);
  if (root) query.text(2, *root);
  query.integer(root ? 3 : 2, sandbox ? 1 : 0);
  if (!query.step()) return std::nullopt;
  return root_from_row(Row(query));
}

core::PublishOutcome write_root(Handles& h, const core::IssuerRoot& root, core::UnixMillis now,
                                std::string_view operation) {
  const std::string_view text = root.root;
  if (const auto known =
          read_root(h, h.find_root, root.issuer_id, &text, root.sandbox, operation)) {
    return known->superseded_at == 0 ? core::PublishOutcome::kAlreadyCurrent
                                     : core::PublishOutcome::kReplacedBefore;
  }
  // A root belongs to one side: a sandbox root made live would let sandbox credentials pass.
  if (read_root(h, h.find_root, root.issuer_id, &text, !root.sandbox, operation))
    return core::PublishOutcome::kOtherSide;
  Query(h.db.get(), h.supersede_roots, operation)
      .integer(1, root.issuer_id)
      .integer(2, now)
      .integer(3, root.sandbox ? 1 : 0)
      .run();
  Query(h.db.get(), h.insert_current_root, operation)
      .integer(1, root.issuer_id)
      .text(2, root.root)
      .integer(3, now)
      .integer(4, static_cast<std::int64_t>(root.seq))
      .integer(5, root.issued_at != 0 ? root.issued_at : now)
      .integer(6, root.sandbox ? 1 : 0)
      .run();
  return core::PublishOutcome::kPublished;
}

void write_feed_keys(Handles& h, const std::vector<core::FeedKey>& keys,
                     std::string_view operation) {
  for (const core::FeedKey& key : keys) {
    Query(h.db.get(), h.upsert_feed_key, operation)
        .integer(1, key.issuer_id)
        .text(2, key.key_id)
        .text(3, key.public_key)
        .integer(4, key.valid_until)
        .integer(5, static_cast<std::int64_t>(key.announced_seq))
        .integer(6, key.sandbox ? 1 : 0)
        .run();
  }
}

void write_circuit_enabled(Handles& h, std::string_view claim_type, std::string_view version,
                           bool enabled, core::UnixMillis now, std::string_view operation) {
  Query(h.db.get(), h.set_circuit_enabled, operation)
      .text(1, claim_type)
      .text(2, version)
      .integer(3, enabled ? 1 : 0)
      .integer(4, now)
      .run();
}

/// False when there is no such partner.
bool write_rotation(Handles& h, std::string_view client_id, std::string_view new_secret_sealed,
                    core::UnixMillis previous_until, std::string_view url,
                    std::string_view operation) {
  Query query(h.db.get(), h.rotate_webhook_secret, operation);
  query.text(1, client_id)
      .nullable_blob(2, new_secret_sealed)
      .integer(3, previous_until)
      .nullable_text(4, url);
  return query.step();
}

/// False when there is no such row or it is pending already.
bool write_replay(Handles& h, std::string_view event_id, core::UnixMillis now,
                  std::string_view operation) {
  Query query(h.db.get(), h.replay, operation);
  return query.text(1, event_id).integer(2, now).step();
}

std::size_t write_anonymisation(Handles& h, std::string_view user_id, std::string_view operation) {
  std::size_t changed = 0;
  Query query(h.db.get(), h.anonymise_user, operation);
  query.text(1, user_id);
  while (query.step()) ++changed;
  return changed;
}

}  // namespace

struct SqliteStore::Connection : Handles {};

/// The read connections: a read takes a free one (or waits for one), so reads never queue behind
/// the write connection's transaction and its fsync. WAL gives each read the latest committed
/// state, which a commit makes visible only once it is durable.
class SqliteStore::ReadPool {
 public:
  ReadPool(const std::string& path, std::size_t count, int busy_timeout_ms,
           std::string_view operation) {
    for (std::size_t i = 0; i < count; ++i) {
      auto reader = std::make_unique<Reader>();
      reader->db = open_reader(path, busy_timeout_ms, operation);
      prepare_reads(*reader, operation);
      free_.push_back(reader.get());
      readers_.push_back(std::move(reader));
    }
  }
  Reader& take() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !free_.empty(); });
    Reader* reader = free_.back();
    free_.pop_back();
    return *reader;
  }
  void give(Reader& reader) {
    {
      std::lock_guard lock(mutex_);
      free_.push_back(&reader);
    }
    available_.notify_one();
  }

 private:
  std::vector<std::unique_ptr<Reader>> readers_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Reader*> free_;
};

/// One read's connection: a pooled one, or the write connection under its lock when the store has
/// no read connections.
class SqliteStore::ReadLease {
 public:
  explicit ReadLease(ReadPool& pool) : pool_(&pool), reader_(&pool.take()) {}
  ReadLease(std::mutex& mutex, Reader& reader) : lock_(mutex), reader_(&reader) {}
  ~ReadLease() {
    if (pool_ != nullptr) pool_->give(*reader_);
  }
  ReadLease(const ReadLease&) = delete;
  ReadLease& operator=(const ReadLease&) = delete;
  Reader& operator*() const noexcept { return *reader_; }
  Reader* operator->() const noexcept { return reader_; }

 private:
  ReadPool* pool_ = nullptr;
  std::unique_lock<std::mutex> lock_;
  Reader* reader_;
};

SqliteStore::ReadLease SqliteStore::read_connection() {
  if (readers_) return ReadLease(*readers_);
  return ReadLease(mutex_, *connection_);
}

void SqliteStore::run_group(std::span<CommitGroup::Write* const> group) {
  constexpr std::string_view kOperation = "commit group";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  sqlite3* db = h.db.get();
  Transaction transaction(h, kOperation);
  for (CommitGroup::Write* write : group) {
    Query(db, h.savepoint, kOperation).run();
    try {
      write->kept = write->apply();
    } catch (...) {
      write->kept = false;
      write->error = std::current_exception();
    }
    // SQLite ends the whole transaction on some errors (I/O, disk full): the writes before this
    // one are gone too, so the group fails as one (CommitGroup gives each write this error).
    if (sqlite3_get_autocommit(db) != 0) {
      if (write->error) std::rethrow_exception(write->error);
      fail(kOperation, "the transaction ended inside a write of the group");
    }
    if (!write->kept) Query(db, h.rollback_savepoint, kOperation).run();
    Query(db, h.release_savepoint, kOperation).run();
  }
  transaction.commit();
}

bool SqliteStore::grouped(std::function<bool()> apply) {
  CommitGroup::Write write;
  write.apply = std::move(apply);
  return group_->submit(write);
}

CommitGroup::Stats SqliteStore::commit_stats() const {
  return group_->stats();
}

SqliteStore::SqliteStore(const SqliteSettings& settings)
    : connection_(std::make_unique<Connection>()) {
  std::string synchronous = settings.synchronous;
  std::transform(synchronous.begin(), synchronous.end(), synchronous.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (synchronous != "FULL" && synchronous != "NORMAL") {
    fail("open", "synchronous must be FULL or NORMAL, not '" + settings.synchronous + "'");
  }
  if (settings.busy_timeout_ms < 0) fail("open", "busy_timeout_ms must not be negative");
  if (settings.max_commit_group == 0) fail("open", "max_commit_group must be at least 1");
  if (settings.path.empty()) fail("open", "no database path");

  Handles& h = *connection_;
  const std::string path = settings.path.string();
  const std::string open_operation = "open " + path;
  // mutex_ serializes every use of the connection (open_database opens it NOMUTEX).
  h.db = open_database(path, synchronous, settings.busy_timeout_ms, open_operation);
  sqlite3* raw = h.db.get();

  h.begin = prepare(raw, kBegin, open_operation);
  h.commit = prepare(raw, kCommit, open_operation);
  h.rollback = prepare(raw, kRollback, open_operation);
  migrate(raw, h.begin, h.commit, h.rollback, sqlite_migrations(), open_operation);

  prepare_reads(h, open_operation);
  h.savepoint = prepare(raw, kSavepoint, open_operation);
  h.release_savepoint = prepare(raw, kReleaseSavepoint, open_operation);
  h.rollback_savepoint = prepare(raw, kRollbackSavepoint, open_operation);

  h.insert_client = prepare(raw, kInsertClient, open_operation);
  h.list_clients = prepare(raw, kListClients, open_operation);
  h.touch_client = prepare(raw, kTouchClient, open_operation);
  h.claim_domain = prepare(raw, kClaimDomain, open_operation);
  h.client_revoked_at = prepare(raw, kClientRevokedAt, open_operation);
  h.revoke_key = prepare(raw, kRevokeKey, open_operation);
  h.mark_revoked = prepare(raw, kMarkRevoked, open_operation);
  h.list_clients_after = prepare(raw, kListClientsAfter, open_operation);
  h.client_keys = prepare(raw, kClientKeys, open_operation);
  h.touch_key = prepare(raw, kTouchKey, open_operation);
  h.insert_key = prepare(raw, kInsertKey, open_operation);
  h.expire_keys = prepare(raw, kExpireKeys, open_operation);
  h.set_current_key = prepare(raw, kSetCurrentKey, open_operation);
  h.update_client = prepare(raw, kUpdateClient, open_operation);
  h.update_twin = prepare(raw, kUpdateTwin, open_operation);
  h.release_domains = prepare(raw, kReleaseDomains, open_operation);
  h.set_suspended = prepare(raw, kSetSuspended, open_operation);
  h.insert_request = prepare(raw, kInsertRequest, open_operation);
  h.insert_proof = prepare(raw, kInsertProof, open_operation);
  h.insert_outbox_event = prepare(raw, kInsertOutboxEvent, open_operation);
  h.pending_events = prepare(raw, kPendingEvents, open_operation);
  h.webhook_target = prepare(raw, kWebhookTarget, open_operation);
  h.rotate_webhook_secret = prepare(raw, kRotateWebhookSecret, open_operation);
  h.claim_due = prepare(raw, kClaimDue, open_operation);
  h.finish_delivery = prepare(raw, kFinishDelivery, open_operation);
  h.insert_attempt = prepare(raw, kInsertAttempt, open_operation);
  h.next_due = prepare(raw, kNextDue, open_operation);
  h.list_deliveries = prepare(raw, kListDeliveries, open_operation);
  h.find_delivery = prepare(raw, kFindDelivery, open_operation);
  h.delivery_attempts = prepare(raw, kDeliveryAttempts, open_operation);
  h.replay = prepare(raw, kReplay, open_operation);
  h.count_by_status = prepare(raw, kCountByStatus, open_operation);
  h.save_idempotency = prepare(raw, kSaveIdempotency, open_operation);
  h.latest_feed_root = prepare(raw, kLatestFeedRoot, open_operation);
  h.supersede_roots = prepare(raw, kSupersedeRoots, open_operation);
  h.insert_current_root = prepare(raw, kInsertCurrentRoot, open_operation);
  h.upsert_feed_key = prepare(raw, kUpsertFeedKey, open_operation);
  h.feed_keys = prepare(raw, kFeedKeys, open_operation);
  h.set_circuit_enabled = prepare(raw, kSetCircuitEnabled, open_operation);
  h.insert_audit = prepare(raw, kInsertAudit, open_operation);
  h.list_audit = prepare(raw, kListAudit, open_operation);
  h.latest_audit = prepare(raw, kLatestAudit, open_operation);
  h.oldest_audit = prepare(raw, kOldestAudit, open_operation);
  h.delete_audit = prepare(raw, kDeleteAudit, open_operation);
  h.anonymise_user = prepare(raw, kAnonymiseUser, open_operation);
  h.audit_head = prepare(raw, kAuditHead, open_operation);
  h.set_audit_head = prepare(raw, kSetAuditHead, open_operation);
  h.unchained_audit = prepare(raw, kUnchainedAudit, open_operation);
  h.chain_audit = prepare(raw, kChainAudit, open_operation);
  h.usage_counts = prepare(raw, kUsageCounts, open_operation);
  h.usage_latencies = prepare(raw, kUsageLatencies, open_operation);
  {
    Transaction transaction(h, open_operation);
    chain_legacy_audit(h, open_operation);
    transaction.commit();
  }
  // Read connections need WAL (a ":memory:" database would give each connection its own).
  if (settings.read_connections > 0 &&
      pragma_value(raw, "PRAGMA journal_mode", open_operation) == "wal") {
    readers_ = std::make_unique<ReadPool>(path, settings.read_connections, settings.busy_timeout_ms,
                                          open_operation);
  }
  group_ = std::make_unique<CommitGroup>(
      settings.max_commit_group,
      [this](std::span<CommitGroup::Write* const> group) { run_group(group); });
}

SqliteStore::~SqliteStore() = default;

int SqliteStore::latest_schema_version() noexcept {
  return sqlite_migrations().back().version;
}

int SqliteStore::schema_version() {
  std::lock_guard lock(mutex_);
  return applied_schema_version(connection_->db.get());
}

bool SqliteStore::ping() noexcept {
  try {
    ReadLease reader = read_connection();
    Query query(reader->db.get(), reader->ping, "ping");
    return query.step() && Row(query).integer("one") == 1;
  } catch (...) {
    return false;
  }
}

void SqliteStore::insert_client(const core::Client& client) {
  constexpr std::string_view kOperation = "insert_client";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  if (const auto taken = write_client(h, client, kOperation)) {
    fail(kOperation, "the verifier domain '" + *taken + "' belongs to another partner",
         SQLITE_CONSTRAINT_PRIMARYKEY);
  }
  transaction.commit();
}

std::optional<core::Client> SqliteStore::find_client_by_prefix(std::string_view key_prefix,
                                                               core::UnixMillis now) {
  ReadLease reader = read_connection();
  Query query(reader->db.get(), reader->find_client_by_prefix, "find_client_by_prefix");
  query.text(1, key_prefix).integer(2, now);
  if (!query.step()) return std::nullopt;
  return client_from_row(Row(query), kStoreName);
}

std::vector<core::Client> SqliteStore::list_clients() {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->list_clients, "list_clients");
  std::vector<core::Client> clients;
  while (query.step()) clients.push_back(client_from_row(Row(query), kStoreName));
  return clients;
}

void SqliteStore::touch_client(std::string_view client_id, std::string_view key_prefix,
                               core::UnixMillis now) {
  constexpr std::string_view kOperation = "touch_client";
  grouped([&] {
    Handles& h = *connection_;
    Query(h.db.get(), h.touch_client, kOperation).text(1, client_id).integer(2, now).run();
    Query(h.db.get(), h.touch_key, kOperation).text(1, key_prefix).integer(2, now).run();
    return true;
  });
}

std::optional<core::Client> SqliteStore::find_client(std::string_view client_id) {
  ReadLease reader = read_connection();
  Query query(reader->db.get(), reader->find_client, "find_client");
  query.text(1, client_id);
  if (!query.step()) return std::nullopt;
  return client_from_row(Row(query), kStoreName);
}

std::vector<core::Client> SqliteStore::list_clients_after(core::UnixMillis after_created_at,
                                                          std::string_view after_id,
                                                          std::size_t limit) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->list_clients_after, "list_clients_after");
  query.integer(1, after_created_at).text(2, after_id).integer(3, sql_count(limit));
  std::vector<core::Client> clients;
  while (query.step()) clients.push_back(client_from_row(Row(query), kStoreName));
  return clients;
}

std::vector<core::ClientKey> SqliteStore::client_keys(std::string_view client_id) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->client_keys, "client_keys");
  query.text(1, client_id);
  std::vector<core::ClientKey> keys;
  while (query.step()) keys.push_back(key_from_row(Row(query), kStoreName));
  return keys;
}

void SqliteStore::insert_request(const core::ProofRequest& request) {
  constexpr std::string_view kOperation = "insert_request";
  const std::string params = params_to_json(request.params, kOperation, kStoreName);
  grouped([&] {
    Handles& h = *connection_;
    Query query(h.db.get(), h.insert_request, kOperation);
    query.text(1, request.id)
        .text(2, request.client_id)
        .text(3, request.nonce)
        .text(4, request.claim_type)
        .text(5, request.circuit_version)
        .text(6, request.verifier_domain)
        .text(7, params)
        .integer(8, request.created_at)
        .integer(9, request.expires_at);
    query.run();
    return true;
  });
}

std::optional<core::ProofRequest> SqliteStore::find_request(std::string_view client_id,
                                                            std::string_view nonce) {
  ReadLease reader = read_connection();
  Query query(reader->db.get(), reader->find_request, "find_request");
  query.text(1, client_id).text(2, nonce);
  if (!query.step()) return std::nullopt;
  return request_from_row(Row(query), kStoreName);
}

core::RecordOutcome SqliteStore::record_proof(const core::ProofRecord& proof,
                                              const core::OutboxEvent* event,
                                              const core::IdempotencyRecord* idempotency) {
  const bool stored = grouped([&] { return write_proof(*connection_, proof, event, idempotency); });
  return stored ? core::RecordOutcome::kStored : core::RecordOutcome::kNonceTaken;
}

std::optional<core::ProofRecord> SqliteStore::find_proof(std::string_view proof_id) {
  ReadLease reader = read_connection();
  Query query(reader->db.get(), reader->find_proof, "find_proof");
  query.text(1, proof_id);
  if (!query.step()) return std::nullopt;
  return proof_from_row(Row(query));
}

bool SqliteStore::nonce_answered(std::string_view client_id, std::string_view nonce) {
  ReadLease reader = read_connection();
  return answered(*reader, client_id, nonce, "nonce_answered");
}

std::optional<core::IdempotencyRecord> SqliteStore::find_idempotency(std::string_view client_id,
                                                                     std::string_view key,
                                                                     core::UnixMillis now) {
  ReadLease reader = read_connection();
  Query query(reader->db.get(), reader->find_idempotency, "find_idempotency");
  query.text(1, client_id).text(2, key);
  if (!query.step()) return std::nullopt;
  return idempotency_replay(idempotency_from_row(Row(query)), now);
}

void SqliteStore::save_idempotency(const core::IdempotencyRecord& record) {
  grouped([&] {
    write_idempotency(*connection_, record, "save_idempotency");
    return true;
  });
}

core::PublishOutcome SqliteStore::publish_root(const core::IssuerRoot& root, core::UnixMillis now) {
  constexpr std::string_view kOperation = "publish_root";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  const auto outcome = write_root(h, root, now, kOperation);
  if (outcome == core::PublishOutcome::kPublished) transaction.commit();
  return outcome;
}

core::PublishOutcome SqliteStore::publish_feed_root(const core::IssuerRoot& root,
                                                    const std::vector<core::FeedKey>& keys,
                                                    core::UnixMillis now) {
  constexpr std::string_view kOperation = "publish_feed_root";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  const auto outcome = write_root(h, root, now, kOperation);
  if (outcome != core::PublishOutcome::kPublished) return outcome;  // rolls back
  write_feed_keys(h, keys, kOperation);
  transaction.commit();
  return outcome;
}

std::vector<core::FeedKey> SqliteStore::feed_keys(std::uint32_t issuer_id, bool sandbox) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->feed_keys, "feed_keys");
  query.integer(1, issuer_id).integer(2, sandbox ? 1 : 0);
  std::vector<core::FeedKey> keys;
  while (query.step()) keys.push_back(feed_key_from_row(Row(query)));
  return keys;
}

std::optional<core::IssuerRoot> SqliteStore::find_root(std::uint32_t issuer_id,
                                                       std::string_view root, bool sandbox) {
  ReadLease reader = read_connection();
  return read_root(*reader, reader->find_root, issuer_id, &root, sandbox, "find_root");
}

std::optional<core::IssuerRoot> SqliteStore::latest_feed_root(std::uint32_t issuer_id,
                                                              bool sandbox) {
  std::lock_guard lock(mutex_);
  return read_root(*connection_, connection_->latest_feed_root, issuer_id, nullptr, sandbox,
                   "latest_feed_root");
}

std::vector<core::IssuerRoot> SqliteStore::recent_roots(std::uint32_t issuer_id,
                                                        core::UnixMillis since, bool sandbox) {
  ReadLease reader = read_connection();
  Query query(reader->db.get(), reader->recent_roots, "recent_roots");
  query.integer(1, issuer_id).integer(2, since).integer(3, sandbox ? 1 : 0);
  std::vector<core::IssuerRoot> roots;
  while (query.step()) roots.push_back(root_from_row(Row(query)));
  return roots;
}

void SqliteStore::set_circuit_enabled(std::string_view claim_type, std::string_view version,
                                      bool enabled, core::UnixMillis now) {
  constexpr std::string_view kOperation = "set_circuit_enabled";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  write_circuit_enabled(h, claim_type, version, enabled, now, kOperation);
  transaction.commit();
}

std::optional<bool> SqliteStore::circuit_enabled(std::string_view claim_type,
                                                 std::string_view version) {
  ReadLease reader = read_connection();
  Query query(reader->db.get(), reader->circuit_enabled, "circuit_enabled");
  query.text(1, claim_type).text(2, version);
  if (!query.step()) return std::nullopt;
  return Row(query).integer("enabled") != 0;
}

std::vector<core::OutboxEvent> SqliteStore::pending_events(std::size_t limit) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->pending_events, "pending_events");
  query.integer(1, sql_count(limit));
  std::vector<core::OutboxEvent> events;
  while (query.step()) events.push_back(event_from_row(Row(query)));
  return events;
}

// --- core::OutboxStore ---

std::optional<core::WebhookTarget> SqliteStore::webhook_target(std::string_view client_id) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->webhook_target, "webhook_target");
  query.text(1, client_id);
  if (!query.step()) return std::nullopt;
  return webhook_target_from_row(Row(query));
}

void SqliteStore::rotate_webhook_secret(std::string_view client_id,
                                        std::string_view new_secret_sealed,
                                        core::UnixMillis previous_until, std::string_view url) {
  constexpr std::string_view kOperation = "rotate_webhook_secret";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  if (!write_rotation(h, client_id, new_secret_sealed, previous_until, url, kOperation))
    fail(kOperation, "no partner '" + std::string(client_id) + "'");
  transaction.commit();
}

void SqliteStore::enqueue_event(const core::OutboxEvent& event, core::UnixMillis now) {
  constexpr std::string_view kOperation = "enqueue_event";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  insert_outbox_row(h, event, now, kOperation);
  transaction.commit();
}

std::vector<core::Delivery> SqliteStore::claim_due(std::string_view worker, core::UnixMillis now,
                                                   std::size_t limit, std::int64_t lease_ms,
                                                   std::size_t per_client_limit) {
  constexpr std::string_view kOperation = "claim_due";
  const core::UnixMillis lease_until = claim_lease_end(worker, now, lease_ms, kStoreName);
  std::vector<std::pair<std::int64_t, core::Delivery>> claimed;
  {
    std::lock_guard lock(mutex_);
    Handles& h = *connection_;
    Transaction transaction(h, kOperation);
    {
      Query query(h.db.get(), h.claim_due, kOperation);
      query.integer(1, now)
          .integer(2, sql_count(per_client_limit))
          .integer(3, sql_count(limit))
          .text(4, worker)
          .integer(5, lease_until);
      while (query.step()) {
        const Row row(query);
        claimed.emplace_back(row.integer("id"), delivery_from_row(row));
      }
    }
    transaction.commit();
  }
  return in_enqueue_order(std::move(claimed));
}

bool SqliteStore::finish_attempt(std::string_view worker, const core::AttemptOutcome& outcome) {
  constexpr std::string_view kOperation = "finish_attempt";
  const core::DeliveryAttempt& attempt = outcome.attempt;
  const FinishedRow finished = finished_row(outcome);
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  {
    Query query(h.db.get(), h.finish_delivery, kOperation);
    query.text(1, attempt.event_id).text(2, worker).text(3, finished.status);
    if (finished.next_attempt_at) {
      query.integer(4, *finished.next_attempt_at);
    } else {
      query.null(4);
    }
    if (finished.delivered_at) {
      query.integer(5, *finished.delivered_at);
    } else {
      query.null(5);
    }
    query.nullable_text(6, finished.last_error);
    // Not the owner (or not pending): the transaction rolls back, nothing written.
    if (!query.step()) return false;
    check_attempt_number(Row(query).integer("attempts"), attempt, kStoreName);
  }
  Query(h.db.get(), h.insert_attempt, kOperation)
      .text(1, attempt.event_id)
      .integer(2, attempt.attempt)
      .integer(3, attempt.started_at)
      .nullable_integer(4, attempt.status_code)
      .integer(5, attempt.latency_ms)
      .nullable_text(6, attempt.error)
      .run();
  transaction.commit();
  return true;
}

std::optional<core::UnixMillis> SqliteStore::next_due() {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->next_due, "next_due");
  if (!query.step() || Row(query).is_null("due")) return std::nullopt;
  return Row(query).integer("due");
}

std::vector<core::Delivery> SqliteStore::list_deliveries(std::string_view client_id,
                                                         std::string_view status,
                                                         std::size_t limit) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->list_deliveries, "list_deliveries");
  query.text(1, client_id).text(2, status).integer(3, sql_count(limit));
  std::vector<core::Delivery> deliveries;
  while (query.step()) deliveries.push_back(delivery_from_row(Row(query)));
  return deliveries;
}

std::optional<core::Delivery> SqliteStore::find_delivery(std::string_view event_id) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->find_delivery, "find_delivery");
  query.text(1, event_id);
  if (!query.step()) return std::nullopt;
  return delivery_from_row(Row(query));
}

std::vector<core::DeliveryAttempt> SqliteStore::delivery_attempts(std::string_view event_id) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->delivery_attempts, "delivery_attempts");
  query.text(1, event_id);
  std::vector<core::DeliveryAttempt> attempts;
  while (query.step()) attempts.push_back(attempt_from_row(Row(query)));
  return attempts;
}

bool SqliteStore::replay(std::string_view event_id, core::UnixMillis now) {
  constexpr std::string_view kOperation = "replay";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  if (!write_replay(h, event_id, now, kOperation)) return false;
  transaction.commit();
  return true;
}

std::vector<std::pair<std::string, std::int64_t>> SqliteStore::count_by_status() {
  StatusCounts counts;
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->count_by_status, "count_by_status");
  while (query.step()) {
    const Row row(query);
    counts.add(row.text("status"), row.integer("count"));
  }
  return counts.take();
}

// --- core::AuditStore ---

void SqliteStore::record_audit(const core::AuditEntry& entry) {
  constexpr std::string_view kOperation = "record_audit";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  write_audit(h, entry, kOperation);
  transaction.commit();
}

std::vector<core::AuditEntry> SqliteStore::list_audit(core::UnixMillis from, core::UnixMillis to,
                                                      std::size_t limit) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->list_audit, "list_audit");
  query.integer(1, from).integer(2, to).integer(3, sql_count(limit));
  std::vector<core::AuditEntry> entries;
  while (query.step()) entries.push_back(audit_from_row(Row(query)));
  return entries;
}

std::vector<core::AuditEntry> SqliteStore::latest_audit(std::size_t limit) {
  std::lock_guard lock(mutex_);
  Query query(connection_->db.get(), connection_->latest_audit, "latest_audit");
  query.integer(1, sql_count(limit));
  std::vector<core::AuditEntry> entries;
  while (query.step()) entries.push_back(audit_from_row(Row(query)));
  return entries;
}

std::size_t SqliteStore::take_audit_before(
    core::UnixMillis cutoff, std::size_t batch,
    const std::function<void(const std::vector<core::AuditEntry>&)>& archive) {
  return take_audit(cutoff, batch, archive_without_entry(archive, kStoreName));
}

std::size_t SqliteStore::archive_audit_before(
    core::UnixMillis cutoff, std::size_t batch,
    const std::function<core::AuditEntry(const std::vector<core::AuditEntry>&)>& archive) {
  return take_audit(cutoff, batch, archive_with_entry(archive, kStoreName));
}

std::size_t SqliteStore::take_audit(core::UnixMillis cutoff, std::size_t batch,
                                    const AuditArchive& archive) {
  constexpr std::string_view kOperation = "take_audit_before";
  return take_audit_batches(batch, kStoreName, [&] {
    std::lock_guard lock(mutex_);
    Handles& h = *connection_;
    Transaction transaction(h, kOperation);
    std::vector<core::AuditEntry> rows;
    {
      Query query(h.db.get(), h.oldest_audit, kOperation);
      query.integer(1, cutoff).integer(2, sql_count(batch));
      while (query.step()) rows.push_back(audit_from_row(Row(query)));
    }
    if (rows.empty()) return std::size_t{0};  // the empty transaction rolls back
    // Throws: the transaction rolls back, nothing deleted.
    const std::optional<core::AuditEntry> entry = archive(rows);
    for (const core::AuditEntry& row : rows) {
      Query(h.db.get(), h.delete_audit, kOperation).integer(1, row.id).run();
    }
    if (entry) write_audit(h, *entry, kOperation);
    transaction.commit();
    return rows.size();
  });
}

std::size_t SqliteStore::anonymise_user(std::string_view user_id) {
  constexpr std::string_view kOperation = "anonymise_user";
  if (user_id.empty()) return 0;
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  const std::size_t changed = write_anonymisation(h, user_id, kOperation);
  transaction.commit();
  return changed;
}

// --- core::UsageStore ---

core::UsageData SqliteStore::usage(const core::UsageQuery& q) {
  constexpr std::string_view kOperation = "usage";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  core::UsageData data;
  const auto bind = [&](Query& query) {
    query.integer(1, q.from)
        .integer(2, q.to)
        .integer(3, q.bucket_ms)
        .text(4, q.claim_type)
        .text(5, q.verifier_id);
  };
  {
    Query query(h.db.get(), h.usage_counts, kOperation);
    bind(query);
    while (query.step()) {
      const Row row(query);
      data.counts.push_back({row.integer("bucket"), row.text("claim_type"), row.text("verifier_id"),
                             row.text("status"), row.text("error_code"), row.integer("count")});
    }
  }
  Query query(h.db.get(), h.usage_latencies, kOperation);
  bind(query);
  while (query.step()) {
    const Row row(query);
    data.latencies.push_back({row.integer("bucket"), row.text("claim_type"),
                              row.text("verifier_id"), row.integer("n"), row.integer("p50_ms"),
                              row.integer("p95_ms")});
  }
  return data;
}

// --- core::AdminStore: each change with its audit entry, in one transaction ---

std::optional<std::string> SqliteStore::create_client(const core::Client& client,
                                                      const core::Client* test_twin,
                                                      const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "create_client";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  if (auto taken = write_client(h, client, kOperation)) return taken;  // rolls back
  if (test_twin) write_client(h, *test_twin, kOperation);
  write_audit(h, audit, kOperation);
  transaction.commit();
  return std::nullopt;
}

core::RevokeOutcome SqliteStore::revoke_key(std::string_view client_id, core::UnixMillis now,
                                            const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "revoke_key";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  {
    Query revoke(h.db.get(), h.revoke_key, kOperation);
    if (!revoke.text(1, client_id).integer(2, now).step()) {
      Query known(h.db.get(), h.client_revoked_at, kOperation);
      return known.text(1, client_id).step() ? core::RevokeOutcome::kAlreadyRevoked
                                             : core::RevokeOutcome::kUnknownClient;
    }
  }
  Query(h.db.get(), h.mark_revoked, kOperation).text(1, client_id).integer(2, now).run();
  write_audit(h, audit, kOperation);
  transaction.commit();
  return core::RevokeOutcome::kRevoked;
}

core::PublishOutcome SqliteStore::publish_root(const core::IssuerRoot& root, core::UnixMillis now,
                                               const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "publish_root";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  // Current already: nothing changes, the request is still audited.
  const auto outcome = write_root(h, root, now, kOperation);
  if (outcome == core::PublishOutcome::kReplacedBefore ||
      outcome == core::PublishOutcome::kOtherSide) {
    return outcome;
  }
  write_audit(h, audit, kOperation);
  transaction.commit();
  return outcome;
}

void SqliteStore::set_circuit_enabled(std::string_view claim_type, std::string_view version,
                                      bool enabled, core::UnixMillis now,
                                      const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_circuit_enabled";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  write_circuit_enabled(h, claim_type, version, enabled, now, kOperation);
  write_audit(h, audit, kOperation);
  transaction.commit();
}

bool SqliteStore::rotate_webhook_secret(std::string_view client_id,
                                        std::string_view new_secret_sealed,
                                        core::UnixMillis previous_until, std::string_view url,
                                        const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "rotate_webhook_secret";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  if (!write_rotation(h, client_id, new_secret_sealed, previous_until, url, kOperation))
    return false;
  write_audit(h, audit, kOperation);
  transaction.commit();
  return true;
}

bool SqliteStore::replay(std::string_view event_id, core::UnixMillis now,
                         const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "replay";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  if (!write_replay(h, event_id, now, kOperation)) return false;
  write_audit(h, audit, kOperation);
  transaction.commit();
  return true;
}

void SqliteStore::enqueue_event(const core::OutboxEvent& event, core::UnixMillis now,
                                const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "enqueue_event";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  insert_outbox_row(h, event, now, kOperation);
  write_audit(h, audit, kOperation);
  transaction.commit();
}

std::size_t SqliteStore::anonymise_user(std::string_view user_id,
                                        const std::function<core::AuditEntry(std::size_t)>& audit) {
  constexpr std::string_view kOperation = "anonymise_user";
  if (!audit) fail(kOperation, "no audit callback");
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  const std::size_t changed = user_id.empty() ? 0 : write_anonymisation(h, user_id, kOperation);
  write_audit(h, audit(changed), kOperation);
  transaction.commit();
  return changed;
}

std::optional<std::string> SqliteStore::update_client(const core::Client& client,
                                                      const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "update_client";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  {
    // Bound without a copy: the texts must outlive the statement's step.
    const std::string scopes = strings_to_json(client.scopes);
    const std::string domains = strings_to_json(client.domains);
    Query update(h.db.get(), h.update_client, kOperation);
    update.text(1, client.id)
        .text(2, client.name)
        .text(3, scopes)
        .text(4, domains)
        .nullable_text(5, client.webhook_url);
    if (!update.step()) fail(kOperation, "no partner '" + client.id + "'");
    Query twin(h.db.get(), h.update_twin, kOperation);
    twin.text(1, client.id).text(2, scopes).text(3, domains).run();
  }
  Query(h.db.get(), h.release_domains, kOperation).text(1, client.id).run();
  if (client.mode == core::Mode::kLive) {
    if (auto taken = claim_domains(h, client, kOperation)) return taken;  // rolls back
  }
  write_audit(h, audit, kOperation);
  transaction.commit();
  return std::nullopt;
}

core::ClientChange SqliteStore::set_client_suspended(std::string_view client_id,
                                                     core::UnixMillis suspended_at,
                                                     const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_client_suspended";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  {
    Query change(h.db.get(), h.set_suspended, kOperation);
    if (!change.text(1, client_id).nullable_integer(2, suspended_at).step()) {
      Query known(h.db.get(), h.client_revoked_at, kOperation);
      return known.text(1, client_id).step() ? core::ClientChange::kUnchanged
                                             : core::ClientChange::kUnknownClient;
    }
  }
  write_audit(h, audit, kOperation);
  transaction.commit();
  return core::ClientChange::kChanged;
}

core::ClientChange SqliteStore::rotate_key(std::string_view client_id, const core::ClientKey& key,
                                           core::UnixMillis old_expires_at,
                                           const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "rotate_key";
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  Transaction transaction(h, kOperation);
  {
    Query current(h.db.get(), h.set_current_key, kOperation);
    current.text(1, client_id).text(2, key.prefix).blob(3, key.hash.data(), key.hash.size());
    if (!current.step()) return core::ClientChange::kUnknownClient;
  }
  Query(h.db.get(), h.expire_keys, kOperation).text(1, client_id).integer(2, old_expires_at).run();
  write_key(h, client_id, key, kOperation);
  write_audit(h, audit, kOperation);
  transaction.commit();
  return core::ClientChange::kChanged;
}

bool SqliteStore::on_connection(std::string_view operation, const core::AuditEntry* audit,
                                const std::function<bool(sqlite3*)>& work) {
  // One transaction with the audit entry when there is one; a single read or write otherwise.
  return with_connection(operation, audit != nullptr, [&](sqlite3* db, const SideWrites& side) {
    if (!work(db)) return false;  // rolls back
    if (audit) side.audit(*audit);
    return true;
  });
}

bool SqliteStore::with_connection(std::string_view operation, bool write,
                                  const std::function<bool(sqlite3*, const SideWrites&)>& work) {
  std::lock_guard lock(mutex_);
  Handles& h = *connection_;
  const SideWrites side{[&](const core::AuditEntry& e) { write_audit(h, e, operation); },
                        [&](const core::OutboxEvent& e, core::UnixMillis due) {
                          insert_outbox_row(h, e, due, operation);
                        }};
  if (!write) return work(h.db.get(), side);
  Transaction transaction(h, operation);
  if (!work(h.db.get(), side)) return false;
  transaction.commit();
  return true;
}

}  // namespace pg::store
