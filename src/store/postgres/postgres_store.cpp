// core::Store, core::OutboxStore and core::AuditStore on PostgreSQL: the queries as named
// constants, the migration runner and the row <-> model mapping. Connections, parameters and
// results: connection.hpp.
#include "store/postgres/postgres_store.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "core/audit_chain.hpp"
#include "store/audit_batches.hpp"
#include "store/column_index.hpp"
#include "store/json_columns.hpp"
#include "store/outbox_rules.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/connection_pool.hpp"
#include "store/postgres/migrations.hpp"
#include "store/rows.hpp"

namespace pg::store {
namespace {

constexpr std::string_view kStoreName = "postgres store";  // error prefix

using postgres::Connection;
using postgres::ConnectionPool;
using postgres::ConnectionSettings;
using postgres::fail;
using postgres::Params;
using postgres::PostgresError;
using postgres::Result;
using postgres::Statement;
using postgres::Transaction;

// --- Advisory lock keys (ASCII tags, so they read in pg_locks). The one-bigint and two-integer
// key spaces never overlap. ---

constexpr std::int64_t kMigrationLockKey = 0x70676d67;  // 'pgmg': one migrator at a time
// 'pgpt' (ensure_proof_partitions, in 0001_init.sql) is taken in SQL.
constexpr std::int32_t kClaimLockClass = 0x7067636c;  // 'pgcl' + hashtext(partner id)
constexpr std::int32_t kRootLockClass = 0x70677274;   // 'pgrt' + issuer id

// --- Queries. Prepared ones are the hot path: prepared once on every pooled connection. ---

constexpr Statement kPing{"ping", "SELECT 1 AS one", false};

constexpr Statement kSchemaMigrationsExists{
    "schema_migrations_exists", "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
    false};
constexpr Statement kAppliedVersion{
    "applied_version", "SELECT coalesce(max(version), 0) AS version FROM schema_migrations", false};
constexpr Statement kRecordMigration{
    "record_migration", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", false};
constexpr Statement kTakeMigrationLock{"take_migration_lock", "SELECT pg_advisory_lock($1)", false};
constexpr Statement kReleaseMigrationLock{"release_migration_lock", "SELECT pg_advisory_unlock($1)",
                                          false};
constexpr Statement kEnsurePartitions{
    "ensure_partitions", "SELECT ensure_proof_partitions($1::integer) AS created", false};

// scopes and domains are text[]: written as array literals, read as JSON arrays.
constexpr Statement kInsertClient{"insert_client", R"sql(
  INSERT INTO api_clients (id, name, key_prefix, key_hash, scopes, domains, webhook_url,
                           webhook_secret_sealed, created_at, last_used, mode, live_client_id)
  VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9, $10, $11, $12))sql",
                                  false};
constexpr Statement kInsertClientSecret{"insert_client_secret", R"sql(
  INSERT INTO client_secrets (client_id, secret_hash, updated_at) VALUES ($1, $2, $3))sql",
                                        true};
// The partner by one of its keys: live (not revoked, not expired at $2); the key's own columns.
constexpr Statement kFindClientByPrefix{"find_client_by_prefix", R"sql(
  SELECT c.id, c.name, k.prefix AS key_prefix, k.key_hash, array_to_json(c.scopes) AS scopes,
         array_to_json(c.domains) AS domains, c.webhook_url, c.webhook_secret_sealed,
         c.created_at, k.last_used_at AS last_used, k.revoked_at, c.suspended_at, c.mode,
         c.live_client_id
  FROM client_keys k JOIN api_clients c ON c.id = k.client_id
  WHERE k.prefix = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2))sql",
                                        true};
constexpr Statement kListClients{"list_clients", R"sql(
  SELECT id, name, key_prefix, key_hash, array_to_json(scopes) AS scopes,
         array_to_json(domains) AS domains, webhook_url, webhook_secret_sealed, created_at,
         last_used, revoked_at, suspended_at, mode, live_client_id
  FROM api_clients ORDER BY created_at, id)sql",
                                 false};
constexpr Statement kFindClient{"find_client", R"sql(
  SELECT id, name, key_prefix, key_hash, array_to_json(scopes) AS scopes,
         array_to_json(domains) AS domains, webhook_url, webhook_secret_sealed, created_at,
         last_used, revoked_at, suspended_at, mode, live_client_id
  FROM api_clients WHERE id = $1)sql",
                                false};
// Keyset pagination: strictly after ($1, $2) in (created_at, id) order; $2 '' from the first.
constexpr Statement kListClientsAfter{"list_clients_after", R"sql(
  SELECT id, name, key_prefix, key_hash, array_to_json(scopes) AS scopes,
         array_to_json(domains) AS domains, webhook_url, webhook_secret_sealed, created_at,
         last_used, revoked_at, suspended_at, mode, live_client_id
  FROM api_clients WHERE $2 = '' OR (created_at, id) > ($1::bigint, $2)
  ORDER BY created_at, id LIMIT $3::bigint)sql",
                                      false};
constexpr Statement kClientKeys{"client_keys", R"sql(
  SELECT prefix, key_hash, created_at, expires_at, revoked_at, last_used_at FROM client_keys
  WHERE client_id = $1 ORDER BY created_at, prefix)sql",
                                false};
constexpr Statement kInsertKey{"insert_key", R"sql(
  INSERT INTO client_keys (prefix, client_id, key_hash, created_at, expires_at, last_used_at)
  VALUES ($1, $2, $3, $4, $5, $6))sql",
                               false};
// Every other live key of the partner expires at $2 (one expiring sooner keeps its expiry).
constexpr Statement kExpireKeys{"expire_keys", R"sql(
  UPDATE client_keys SET expires_at = $2
  WHERE client_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2))sql",
                                false};
constexpr Statement kSetCurrentKey{"set_current_key", R"sql(
  UPDATE api_clients SET key_prefix = $2, key_hash = $3, revoked_at = NULL WHERE id = $1
  RETURNING 1)sql",
                                   false};
constexpr Statement kUpdateClient{"update_client", R"sql(
  UPDATE api_clients SET name = $2, scopes = $3::text[], domains = $4::text[], webhook_url = $5
  WHERE id = $1 RETURNING 1)sql",
                                  false};
// The test twin of a partner follows its scopes and domains (it claims no domain).
constexpr Statement kUpdateTwin{"update_twin", R"sql(
  UPDATE api_clients SET scopes = $2::text[], domains = $3::text[] WHERE live_client_id = $1)sql",
                                false};
constexpr Statement kReleaseDomains{"release_domains",
                                    "DELETE FROM verifier_domains WHERE client_id = $1", false};
// $2 NULL resumes; a row already in the asked state is not changed (no row returned).
constexpr Statement kSetSuspended{"set_suspended", R"sql(
  UPDATE api_clients SET suspended_at = $2::bigint
  WHERE (id = $1 OR live_client_id = $1) AND ($2::bigint IS NULL) <> (suspended_at IS NULL)
  RETURNING 1)sql",
                                  false};
// A domain held by another partner returns no row (and the caller rolls back). ON CONFLICT waits
// for a concurrent claim of the same domain to commit or roll back, so one of two wins.
constexpr Statement kClaimDomain{"claim_domain", R"sql(
  INSERT INTO verifier_domains (domain, client_id) VALUES ($1, $2)
  ON CONFLICT (domain) DO NOTHING
  RETURNING 1)sql",
                                 false};
constexpr Statement kClientRevokedAt{"client_revoked_at",
                                     "SELECT revoked_at FROM api_clients WHERE id = $1", false};
// Every live key of the partner (an expired one stays as it is); then the partner is marked.
constexpr Statement kRevokeKey{"revoke_key", R"sql(
  UPDATE client_keys SET revoked_at = $2
  WHERE client_id IN (SELECT id FROM api_clients WHERE id = $1 OR live_client_id = $1)
    AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
  RETURNING 1)sql",
                               false};
constexpr Statement kMarkRevoked{
    "mark_revoked", "UPDATE api_clients SET revoked_at = $2 WHERE id = $1 OR live_client_id = $1",
    false};
// last_used only moves forward, so touches that commit out of order keep the newest.
constexpr Statement kTouchClient{"touch_client", R"sql(
  UPDATE api_clients SET last_used = $2
  WHERE id = $1 AND (last_used IS NULL OR last_used < $2))sql",
                                 false};
constexpr Statement kTouchKey{"touch_key", R"sql(
  UPDATE client_keys SET last_used_at = $2
  WHERE prefix = $1 AND (last_used_at IS NULL OR last_used_at < $2))sql",
                              false};

constexpr Statement kInsertRequest{"insert_request", R"sql(
  INSERT INTO proof_requests (id, verifier_id, nonce, claim_type, circuit_version,
                              verifier_domain, params, created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8, $9))sql",
                                   false};
constexpr Statement kFindRequest{"find_request", R"sql(
  SELECT id, verifier_id, nonce, claim_type, circuit_version, verifier_domain, params,
         created_at, expires_at
  FROM proof_requests WHERE verifier_id = $1 AND nonce = $2)sql",
                                 true};

