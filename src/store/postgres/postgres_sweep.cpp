// core::SweepStore on PostgresStore: each kind in its own transaction of at most `limit` rows,
// under the sweep's advisory lock (instances never sweep at once; one that finds it taken stops and
// says busy), rows taken FOR UPDATE SKIP LOCKED so a row a verify or a replay holds is left for the
// next run. Indexes: migration 0014.
#include "store/postgres/connection.hpp"
#include "store/postgres/postgres_store.hpp"

namespace pg::store {

namespace {
using postgres::Connection;
using postgres::Params;
using postgres::Result;
using postgres::Statement;

constexpr std::int64_t kSweepLockKey = 0x70677377;  // 'pgsw'
constexpr Statement kTrySweepLock{"sweep_try_lock",
                                  "SELECT pg_try_advisory_xact_lock($1::bigint) AS locked", false};

// $1 the cutoff, $2 the batch size; each answers the rows it deleted as n (and attempts).
constexpr Statement kSweepRequests{"sweep_requests", R"sql(
  WITH d AS (DELETE FROM proof_requests WHERE id IN (
    SELECT id FROM proof_requests WHERE expires_at < $1 ORDER BY expires_at LIMIT $2::bigint
    FOR UPDATE SKIP LOCKED) RETURNING 1)
  SELECT count(*) AS n, 0::bigint AS attempts FROM d)sql",
                                   false};
constexpr Statement kSweepIdempotency{"sweep_idempotency", R"sql(
  WITH d AS (DELETE FROM idempotency_keys WHERE (verifier_id, key) IN (
    SELECT verifier_id, key FROM idempotency_keys WHERE expires_at < $1 ORDER BY expires_at
    LIMIT $2::bigint FOR UPDATE SKIP LOCKED) RETURNING 1)
  SELECT count(*) AS n, 0::bigint AS attempts FROM d)sql",
                                      false};
// The replay guard and find_proof's way in: only past the window ($1), once no outbox row names
// the proof (the foreign key) and no request it answers can still be answered at $3.
constexpr Statement kSweepNonces{"sweep_nonces", R"sql(
  WITH d AS (DELETE FROM proof_nonces WHERE proof_id IN (
    SELECT n.proof_id FROM proof_nonces n
    WHERE n.created_at < $1
      AND NOT EXISTS (SELECT 1 FROM webhooks_outbox o WHERE o.proof_id = n.proof_id)
      AND NOT EXISTS (SELECT 1 FROM proof_requests r WHERE r.verifier_id = n.verifier_id
                        AND r.nonce = n.request_nonce AND r.expires_at >= $3)
    ORDER BY n.created_at LIMIT $2::bigint FOR UPDATE OF n SKIP LOCKED) RETURNING 1)
  SELECT count(*) AS n, 0::bigint AS attempts FROM d)sql",
                                 false};
// Settled outbox rows and their attempts in one statement (the foreign key is checked at its end).
constexpr Statement kSweepDelivered{"sweep_delivered", R"sql(
  WITH batch AS (
    SELECT id, event_id FROM webhooks_outbox
    WHERE status = 'delivered' AND delivered_at < $1
    ORDER BY delivered_at, id LIMIT $2::bigint FOR UPDATE SKIP LOCKED),
  a AS (DELETE FROM webhook_attempts WHERE event_id IN (SELECT event_id FROM batch) RETURNING 1),
  o AS (DELETE FROM webhooks_outbox WHERE id IN (SELECT id FROM batch) RETURNING 1)
  SELECT (SELECT count(*) FROM o) AS n, (SELECT count(*) FROM a) AS attempts)sql",
                                    false};
constexpr Statement kSweepDead{"sweep_dead", R"sql(
  WITH batch AS (
    SELECT id, event_id FROM webhooks_outbox
    WHERE status = 'dead' AND created_at < $1
    ORDER BY created_at, id LIMIT $2::bigint FOR UPDATE SKIP LOCKED),
  a AS (DELETE FROM webhook_attempts WHERE event_id IN (SELECT event_id FROM batch) RETURNING 1),
  o AS (DELETE FROM webhooks_outbox WHERE id IN (SELECT id FROM batch) RETURNING 1)
  SELECT (SELECT count(*) FROM o) AS n, (SELECT count(*) FROM a) AS attempts)sql",
                               false};
}  // namespace

core::SweepCounts PostgresStore::sweep_batch(core::UnixMillis now, const core::SweepWindows& w,
                                             std::size_t limit, bool dry_run) {
  constexpr std::string_view kOperation = "sweep";
  core::SweepCounts counts;
  const auto limit64 = static_cast<std::int64_t>(limit);
  const auto sweep = [&](const Statement& statement, core::UnixMillis cutoff,
                         bool with_now) -> std::uint64_t {
    if (counts.busy) return 0;
    std::uint64_t n = 0;
    with_connection(kOperation, true, [&](Connection& c, const SideWrites&) {
      const Result locked = c.run(kTrySweepLock, Params().integer(kSweepLockKey), kOperation);
      if (!locked.boolean(0, 0)) {
        counts.busy = true;
        return false;
      }
      Params params;
      params.integer(cutoff).integer(limit64);
      if (with_now) params.integer(now);
      const Result r = c.run(statement, params, kOperation);
      n = static_cast<std::uint64_t>(r.integer(0, 0));
      counts.webhook_attempts += static_cast<std::uint64_t>(r.integer(0, 1));
      return !dry_run;  // a dry run rolls back
    });
    if (n >= limit) counts.more = true;
    return n;
  };
  counts.outbox_delivered = sweep(kSweepDelivered, now - w.delivered_keep_ms, false);
  counts.outbox_dead = sweep(kSweepDead, now - w.dead_keep_ms, false);
  counts.proof_nonces = sweep(kSweepNonces, now - w.nonce_keep_ms, true);
  counts.proof_requests = sweep(kSweepRequests, now - w.request_keep_ms, false);
  counts.idempotency_keys = sweep(kSweepIdempotency, now, false);
  return counts;
}

}  // namespace pg::store