// record_proof's first write: the replay guard (see 0001_init.sql). Its primary key's
// unique_violation is kNonceTaken.
constexpr Statement kInsertProofNonce{"insert_proof_nonce", R"sql(
  INSERT INTO proof_nonces (verifier_id, request_nonce, proof_id, created_at)
  VALUES ($1, $2, $3, $4))sql",
                                      true};
constexpr std::string_view kProofNoncePrimaryKey = "proof_nonces_pkey";
constexpr std::string_view kUniqueViolation = "23505";
// user_id only while the account exists: FOR SHARE waits for a deletion holding the account's row
// (then finds it gone: NULL) or makes the deletion wait, whose unlinking then sees this proof.
constexpr Statement kInsertProof{"insert_proof", R"sql(
  INSERT INTO proofs (id, verifier_id, claim_type, circuit_version, status, error_code,
                      public_hash, request_nonce, created_at, verified_at, latency_ms, user_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
          (SELECT id FROM users WHERE id = $12 FOR SHARE)))sql",
                                 true};
// proof_nonces gives the row's created_at, which prunes the lookup to one partition.
constexpr Statement kFindProof{"find_proof", R"sql(
  SELECT id, verifier_id, claim_type, circuit_version, status, error_code, public_hash,
         request_nonce, created_at, verified_at
  FROM proofs
  WHERE id = $1 AND created_at = (SELECT created_at FROM proof_nonces WHERE proof_id = $1))sql",
                               false};
constexpr Statement kNonceAnswered{"nonce_answered", R"sql(
  SELECT 1 FROM proof_nonces WHERE verifier_id = $1 AND request_nonce = $2)sql",
                                   true};

// A new row is pending, unleased, with no attempt; record_proof makes it due at its creation
// ($6 = $7), enqueue_event at the time it is enqueued. proof_id is NULL for events without one.
constexpr Statement kInsertOutboxEvent{"insert_outbox_event", R"sql(
  INSERT INTO webhooks_outbox (event_id, verifier_id, proof_id, event_type, payload,
                               next_attempt_at, created_at, traceparent)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8))sql",
                                       true};
constexpr Statement kPendingEvents{"pending_events", R"sql(
  SELECT event_id, verifier_id, proof_id, event_type, payload, created_at, traceparent
  FROM webhooks_outbox WHERE status = 'pending' ORDER BY id LIMIT $1)sql",
                                   false};

// --- The webhook outbox (core::OutboxStore). A lease is live while lease_until > now. ---

constexpr Statement kWebhookTarget{"webhook_target", R"sql(
  SELECT id, webhook_url, webhook_secret_sealed, webhook_secret_previous_sealed,
         webhook_previous_until
  FROM api_clients WHERE id = $1)sql",
                                   false};
// The right-hand sides read the row as it was, so the old current secret becomes the previous one.
// Without a current secret there is nothing to keep signing: previous_until stays 0. $4 NULL keeps
// the URL.
constexpr Statement kRotateWebhookSecret{"rotate_webhook_secret", R"sql(
  UPDATE api_clients
  SET webhook_secret_previous_sealed = webhook_secret_sealed,
      webhook_previous_until = CASE WHEN webhook_secret_sealed IS NULL THEN 0 ELSE $3::bigint END,
      webhook_secret_sealed = $2,
      webhook_url = coalesce($4, webhook_url)
  WHERE id = $1
  RETURNING 1)sql",
                                         false};

// claim_due, first statement ($1 now, $2 per-partner cap, $3 limit): the partners with due rows,
// under their cap as far as this snapshot sees, oldest due row first, at most `limit` of them (the
// rows a claim takes belong to the first `limit` partners in that order: each partner's oldest
// due row comes before its others). Each is locked for this transaction unless another claimer
// holds it (try-lock: skipped, never waited for). The lock is taken in the outer query, over the
// at most `limit` rows of the subquery (a volatile function is never pushed down into it).
constexpr Statement kClaimPartners{"claim_partners", R"sql(
  SELECT candidate.verifier_id
  FROM (
    SELECT o.verifier_id, min(o.id) AS oldest
    FROM webhooks_outbox o
    WHERE o.status = 'pending' AND o.next_attempt_at <= $1 AND o.lease_until <= $1
      AND o.verifier_id NOT IN (SELECT id FROM api_clients WHERE suspended_at IS NOT NULL)
    GROUP BY o.verifier_id
    HAVING (SELECT count(*) FROM webhooks_outbox l
            WHERE l.verifier_id = o.verifier_id AND l.status = 'pending'
              AND l.lease_until > $1) < $2::bigint
    ORDER BY oldest
    LIMIT $3::bigint) AS candidate
  WHERE pg_try_advisory_xact_lock(1885823852, hashtext(candidate.verifier_id)))sql",
                                   true};
static_assert(kClaimLockClass == 1885823852, "kClaimPartners spells the claim lock class out");

// claim_due, second statement ($1 now, $2 the locked partners, $3 per-partner cap, $4 limit, $5
// worker, $6 lease end). A new statement, so a new snapshot: it sees every lease committed by a
// claimer that held one of these partners before us. Per partner: its room under the cap (live
// leases counted now), then its oldest due rows up to that room; the `limit` oldest of all those.
// The rows are locked SKIP LOCKED (a row a finishing worker is updating is left for the next
// call), and the UPDATE re-checks that each is still pending, due and unleased on the row version
// it updates (READ COMMITTED re-evaluates its own WHERE, not the CTEs', after waiting on a row).
// RETURNING gives the rows in no set order (the caller sorts by the last column, id).
constexpr Statement kClaimDue{"claim_due", R"sql(
  WITH chosen AS (
    SELECT d.id
    FROM unnest($2::text[]) AS partner(verifier_id)
    CROSS JOIN LATERAL (
      SELECT $3::bigint - count(*) AS room FROM webhooks_outbox l
      WHERE l.verifier_id = partner.verifier_id AND l.status = 'pending'
        AND l.lease_until > $1) AS live
    CROSS JOIN LATERAL (
      SELECT o.id FROM webhooks_outbox o
      WHERE o.verifier_id = partner.verifier_id AND o.status = 'pending'
        AND o.next_attempt_at <= $1 AND o.lease_until <= $1
      ORDER BY o.id
      LIMIT greatest(least(live.room, $4::bigint), 0)) AS d
    ORDER BY d.id
    LIMIT $4::bigint),
  claimable AS (
    SELECT o.id FROM webhooks_outbox o
    WHERE o.id = ANY (ARRAY(SELECT id FROM chosen))
    FOR UPDATE SKIP LOCKED)
  UPDATE webhooks_outbox o SET lease_owner = $5, lease_until = $6
  FROM claimable
  WHERE o.id = claimable.id AND o.status = 'pending' AND o.next_attempt_at <= $1
    AND o.lease_until <= $1
  RETURNING o.event_id, o.verifier_id, o.proof_id, o.event_type, o.payload, o.created_at, o.traceparent,
            o.status, o.attempts, o.next_attempt_at, o.delivered_at, o.last_error, o.lease_owner,
            o.lease_until, o.id)sql",
                              true};

// Only the lease owner finishes a pending row ($2 = worker); RETURNING the new count lets the
// caller check the attempt's number. $3 status; $4 next_attempt_at (NULL keeps it); $5
// delivered_at; $6 last_error.
constexpr Statement kFinishDelivery{"finish_delivery", R"sql(
  UPDATE webhooks_outbox
  SET status = $3, attempts = attempts + 1, next_attempt_at = coalesce($4, next_attempt_at),
      delivered_at = $5, last_error = $6, lease_owner = NULL, lease_until = 0
  WHERE event_id = $1 AND lease_owner = $2 AND status = 'pending'
  RETURNING attempts)sql",
                                    true};
constexpr Statement kInsertAttempt{"insert_attempt", R"sql(
  INSERT INTO webhook_attempts (event_id, attempt, started_at, status_code, latency_ms, error)
  VALUES ($1, $2, $3, $4, $5, $6))sql",
                                   true};

// A leased row is claimable again only when its lease ends.
constexpr Statement kNextDue{"next_due", R"sql(
  SELECT min(greatest(next_attempt_at, lease_until)) AS due FROM webhooks_outbox
  WHERE status = 'pending'
    AND verifier_id NOT IN (SELECT id FROM api_clients WHERE suspended_at IS NOT NULL))sql",
                             false};

// Empty filters match every row; newest first is the reverse insertion order.
constexpr Statement kListDeliveries{"list_deliveries", R"sql(
  SELECT event_id, verifier_id, proof_id, event_type, payload, created_at, traceparent, status, attempts,
         next_attempt_at, delivered_at, last_error, lease_owner, lease_until, id
  FROM webhooks_outbox
  WHERE ($1::text = '' OR verifier_id = $1) AND ($2::text = '' OR status = $2)
  ORDER BY id DESC LIMIT $3)sql",
                                    false};
constexpr Statement kFindDelivery{"find_delivery", R"sql(
  SELECT event_id, verifier_id, proof_id, event_type, payload, created_at, traceparent, status, attempts,
         next_attempt_at, delivered_at, last_error, lease_owner, lease_until, id
  FROM webhooks_outbox WHERE event_id = $1)sql",
                                  false};
constexpr Statement kDeliveryAttempts{"delivery_attempts", R"sql(
  SELECT event_id, attempt, started_at, status_code, latency_ms, error
  FROM webhook_attempts WHERE event_id = $1 ORDER BY attempt)sql",
                                      false};

// The attempts (and their count) stay: new attempts are numbered after them.
constexpr Statement kReplay{"replay", R"sql(
  UPDATE webhooks_outbox
  SET status = 'pending', next_attempt_at = $2, delivered_at = NULL, lease_owner = NULL,
      lease_until = 0
  WHERE event_id = $1 AND status IN ('delivered', 'dead')
  RETURNING 1)sql",
                            false};
constexpr Statement kCountByStatus{
    "count_by_status", "SELECT status, count(*) AS count FROM webhooks_outbox GROUP BY status",
    false};

constexpr Statement kSaveIdempotency{"save_idempotency", R"sql(
  INSERT INTO idempotency_keys (verifier_id, key, body_hash, status, response, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (verifier_id, key) DO UPDATE
  SET body_hash = excluded.body_hash, status = excluded.status, response = excluded.response,
      expires_at = excluded.expires_at)sql",
                                     true};
constexpr Statement kFindIdempotency{"find_idempotency", R"sql(
  SELECT verifier_id, key, body_hash, status, response, expires_at
  FROM idempotency_keys WHERE verifier_id = $1 AND key = $2)sql",
                                     true};

// publish_root runs under this lock, so two instances publishing for one issuer at once take
// turns (else both would supersede the same row and one would break issuer_roots_one_current).
constexpr Statement kLockIssuer{"lock_issuer",
                                "SELECT pg_advisory_xact_lock(1885827700, $1::integer)", false};
static_assert(kRootLockClass == 1885827700, "kLockIssuer spells the root lock class out");
constexpr Statement kFindRoot{"find_root", R"sql(
  SELECT issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox
  FROM issuer_roots WHERE issuer_id = $1 AND root = $2 AND sandbox = $3)sql",
                              true};
constexpr Statement kLatestFeedRoot{"latest_feed_root", R"sql(
  SELECT issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox
  FROM issuer_roots WHERE issuer_id = $1 AND sandbox = $2 AND seq > 0
  ORDER BY seq DESC LIMIT 1)sql",
                                    true};
constexpr Statement kSupersedeRoots{"supersede_roots", R"sql(
  UPDATE issuer_roots SET superseded_at = $2
  WHERE issuer_id = $1 AND sandbox = $3 AND superseded_at = 0)sql",
                                    false};
constexpr Statement kInsertCurrentRoot{"insert_current_root", R"sql(
  INSERT INTO issuer_roots (issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox)
  VALUES ($1, $2, $3, 0, $4, $5, $6))sql",
                                       false};
constexpr Statement kRecentRoots{"recent_roots", R"sql(
  SELECT issuer_id, root, published_at, superseded_at, seq, issued_at, sandbox
  FROM issuer_roots WHERE issuer_id = $1 AND sandbox = $3
    AND (superseded_at = 0 OR superseded_at >= $2)
  ORDER BY superseded_at = 0 DESC, superseded_at DESC, published_at DESC)sql",
                                 true};

// A stored key keeps its public key and the entry that announced it; its end only comes sooner
// (0 is "no end"), as in feed::ChainState::accept.
constexpr Statement kUpsertFeedKey{"upsert_feed_key", R"sql(
  INSERT INTO feed_keys (issuer_id, key_id, public_key, valid_until, announced_seq, sandbox)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (issuer_id, sandbox, key_id) DO UPDATE SET valid_until = CASE
    WHEN feed_keys.valid_until = 0 THEN excluded.valid_until
    WHEN excluded.valid_until = 0 THEN feed_keys.valid_until
    ELSE least(feed_keys.valid_until, excluded.valid_until) END)sql",
                                   false};
constexpr Statement kFeedKeys{"feed_keys", R"sql(
  SELECT issuer_id, key_id, public_key, valid_until, announced_seq, sandbox FROM feed_keys
  WHERE issuer_id = $1 AND sandbox = $2 ORDER BY announced_seq, key_id)sql",
                              false};

constexpr Statement kSetCircuitEnabled{"set_circuit_enabled", R"sql(
  INSERT INTO circuit_versions (claim_type, semver, enabled, updated_at)
  VALUES ($1, $2, $3, $4)
  ON CONFLICT (claim_type, semver)
  DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at)sql",
                                       false};
constexpr Statement kCircuitEnabled{"circuit_enabled", R"sql(
  SELECT enabled FROM circuit_versions WHERE claim_type = $1 AND semver = $2)sql",
                                    true};

// --- The audit trail (core::AuditStore). Oldest first is (at, id): the audit_logs_at index. ---

constexpr Statement kInsertAudit{"insert_audit", R"sql(
  INSERT INTO audit_logs (actor_type, actor_id, action, details, at, seq, prev_hash, hash,
                          details_canonical)
  VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $4::text))sql",
                                 false};
// details_canonical is the text the hash covers (jsonb's own text is not: it reorders members).
constexpr Statement kListAudit{"list_audit", R"sql(
  SELECT id, actor_type, actor_id, action, COALESCE(details_canonical, details::text) AS details,
         at, seq, prev_hash, hash FROM audit_logs
  WHERE at >= $1 AND at < $2 ORDER BY seq LIMIT $3)sql",
                               false};
constexpr Statement kLatestAudit{"latest_audit", R"sql(
  SELECT id, actor_type, actor_id, action, COALESCE(details_canonical, details::text) AS details,
         at, seq, prev_hash, hash FROM audit_logs ORDER BY seq DESC LIMIT $1)sql",
                                 false};
constexpr Statement kOldestAudit{"oldest_audit", R"sql(
  SELECT id, actor_type, actor_id, action, COALESCE(details_canonical, details::text) AS details,
         at, seq, prev_hash, hash FROM audit_logs
  WHERE at < $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)sql",
                                 false};
// The chain head (0006_audit_chain_and_latency.sql): every writer, on every instance, locks this
// row first, so entries are chained one at a time and seq has no gaps.
constexpr Statement kLockAuditHead{"lock_audit_head", R"sql(
  SELECT seq, hash, at FROM audit_chain WHERE id = 1 FOR UPDATE)sql",
                                   false};
constexpr Statement kSetAuditHead{"set_audit_head", R"sql(
  UPDATE audit_chain SET seq = $1, hash = $2, at = $3 WHERE id = 1)sql",
                                  false};
constexpr Statement kUnchainedAudit{"unchained_audit", R"sql(
  SELECT id, actor_type, actor_id, action, details::text AS details, at, seq, prev_hash, hash
  FROM audit_logs WHERE seq IS NULL ORDER BY id)sql",
                                    false};
constexpr Statement kChainAudit{"chain_audit", R"sql(
  UPDATE audit_logs SET seq = $2, prev_hash = $3, hash = $4, details_canonical = $5, at = $6
  WHERE id = $1)sql",
                                false};
constexpr Statement kDeleteAudit{"delete_audit", R"sql(
  DELETE FROM audit_logs WHERE id = ANY ($1::bigint[]) RETURNING id)sql",
                                 false};
// --- The usage report (core::UsageStore): proofs grouped by UTC bucket, claim type, partner ---
// Test-mode clients never count (docs/partners.md, "Keys and modes").

constexpr Statement kUsageCounts{"usage_counts", R"sql(
  SELECT created_at / $3::bigint * $3::bigint AS bucket, claim_type, verifier_id, status,
         COALESCE(error_code, '') AS error_code, count(*) AS count
  FROM proofs
  WHERE created_at >= $1 AND created_at < $2 AND ($4::text = '' OR claim_type = $4::text)
    AND ($5::text = '' OR verifier_id = $5::text)
    AND verifier_id NOT IN (SELECT id FROM api_clients WHERE mode = 'test')
  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5)sql",
                                 false};
// Nearest-rank percentiles: the latency at rank ceil(p * n), p in percent.
constexpr Statement kUsageLatencies{"usage_latencies", R"sql(
  WITH ranked AS (
    SELECT created_at / $3::bigint * $3::bigint AS bucket, claim_type, verifier_id, latency_ms,
           row_number() OVER w AS rank, count(*) OVER w AS n
    FROM proofs
    WHERE created_at >= $1 AND created_at < $2 AND latency_ms IS NOT NULL
      AND ($4::text = '' OR claim_type = $4::text) AND ($5::text = '' OR verifier_id = $5::text)
    AND verifier_id NOT IN (SELECT id FROM api_clients WHERE mode = 'test')
    WINDOW w AS (PARTITION BY created_at / $3::bigint, claim_type, verifier_id
                 ORDER BY latency_ms ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
  SELECT bucket, claim_type, verifier_id, n,
         min(CASE WHEN rank >= (n * 50 + 99) / 100 THEN latency_ms END) AS p50_ms,
         min(CASE WHEN rank >= (n * 95 + 99) / 100 THEN latency_ms END) AS p95_ms
  FROM ranked GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3)sql",
                                    false};
constexpr Statement kAnonymiseUser{"anonymise_user", R"sql(
  UPDATE proofs SET user_id = NULL WHERE user_id = $1 RETURNING 1)sql",
                                   false};

/// Prepared on every pooled connection when it opens.
std::vector<const Statement*> hot_statements() {
  return {&kFindClientByPrefix, &kFindRequest,       &kInsertProofNonce, &kInsertProof,
          &kNonceAnswered,      &kInsertOutboxEvent, &kSaveIdempotency,  &kFindIdempotency,
          &kRecentRoots,        &kCircuitEnabled,    &kClaimPartners,    &kClaimDue,
          &kFinishDelivery,     &kInsertAttempt};
}

// --- Values ---

/// A text[] literal: every element quoted, so any string (empty, "NULL", with commas) survives.
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// --- Rows ---

/// A result's rows read by column name (the reader store/rows.hpp expects): the names are looked
/// up once per result.
class Rows {
 public:
  class Row {
   public:
    Row(const Rows& rows, int row) : rows_(rows), row_(row) {}
    std::string text(std::string_view name) const { return rows_.result_.text(row_, at(name)); }
    std::string bytes(std::string_view name) const { return rows_.result_.bytes(row_, at(name)); }
    std::int64_t integer(std::string_view name) const {
      return rows_.result_.integer(row_, at(name));
    }
    bool boolean(std::string_view name) const { return rows_.result_.boolean(row_, at(name)); }
    bool is_null(std::string_view name) const { return rows_.result_.is_null(row_, at(name)); }
    /// Compact JSON text (jsonb's text output has spaces).
    std::string json(std::string_view name) const {
      boost::system::error_code ec;
      const boost::json::value value = boost::json::parse(text(name), ec);
      if (ec) fail("read " + std::string(name), "not JSON");
      return boost::json::serialize(value);
    }

   private:
    int at(std::string_view name) const {
      return rows_.columns_.at(name, rows_.operation_, kStoreName);
    }
    const Rows& rows_;
    int row_;
  };

  Rows(const Result& result, std::string_view operation)
      : result_(result), columns_(result.column_names()), operation_(operation) {}
  int size() const noexcept { return result_.rows(); }
  Row operator[](int row) const { return Row(*this, row); }

 private:
  const Result& result_;
  ColumnIndex columns_;
  std::string_view operation_;
};

/// Every row of `result`, each mapped by `read`.
template <class T, class Read>
std::vector<T> all_rows(const Result& result, std::string_view operation, Read read) {
  const Rows rows(result, operation);
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int row = 0; row < rows.size(); ++row) out.push_back(read(rows[row]));
  return out;
}

/// The first row of `result` mapped by `read`, or nullopt when there is none.
template <class T, class Read>
std::optional<T> first_row(const Result& result, std::string_view operation, Read read) {
  if (result.rows() == 0) return std::nullopt;
  return read(Rows(result, operation)[0]);
}

// --- Steps shared by several operations ---

/// kInsertOutboxEvent's parameters.
Params outbox_params(const core::OutboxEvent& event, core::UnixMillis due) {
  return Params()
      .text(event.event_id)
      .text(event.client_id)
      .nullable_text(event.proof_id)
      .text(event.event_type)
      .text(event.payload)
      .integer(due)
      .integer(event.created_at)
      .text(event.traceparent);
}

void insert_outbox_row(Connection& connection, const core::OutboxEvent& event, core::UnixMillis due,
                       std::string_view operation) {
  connection.run(kInsertOutboxEvent, outbox_params(event, due), operation);
}

/// Publishes `root` as current in the caller's transaction; false when it is current already.
core::PublishOutcome write_root(Connection& connection, const core::IssuerRoot& root,
                                core::UnixMillis now, std::string_view operation) {
  // The issuer id's 32 bits as the lock's integer key.
  connection.run(kLockIssuer, Params().integer(static_cast<std::int32_t>(root.issuer_id)),
                 operation);
  const Result known = connection.run(
      kFindRoot, Params().integer(root.issuer_id).text(root.root).boolean(root.sandbox), operation);
  if (const auto row = first_row<core::IssuerRoot>(
          known, operation, [](const auto& r) { return root_from_row(r); })) {
    return row->superseded_at == 0 ? core::PublishOutcome::kAlreadyCurrent
                                   : core::PublishOutcome::kReplacedBefore;
  }
  // A root belongs to one side: a sandbox root made live would let sandbox credentials pass.
  const Result other = connection.run(
      kFindRoot, Params().integer(root.issuer_id).text(root.root).boolean(!root.sandbox),
      operation);
  if (first_row<core::IssuerRoot>(other, operation,
                                  [](const auto& r) { return root_from_row(r); })) {
    return core::PublishOutcome::kOtherSide;
  }
  connection.run(kSupersedeRoots,
                 Params().integer(root.issuer_id).integer(now).boolean(root.sandbox), operation);
  connection.run(kInsertCurrentRoot,
                 Params()
                     .integer(root.issuer_id)
                     .text(root.root)
                     .integer(now)
                     .integer(static_cast<std::int64_t>(root.seq))
                     .integer(root.issued_at != 0 ? root.issued_at : now)
                     .boolean(root.sandbox),
                 operation);
  return core::PublishOutcome::kPublished;
}

void write_key(Connection& connection, std::string_view client_id, const core::ClientKey& key,
               std::string_view operation) {
  const std::string hash(reinterpret_cast<const char*>(key.hash.data()), key.hash.size());
  connection.run(kInsertKey,
                 Params()
                     .text(key.prefix)
                     .text(client_id)
                     .bytes(hash)
                     .integer(key.created_at)
                     .nullable_integer(key.expires_at)
                     .nullable_integer(key.last_used_at),
                 operation);
}

/// Claims the partner's domains; the first one another partner holds, or nullopt.
std::optional<std::string> claim_domains(Connection& connection, const core::Client& client,
                                         std::string_view operation) {
  for (const std::string& domain : client.domains) {
    if (connection.run(kClaimDomain, Params().text(domain).text(client.id), operation).rows() == 0)
      return domain;
  }
  return std::nullopt;
}

/// The partner row, its key and its domains, in the caller's transaction; the first domain
/// another partner holds, or nullopt.
std::optional<std::string> write_client(Connection& connection, const core::Client& client,
                                        std::string_view operation) {
  const std::string key_hash(reinterpret_cast<const char*>(client.key_hash.data()),
                             client.key_hash.size());
  Params params;
  params.text(client.id)
      .text(client.name)
      .text(client.key_prefix)
      .bytes(key_hash)
      .text(text_array(client.scopes))
      .text(text_array(client.domains))
      .nullable_text(client.webhook_url)
      .nullable_bytes(client.webhook_secret_sealed)
      .integer(client.created_at)
      .nullable_integer(client.last_used)
      .text(core::mode_name(client.mode))
      .nullable_text(client.live_client_id);
  connection.run(kInsertClient, params, operation);
  write_key(connection, client.id,
            {client.key_prefix, client.key_hash, client.created_at, 0, 0, client.last_used},
            operation);
  if (!client.client_secret_hash.empty()) {
    connection.run(
        kInsertClientSecret,
        Params().text(client.id).bytes(client.client_secret_hash).integer(client.created_at),
        operation);
  }
  // A test client claims no domain: its partner's live side holds them.
  return client.mode == core::Mode::kTest ? std::nullopt
                                          : claim_domains(connection, client, operation);
}

core::AuditChainHead lock_audit_head(Connection& connection, std::string_view operation) {
  const Result head = connection.run(kLockAuditHead, Params(), operation);
  const auto row = first_row<core::AuditChainHead>(head, operation, [](const auto& r) {
    return core::AuditChainHead{r.integer("seq"), r.text("hash"), r.integer("at")};
  });
  if (!row) fail(operation, "the audit chain head is missing");
  return *row;
}

void write_audit_head(Connection& connection, const core::AuditChainHead& head,
                      std::string_view operation) {
  connection.run(kSetAuditHead, Params().integer(head.seq).text(head.hash).integer(head.at),
                 operation);
}

/// Checks `entry` as record_audit promises and appends it at the chain's head, inside the
/// caller's transaction (which the head's row lock serializes with every other writer): a refusal
/// throws there and rolls back whatever it changed before.
void write_audit(Connection& connection, const core::AuditEntry& entry,
                 std::string_view operation) {
  core::AuditEntry chained = entry;
  chained.details_json = audit_details_json(entry, operation, kStoreName);
  const core::AuditChainHead head =
      core::chain_audit_entry(chained, lock_audit_head(connection, operation));
  connection.run(kInsertAudit,
                 Params()
                     .text(chained.actor_type)
                     .nullable_text(chained.actor_id)
                     .text(chained.action)
                     .text(chained.details_json)
                     .integer(chained.at)
                     .integer(chained.seq)
                     .text(chained.prev_hash)
                     .text(chained.hash),
                 operation);
  write_audit_head(connection, head, operation);
}

/// Chains the entries written before the chain existed, in id order, after the head.
void chain_legacy_audit(Connection& connection, std::string_view operation) {
  Transaction transaction(connection, operation);
  core::AuditChainHead head = lock_audit_head(connection, operation);
  const Result unchained = connection.run(kUnchainedAudit, Params(), operation);
  if (unchained.rows() == 0) return;
  std::vector<core::AuditEntry> rows = all_rows<core::AuditEntry>(
      unchained, operation, [](const auto& row) { return audit_from_row(row); });
  for (core::AuditEntry& row : rows) {
    head = core::chain_audit_entry(row, head, /*keep_at=*/true);
    connection.run(kChainAudit,
                   Params()
                       .integer(row.id)
                       .integer(row.seq)
                       .text(row.prev_hash)
                       .text(row.hash)
                       .text(row.details_json)
                       .integer(row.at),
                   operation);
  }
  write_audit_head(connection, head, operation);
  transaction.commit();
}

/// kSaveIdempotency's parameters.
Params idempotency_record_params(const core::IdempotencyRecord& record) {
  return Params()
      .text(record.client_id)
      .text(record.key)
      .text(record.body_hash)
      .integer(record.status)
      .text(record.response)
      .integer(record.expires_at);
}

void write_idempotency(Connection& connection, const core::IdempotencyRecord& record,
                       std::string_view operation) {
  connection.run(kSaveIdempotency, idempotency_record_params(record), operation);
}

int applied_schema_version(Connection& connection, std::string_view operation) {
  const Result exists = connection.run(kSchemaMigrationsExists, Params(), operation);
  if (!Rows(exists, operation)[0].boolean("present")) return 0;
  const Result version = connection.run(kAppliedVersion, Params(), operation);
  return static_cast<int>(Rows(version, operation)[0].integer("version"));
}

/// Applies the embedded migrations the database lacks, each in its own transaction, then makes
/// sure the proof partitions exist: all under a session advisory lock, so instances starting at
/// once take turns and the later ones find nothing left to do. The lock goes with the session
/// should this fail halfway (the connection is closed).
void migrate(Connection& connection) {
  constexpr std::string_view kOperation = "migrate";
  connection.run(kTakeMigrationLock, Params().integer(kMigrationLockKey), kOperation);
  for (const Migration& migration : postgres_migrations()) {
    const std::string operation = "migration " + std::string(migration.name);
    Transaction transaction(connection, operation);
    // Read under the lock: another instance may have applied it while we waited.
    if (applied_schema_version(connection, operation) >= migration.version) continue;
    connection.execute(migration.sql, operation);
    connection.run(kRecordMigration, Params().integer(migration.version).text(migration.name),
                   operation);
    transaction.commit();
  }
  connection.run(kEnsurePartitions, Params().integer(PostgresStore::kPartitionMonthsAhead),
                 kOperation);
  connection.run(kReleaseMigrationLock, Params().integer(kMigrationLockKey), kOperation);
}

}  // namespace

struct PostgresStore::Pool : ConnectionPool {
  using ConnectionPool::ConnectionPool;
};

PostgresStore::PostgresStore(const PostgresSettings& settings) {
  constexpr std::string_view kOperation = "open";
  if (settings.url.empty()) fail(kOperation, "no database URL");
  if (settings.pool_size == 0) fail(kOperation, "pool_size must be at least 1");
  const ConnectionSettings connection_settings{settings.url, settings.connect_timeout,
                                               settings.statement_timeout};
  {
    // A connection of its own, without the statement timeout: a migration (a backfill) may take
    // long, and waiting for another instance's migration is part of it.
    ConnectionSettings migrator = connection_settings;
    migrator.statement_timeout = std::chrono::milliseconds(0);
    const std::unique_ptr<Connection> connection = Connection::open(migrator, {});
    if (settings.migrate) {
      migrate(*connection);
      chain_legacy_audit(*connection, kOperation);
    } else {
      const int applied = applied_schema_version(*connection, kOperation);
      if (applied < latest_schema_version()) {
        fail(kOperation, "the database's schema version " + std::to_string(applied) +
                             " is older than this binary needs (" +
                             std::to_string(latest_schema_version()) +
                             "); migrate it first (migrate = true)");
      }
    }
  }
  pool_ = std::make_unique<Pool>(connection_settings, settings.pool_size, settings.acquire_timeout,
                                 hot_statements());
  pool_->acquire(kOperation);  // one pooled connection now: its statements prepare or fail here
}

PostgresStore::~PostgresStore() = default;

int PostgresStore::latest_schema_version() noexcept {
  return postgres_migrations().back().version;
}

int PostgresStore::schema_version() {
  constexpr std::string_view kOperation = "schema_version";
  auto connection = pool_->acquire(kOperation);
  return applied_schema_version(*connection, kOperation);
}

int PostgresStore::ensure_partitions(int months_ahead) {
  constexpr std::string_view kOperation = "ensure_partitions";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  // Moving rows out of the default partition may take longer than a statement should.
  connection->execute("SET LOCAL statement_timeout = 0", kOperation);
  const Result created =
      connection->run(kEnsurePartitions, Params().integer(months_ahead), kOperation);
  transaction.commit();
  return static_cast<int>(Rows(created, kOperation)[0].integer("created"));
}

void PostgresStore::refresh_proof_counts() {
  constexpr std::string_view kOperation = "refresh_proof_counts";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  connection->execute("SET LOCAL statement_timeout = 0", kOperation);
  connection->execute("REFRESH MATERIALIZED VIEW CONCURRENTLY proof_counts_daily", kOperation);
  transaction.commit();
}

bool PostgresStore::ping() noexcept {
  try {
    auto connection = pool_->acquire("ping");
    const Result one = connection->run(kPing, Params(), "ping");
    return Rows(one, "ping")[0].integer("one") == 1;
  } catch (...) {
    return false;
  }
}

void PostgresStore::insert_client(const core::Client& client) {
  constexpr std::string_view kOperation = "insert_client";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  if (const auto taken = write_client(*connection, client, kOperation))
    fail(kOperation, "the verifier domain '" + *taken + "' belongs to another partner");
  transaction.commit();
}

std::optional<core::Client> PostgresStore::find_client_by_prefix(std::string_view key_prefix,
                                                                 core::UnixMillis now) {
  constexpr std::string_view kOperation = "find_client_by_prefix";
  auto connection = pool_->acquire(kOperation);
  const Result rows =
      connection->run(kFindClientByPrefix, Params().text(key_prefix).integer(now), kOperation);
  return first_row<core::Client>(rows, kOperation,
                                 [](const auto& row) { return client_from_row(row, kStoreName); });
}

std::vector<core::Client> PostgresStore::list_clients() {
  constexpr std::string_view kOperation = "list_clients";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kListClients, Params(), kOperation);
  return all_rows<core::Client>(rows, kOperation,
                                [](const auto& row) { return client_from_row(row, kStoreName); });
}

void PostgresStore::touch_client(std::string_view client_id, std::string_view key_prefix,
                                 core::UnixMillis now) {
  constexpr std::string_view kOperation = "touch_client";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  connection->run(kTouchClient, Params().text(client_id).integer(now), kOperation);
  connection->run(kTouchKey, Params().text(key_prefix).integer(now), kOperation);
  transaction.commit();
}

std::optional<core::Client> PostgresStore::find_client(std::string_view client_id) {
  constexpr std::string_view kOperation = "find_client";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kFindClient, Params().text(client_id), kOperation);
  return first_row<core::Client>(rows, kOperation,
                                 [](const auto& row) { return client_from_row(row, kStoreName); });
}

std::vector<core::Client> PostgresStore::list_clients_after(core::UnixMillis after_created_at,
                                                            std::string_view after_id,
                                                            std::size_t limit) {
  constexpr std::string_view kOperation = "list_clients_after";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(
      kListClientsAfter,
      Params().integer(after_created_at).text(after_id).integer(sql_count(limit)), kOperation);
  return all_rows<core::Client>(rows, kOperation,
                                [](const auto& row) { return client_from_row(row, kStoreName); });
}

std::vector<core::ClientKey> PostgresStore::client_keys(std::string_view client_id) {
  constexpr std::string_view kOperation = "client_keys";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kClientKeys, Params().text(client_id), kOperation);
  return all_rows<core::ClientKey>(rows, kOperation,
                                   [](const auto& row) { return key_from_row(row, kStoreName); });
}

void PostgresStore::insert_request(const core::ProofRequest& request) {
  constexpr std::string_view kOperation = "insert_request";
  Params params;
  params.text(request.id)
      .text(request.client_id)
      .text(request.nonce)
      .text(request.claim_type)
      .text(request.circuit_version)
      .text(request.verifier_domain)
      .text(params_to_json(request.params, kOperation, kStoreName))
      .integer(request.created_at)
      .integer(request.expires_at);
  auto connection = pool_->acquire(kOperation);
  connection->run(kInsertRequest, params, kOperation);
}

std::optional<core::ProofRequest> PostgresStore::find_request(std::string_view client_id,
                                                              std::string_view nonce) {
  constexpr std::string_view kOperation = "find_request";
  auto connection = pool_->acquire(kOperation);
  const Result rows =
      connection->run(kFindRequest, Params().text(client_id).text(nonce), kOperation);
  return first_row<core::ProofRequest>(
      rows, kOperation, [](const auto& row) { return request_from_row(row, kStoreName); });
}

core::RecordOutcome PostgresStore::record_proof(const core::ProofRecord& proof,
                                                const core::OutboxEvent* event,
                                                const core::IdempotencyRecord* idempotency) {
  constexpr std::string_view kOperation = "record_proof";
  const Params nonce_params = Params()
                                  .text(proof.client_id)
                                  .text(proof.request_nonce)
                                  .text(proof.id)
                                  .integer(proof.created_at);
  Params proof_params;
  proof_params.text(proof.id)
      .text(proof.client_id)
      .text(proof.claim_type)
      .text(proof.circuit_version)
      .text(proof.status)
      .nullable_text(proof.error_code)
      .text(proof.public_hash)
      .text(proof.request_nonce)
      .integer(proof.created_at)
      .nullable_integer(proof.verified_at);
  if (proof.latency_ms < 0) {
    proof_params.null();
  } else {
    proof_params.integer(proof.latency_ms);
  }
  proof_params.nullable_text(proof.user_id);
  std::vector<Connection::Step> steps{{&kInsertProofNonce, &nonce_params},
                                      {&kInsertProof, &proof_params}};
  Params event_params;
  if (event != nullptr) {
    event_params = outbox_params(*event, event->created_at);
    steps.push_back({&kInsertOutboxEvent, &event_params});
  }
  Params idempotency_params;
  if (idempotency != nullptr) {
    idempotency_params = idempotency_record_params(*idempotency);
    steps.push_back({&kSaveIdempotency, &idempotency_params});
  }
  auto connection = pool_->acquire(kOperation);
  try {
    // One round trip: the statements and the commit go together (one implicit transaction).
    connection->run_pipelined(steps, kOperation);
  } catch (const PostgresError& error) {
    // Another transaction answered the nonce (it committed while this one waited on its key, or
    // before): nothing of this one is written. A taken proof id is a plain error.
    if (error.sqlstate() == kUniqueViolation && error.constraint() == kProofNoncePrimaryKey) {
      return core::RecordOutcome::kNonceTaken;
    }
    throw;
  }
  return core::RecordOutcome::kStored;
}

std::optional<core::ProofRecord> PostgresStore::find_proof(std::string_view proof_id) {
  constexpr std::string_view kOperation = "find_proof";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kFindProof, Params().text(proof_id), kOperation);
  return first_row<core::ProofRecord>(rows, kOperation,
                                      [](const auto& row) { return proof_from_row(row); });
}

bool PostgresStore::nonce_answered(std::string_view client_id, std::string_view nonce) {
  constexpr std::string_view kOperation = "nonce_answered";
  auto connection = pool_->acquire(kOperation);
  return connection->run(kNonceAnswered, Params().text(client_id).text(nonce), kOperation).rows() >
         0;
}

std::optional<core::IdempotencyRecord> PostgresStore::find_idempotency(std::string_view client_id,
                                                                       std::string_view key,
                                                                       core::UnixMillis now) {
  constexpr std::string_view kOperation = "find_idempotency";
  auto connection = pool_->acquire(kOperation);
  const Result rows =
      connection->run(kFindIdempotency, Params().text(client_id).text(key), kOperation);
  if (rows.rows() == 0) return std::nullopt;
  return idempotency_replay(idempotency_from_row(Rows(rows, kOperation)[0]), now);
}

void PostgresStore::save_idempotency(const core::IdempotencyRecord& record) {
  constexpr std::string_view kOperation = "save_idempotency";
  auto connection = pool_->acquire(kOperation);
  write_idempotency(*connection, record, kOperation);
}

core::PublishOutcome PostgresStore::publish_root(const core::IssuerRoot& root,
                                                 core::UnixMillis now) {
  constexpr std::string_view kOperation = "publish_root";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  const auto outcome = write_root(*connection, root, now, kOperation);
  if (outcome == core::PublishOutcome::kPublished) transaction.commit();  // else rolls back
  return outcome;
}

core::PublishOutcome PostgresStore::publish_feed_root(const core::IssuerRoot& root,
                                                      const std::vector<core::FeedKey>& keys,
                                                      core::UnixMillis now) {
  constexpr std::string_view kOperation = "publish_feed_root";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  const auto outcome = write_root(*connection, root, now, kOperation);
  if (outcome != core::PublishOutcome::kPublished) return outcome;  // rolls back
  for (const core::FeedKey& key : keys) {
    connection->run(kUpsertFeedKey,
                    Params()
                        .integer(key.issuer_id)
                        .text(key.key_id)
                        .text(key.public_key)
                        .integer(key.valid_until)
                        .integer(static_cast<std::int64_t>(key.announced_seq))
                        .boolean(key.sandbox),
                    kOperation);
  }
  transaction.commit();
  return outcome;
}

std::vector<core::FeedKey> PostgresStore::feed_keys(std::uint32_t issuer_id, bool sandbox) {
  constexpr std::string_view kOperation = "feed_keys";
  auto connection = pool_->acquire(kOperation);
  const Result rows =
      connection->run(kFeedKeys, Params().integer(issuer_id).boolean(sandbox), kOperation);
  return all_rows<core::FeedKey>(rows, kOperation,
                                 [](const auto& row) { return feed_key_from_row(row); });
}

std::optional<core::IssuerRoot> PostgresStore::find_root(std::uint32_t issuer_id,
                                                         std::string_view root, bool sandbox) {
  constexpr std::string_view kOperation = "find_root";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(
      kFindRoot, Params().integer(issuer_id).text(root).boolean(sandbox), kOperation);
  return first_row<core::IssuerRoot>(rows, kOperation,
                                     [](const auto& row) { return root_from_row(row); });
}

std::optional<core::IssuerRoot> PostgresStore::latest_feed_root(std::uint32_t issuer_id,
                                                                bool sandbox) {
  constexpr std::string_view kOperation = "latest_feed_root";
  auto connection = pool_->acquire(kOperation);
  const Result rows =
      connection->run(kLatestFeedRoot, Params().integer(issuer_id).boolean(sandbox), kOperation);
  return first_row<core::IssuerRoot>(rows, kOperation,
                                     [](const auto& row) { return root_from_row(row); });
}

std::vector<core::IssuerRoot> PostgresStore::recent_roots(std::uint32_t issuer_id,
                                                          core::UnixMillis since, bool sandbox) {
  constexpr std::string_view kOperation = "recent_roots";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(
      kRecentRoots, Params().integer(issuer_id).integer(since).boolean(sandbox), kOperation);
  return all_rows<core::IssuerRoot>(rows, kOperation,
                                    [](const auto& row) { return root_from_row(row); });
}

void PostgresStore::set_circuit_enabled(std::string_view claim_type, std::string_view version,
                                        bool enabled, core::UnixMillis now) {
  constexpr std::string_view kOperation = "set_circuit_enabled";
  auto connection = pool_->acquire(kOperation);
  connection->run(kSetCircuitEnabled,
                  Params().text(claim_type).text(version).boolean(enabled).integer(now),
                  kOperation);
}

std::optional<bool> PostgresStore::circuit_enabled(std::string_view claim_type,
                                                   std::string_view version) {
  constexpr std::string_view kOperation = "circuit_enabled";
  auto connection = pool_->acquire(kOperation);
  const Result rows =
      connection->run(kCircuitEnabled, Params().text(claim_type).text(version), kOperation);
  if (rows.rows() == 0) return std::nullopt;
  return Rows(rows, kOperation)[0].boolean("enabled");
}

std::vector<core::OutboxEvent> PostgresStore::pending_events(std::size_t limit) {
  constexpr std::string_view kOperation = "pending_events";
  auto connection = pool_->acquire(kOperation);
  const Result rows =
      connection->run(kPendingEvents, Params().integer(sql_count(limit)), kOperation);
  return all_rows<core::OutboxEvent>(rows, kOperation,
                                     [](const auto& row) { return event_from_row(row); });
}

// --- core::OutboxStore ---

std::optional<core::WebhookTarget> PostgresStore::webhook_target(std::string_view client_id) {
  constexpr std::string_view kOperation = "webhook_target";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kWebhookTarget, Params().text(client_id), kOperation);
  return first_row<core::WebhookTarget>(
      rows, kOperation, [](const auto& row) { return webhook_target_from_row(row); });
}

void PostgresStore::rotate_webhook_secret(std::string_view client_id,
                                          std::string_view new_secret_sealed,
                                          core::UnixMillis previous_until, std::string_view url) {
  constexpr std::string_view kOperation = "rotate_webhook_secret";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kRotateWebhookSecret,
                                      Params()
                                          .text(client_id)
                                          .nullable_bytes(new_secret_sealed)
                                          .integer(previous_until)
                                          .nullable_text(url),
                                      kOperation);
  if (rows.rows() == 0) fail(kOperation, "no partner '" + std::string(client_id) + "'");
}

void PostgresStore::enqueue_event(const core::OutboxEvent& event, core::UnixMillis now) {
  constexpr std::string_view kOperation = "enqueue_event";
  auto connection = pool_->acquire(kOperation);
  insert_outbox_row(*connection, event, now, kOperation);
}

std::vector<core::Delivery> PostgresStore::claim_due(std::string_view worker, core::UnixMillis now,
                                                     std::size_t limit, std::int64_t lease_ms,
                                                     std::size_t per_client_limit) {
  constexpr std::string_view kOperation = "claim_due";
  const core::UnixMillis lease_until = claim_lease_end(worker, now, lease_ms, kStoreName);
  if (limit == 0 || per_client_limit == 0) return {};

  std::vector<std::pair<std::int64_t, core::Delivery>> claimed;
  {
    auto connection = pool_->acquire(kOperation);
    Transaction transaction(*connection, kOperation);
    const Result partners = connection->run(
        kClaimPartners,
        Params().integer(now).integer(sql_count(per_client_limit)).integer(sql_count(limit)),
        kOperation);
    if (partners.rows() == 0) return {};  // the transaction rolls back: nothing was locked
    std::vector<std::string> ids;
    ids.reserve(static_cast<std::size_t>(partners.rows()));
    const Rows partner_rows(partners, kOperation);
    for (int row = 0; row < partner_rows.size(); ++row) {
      ids.push_back(partner_rows[row].text("verifier_id"));
    }
    const Result rows = connection->run(kClaimDue,
                                        Params()
                                            .integer(now)
                                            .text(text_array(ids))
                                            .integer(sql_count(per_client_limit))
                                            .integer(sql_count(limit))
                                            .text(worker)
                                            .integer(lease_until),
                                        kOperation);
    transaction.commit();  // the partners' locks go with it
    const Rows claimed_rows(rows, kOperation);
    claimed.reserve(static_cast<std::size_t>(claimed_rows.size()));
    for (int row = 0; row < claimed_rows.size(); ++row) {
      claimed.emplace_back(claimed_rows[row].integer("id"), delivery_from_row(claimed_rows[row]));
    }
  }
  return in_enqueue_order(std::move(claimed));
}

bool PostgresStore::finish_attempt(std::string_view worker, const core::AttemptOutcome& outcome) {
  constexpr std::string_view kOperation = "finish_attempt";
  const core::DeliveryAttempt& attempt = outcome.attempt;
  const FinishedRow finished_values = finished_row(outcome);
  Params finish;
  finish.text(attempt.event_id).text(worker).text(finished_values.status);
  if (finished_values.next_attempt_at) {
    finish.integer(*finished_values.next_attempt_at);
  } else {
    finish.null();
  }
  if (finished_values.delivered_at) {
    finish.integer(*finished_values.delivered_at);
  } else {
    finish.null();
  }
  finish.nullable_text(finished_values.last_error);

  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  const Result finished = connection->run(kFinishDelivery, finish, kOperation);
  // Not the owner (or not pending): the transaction rolls back, nothing written.
  if (finished.rows() == 0) return false;
  check_attempt_number(Rows(finished, kOperation)[0].integer("attempts"), attempt, kStoreName);
  connection->run(kInsertAttempt,
                  Params()
                      .text(attempt.event_id)
                      .integer(attempt.attempt)
                      .integer(attempt.started_at)
                      .nullable_integer(attempt.status_code)
                      .integer(attempt.latency_ms)
                      .nullable_text(attempt.error),
                  kOperation);
  transaction.commit();
  return true;
}

std::optional<core::UnixMillis> PostgresStore::next_due() {
  constexpr std::string_view kOperation = "next_due";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kNextDue, Params(), kOperation);
  if (rows.rows() == 0 || Rows(rows, kOperation)[0].is_null("due")) return std::nullopt;
  return Rows(rows, kOperation)[0].integer("due");
}

std::vector<core::Delivery> PostgresStore::list_deliveries(std::string_view client_id,
                                                           std::string_view status,
                                                           std::size_t limit) {
  constexpr std::string_view kOperation = "list_deliveries";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(
      kListDeliveries, Params().text(client_id).text(status).integer(sql_count(limit)), kOperation);
  return all_rows<core::Delivery>(rows, kOperation,
                                  [](const auto& row) { return delivery_from_row(row); });
}

std::optional<core::Delivery> PostgresStore::find_delivery(std::string_view event_id) {
  constexpr std::string_view kOperation = "find_delivery";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kFindDelivery, Params().text(event_id), kOperation);
  return first_row<core::Delivery>(rows, kOperation,
                                   [](const auto& row) { return delivery_from_row(row); });
}

std::vector<core::DeliveryAttempt> PostgresStore::delivery_attempts(std::string_view event_id) {
  constexpr std::string_view kOperation = "delivery_attempts";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kDeliveryAttempts, Params().text(event_id), kOperation);
  return all_rows<core::DeliveryAttempt>(rows, kOperation,
                                         [](const auto& row) { return attempt_from_row(row); });
}

bool PostgresStore::replay(std::string_view event_id, core::UnixMillis now) {
  constexpr std::string_view kOperation = "replay";
  auto connection = pool_->acquire(kOperation);
  return connection->run(kReplay, Params().text(event_id).integer(now), kOperation).rows() > 0;
}

std::vector<std::pair<std::string, std::int64_t>> PostgresStore::count_by_status() {
  constexpr std::string_view kOperation = "count_by_status";
  StatusCounts counts;
  auto connection = pool_->acquire(kOperation);
  const Result result = connection->run(kCountByStatus, Params(), kOperation);
  const Rows rows(result, kOperation);
  for (int row = 0; row < rows.size(); ++row) {
    counts.add(rows[row].text("status"), rows[row].integer("count"));
  }
  return counts.take();
}

// --- core::AuditStore ---

void PostgresStore::record_audit(const core::AuditEntry& entry) {
  constexpr std::string_view kOperation = "record_audit";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  write_audit(*connection, entry, kOperation);
  transaction.commit();
}

std::vector<core::AuditEntry> PostgresStore::list_audit(core::UnixMillis from, core::UnixMillis to,
                                                        std::size_t limit) {
  constexpr std::string_view kOperation = "list_audit";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(
      kListAudit, Params().integer(from).integer(to).integer(sql_count(limit)), kOperation);
  return all_rows<core::AuditEntry>(rows, kOperation,
                                    [](const auto& row) { return audit_from_row(row); });
}

std::vector<core::AuditEntry> PostgresStore::latest_audit(std::size_t limit) {
  constexpr std::string_view kOperation = "latest_audit";
  auto connection = pool_->acquire(kOperation);
  const Result rows = connection->run(kLatestAudit, Params().integer(sql_count(limit)), kOperation);
  return all_rows<core::AuditEntry>(rows, kOperation,
                                    [](const auto& row) { return audit_from_row(row); });
}

std::size_t PostgresStore::take_audit_before(
    core::UnixMillis cutoff, std::size_t batch,
    const std::function<void(const std::vector<core::AuditEntry>&)>& archive) {
  return take_audit(cutoff, batch, archive_without_entry(archive, kStoreName));
}

std::size_t PostgresStore::archive_audit_before(
    core::UnixMillis cutoff, std::size_t batch,
    const std::function<core::AuditEntry(const std::vector<core::AuditEntry>&)>& archive) {
  return take_audit(cutoff, batch, archive_with_entry(archive, kStoreName));
}

std::size_t PostgresStore::take_audit(core::UnixMillis cutoff, std::size_t batch,
                                      const AuditArchive& archive) {
  constexpr std::string_view kOperation = "take_audit_before";
  return take_audit_batches(batch, kStoreName, [&] {
    auto connection = pool_->acquire(kOperation);
    Transaction transaction(*connection, kOperation);
    connection->execute("SET LOCAL statement_timeout = 0", kOperation);
    const Result selected = connection->run(
        kOldestAudit, Params().integer(cutoff).integer(sql_count(batch)), kOperation);
    if (selected.rows() == 0) return std::size_t{0};  // rolls back the empty transaction
    const std::vector<core::AuditEntry> rows = all_rows<core::AuditEntry>(
        selected, kOperation, [](const auto& row) { return audit_from_row(row); });
    std::string ids = "{";
    for (const core::AuditEntry& row : rows) {
      if (ids.size() > 1) ids += ',';
      ids += std::to_string(row.id);
    }
    ids += '}';
    const std::optional<core::AuditEntry> entry = archive(rows);  // throws: nothing deleted
    const Result deleted = connection->run(kDeleteAudit, Params().text(ids), kOperation);
    // The rows are locked by this transaction: nobody else can have removed one.
    if (static_cast<std::size_t>(deleted.rows()) != rows.size()) {
      fail(kOperation, "deleted " + std::to_string(deleted.rows()) + " rows of " +
                           std::to_string(rows.size()) + " archived");
    }
    if (entry) write_audit(*connection, *entry, kOperation);
    transaction.commit();
    return rows.size();
  });
}

std::size_t PostgresStore::anonymise_user(std::string_view user_id) {
  constexpr std::string_view kOperation = "anonymise_user";
  if (user_id.empty()) return 0;
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  // A scan of every partition may take longer than a statement should.
  connection->execute("SET LOCAL statement_timeout = 0", kOperation);
  const Result changed = connection->run(kAnonymiseUser, Params().text(user_id), kOperation);
  transaction.commit();
  return static_cast<std::size_t>(changed.rows());
}

// --- core::UsageStore ---

core::UsageData PostgresStore::usage(const core::UsageQuery& q) {
  constexpr std::string_view kOperation = "usage";
  auto connection = pool_->acquire(kOperation);
  const auto params = [&] {
    return Params()
        .integer(q.from)
        .integer(q.to)
        .integer(q.bucket_ms)
        .text(q.claim_type)
        .text(q.verifier_id);
  };
  core::UsageData data;
  const Result counts = connection->run(kUsageCounts, params(), kOperation);
  data.counts = all_rows<core::UsageCount>(counts, kOperation, [](const auto& row) {
    return core::UsageCount{row.integer("bucket"), row.text("claim_type"), row.text("verifier_id"),
                            row.text("status"),    row.text("error_code"), row.integer("count")};
  });
  const Result latencies = connection->run(kUsageLatencies, params(), kOperation);
  data.latencies = all_rows<core::UsageLatency>(latencies, kOperation, [](const auto& row) {
    return core::UsageLatency{row.integer("bucket"),   row.text("claim_type"),
                              row.text("verifier_id"), row.integer("n"),
                              row.integer("p50_ms"),   row.integer("p95_ms")};
  });
  return data;
}

// --- core::AdminStore: each change with its audit entry, in one transaction ---

std::optional<std::string> PostgresStore::create_client(const core::Client& client,
                                                        const core::Client* test_twin,
                                                        const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "create_client";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  if (auto taken = write_client(*connection, client, kOperation)) return taken;  // rolls back
  if (test_twin) write_client(*connection, *test_twin, kOperation);
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return std::nullopt;
}

core::RevokeOutcome PostgresStore::revoke_key(std::string_view client_id, core::UnixMillis now,
                                              const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "revoke_key";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  if (connection->run(kRevokeKey, Params().text(client_id).integer(now), kOperation).rows() == 0) {
    return connection->run(kClientRevokedAt, Params().text(client_id), kOperation).rows() > 0
               ? core::RevokeOutcome::kAlreadyRevoked
               : core::RevokeOutcome::kUnknownClient;
  }
  connection->run(kMarkRevoked, Params().text(client_id).integer(now), kOperation);
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return core::RevokeOutcome::kRevoked;
}

core::PublishOutcome PostgresStore::publish_root(const core::IssuerRoot& root, core::UnixMillis now,
                                                 const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "publish_root";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  // Current already: nothing changes, the request is still audited.
  const auto outcome = write_root(*connection, root, now, kOperation);
  if (outcome == core::PublishOutcome::kReplacedBefore ||
      outcome == core::PublishOutcome::kOtherSide) {
    return outcome;  // rolls back
  }
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return outcome;
}

void PostgresStore::set_circuit_enabled(std::string_view claim_type, std::string_view version,
                                        bool enabled, core::UnixMillis now,
                                        const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_circuit_enabled";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  connection->run(kSetCircuitEnabled,
                  Params().text(claim_type).text(version).boolean(enabled).integer(now),
                  kOperation);
  write_audit(*connection, audit, kOperation);
  transaction.commit();
}

bool PostgresStore::rotate_webhook_secret(std::string_view client_id,
                                          std::string_view new_secret_sealed,
                                          core::UnixMillis previous_until, std::string_view url,
                                          const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "rotate_webhook_secret";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  const Result rows = connection->run(kRotateWebhookSecret,
                                      Params()
                                          .text(client_id)
                                          .nullable_bytes(new_secret_sealed)
                                          .integer(previous_until)
                                          .nullable_text(url),
                                      kOperation);
  if (rows.rows() == 0) return false;
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return true;
}

bool PostgresStore::replay(std::string_view event_id, core::UnixMillis now,
                           const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "replay";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  if (connection->run(kReplay, Params().text(event_id).integer(now), kOperation).rows() == 0)
    return false;
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return true;
}

void PostgresStore::enqueue_event(const core::OutboxEvent& event, core::UnixMillis now,
                                  const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "enqueue_event";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  insert_outbox_row(*connection, event, now, kOperation);
  write_audit(*connection, audit, kOperation);
  transaction.commit();
}

std::size_t PostgresStore::anonymise_user(
    std::string_view user_id, const std::function<core::AuditEntry(std::size_t)>& audit) {
  constexpr std::string_view kOperation = "anonymise_user";
  if (!audit) fail(kOperation, "no audit callback");
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  std::size_t changed = 0;
  if (!user_id.empty()) {
    // A scan of every partition may take longer than a statement should.
    connection->execute("SET LOCAL statement_timeout = 0", kOperation);
    changed = static_cast<std::size_t>(
        connection->run(kAnonymiseUser, Params().text(user_id), kOperation).rows());
  }
  write_audit(*connection, audit(changed), kOperation);
  transaction.commit();
  return changed;
}

std::optional<std::string> PostgresStore::update_client(const core::Client& client,
                                                        const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "update_client";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  if (connection
          ->run(kUpdateClient,
                Params()
                    .text(client.id)
                    .text(client.name)
                    .text(text_array(client.scopes))
                    .text(text_array(client.domains))
                    .nullable_text(client.webhook_url),
                kOperation)
          .rows() == 0) {
    fail(kOperation, "no partner '" + client.id + "'");
  }
  connection->run(
      kUpdateTwin,
      Params().text(client.id).text(text_array(client.scopes)).text(text_array(client.domains)),
      kOperation);
  connection->run(kReleaseDomains, Params().text(client.id), kOperation);
  if (client.mode == core::Mode::kLive) {
    if (auto taken = claim_domains(*connection, client, kOperation)) return taken;  // rolls back
  }
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return std::nullopt;
}

core::ClientChange PostgresStore::set_client_suspended(std::string_view client_id,
                                                       core::UnixMillis suspended_at,
                                                       const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "set_client_suspended";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  if (connection
          ->run(kSetSuspended, Params().text(client_id).nullable_integer(suspended_at), kOperation)
          .rows() == 0) {
    return connection->run(kClientRevokedAt, Params().text(client_id), kOperation).rows() > 0
               ? core::ClientChange::kUnchanged
               : core::ClientChange::kUnknownClient;
  }
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return core::ClientChange::kChanged;
}

core::ClientChange PostgresStore::rotate_key(std::string_view client_id, const core::ClientKey& key,
                                             core::UnixMillis old_expires_at,
                                             const core::AuditEntry& audit) {
  constexpr std::string_view kOperation = "rotate_key";
  auto connection = pool_->acquire(kOperation);
  Transaction transaction(*connection, kOperation);
  const std::string hash(reinterpret_cast<const char*>(key.hash.data()), key.hash.size());
  if (connection
          ->run(kSetCurrentKey, Params().text(client_id).text(key.prefix).bytes(hash), kOperation)
          .rows() == 0) {
    return core::ClientChange::kUnknownClient;
  }
  connection->run(kExpireKeys, Params().text(client_id).integer(old_expires_at), kOperation);
  write_key(*connection, client_id, key, kOperation);
  write_audit(*connection, audit, kOperation);
  transaction.commit();
  return core::ClientChange::kChanged;
}

bool PostgresStore::on_connection(std::string_view operation, const core::AuditEntry* audit,
                                  const std::function<bool(Connection&)>& work) {
  // One transaction with the audit entry when there is one; a single read or write otherwise.
  return with_connection(operation, audit != nullptr, [&](Connection& c, const SideWrites& side) {
    if (!work(c)) return false;  // rolls back
    if (audit) side.audit(*audit);
    return true;
  });
}

bool PostgresStore::with_connection(
    std::string_view operation, bool write,
    const std::function<bool(Connection&, const SideWrites&)>& work) {
  auto connection = pool_->acquire(operation);
  Connection& c = *connection;
  const SideWrites side{[&](const core::AuditEntry& e) { write_audit(c, e, operation); },
                        [&](const core::OutboxEvent& e, core::UnixMillis due) {
                          insert_outbox_row(c, e, due, operation);
                        }};
  if (!write) return work(c, side);
  Transaction transaction(c, operation);
  if (!work(c, side)) return false;
  transaction.commit();
  return true;
}

}  // namespace pg::store
