// core::SweepStore on SqliteStore: each kind in its own BEGIN IMMEDIATE transaction of at most
// `limit` rows (indexes: migration 0015). The replay guard here is proofs' unique
// (verifier_id, request_nonce), and proofs are kept: there are no nonce rows to sweep.
#include <sqlite3.h>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::store {

namespace {
using sqlite::prepare;
using sqlite::Query;

// ?1 the cutoff, ?2 the batch size.
constexpr std::string_view kSweepRequests = R"sql(
  DELETE FROM proof_requests WHERE rowid IN (
    SELECT rowid FROM proof_requests WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2))sql";
constexpr std::string_view kSweepIdempotency = R"sql(
  DELETE FROM idempotency_keys WHERE (verifier_id, key) IN (
    SELECT verifier_id, key FROM idempotency_keys WHERE expires_at < ?1
    ORDER BY expires_at LIMIT ?2))sql";
// The same batch twice in one transaction (the order is total): its attempts, then its rows.
constexpr std::string_view kDeliveredBatch = R"sql(
  SELECT event_id FROM webhooks_outbox WHERE status = 'delivered' AND delivered_at < ?1
  ORDER BY delivered_at, id LIMIT ?2)sql";
constexpr std::string_view kDeadBatch = R"sql(
  SELECT event_id FROM webhooks_outbox WHERE status = 'dead' AND created_at < ?1
  ORDER BY created_at, id LIMIT ?2)sql";
}  // namespace

core::SweepCounts SqliteStore::sweep_batch(core::UnixMillis now, const core::SweepWindows& w,
                                           std::size_t limit, bool dry_run) {
  constexpr std::string_view kOperation = "sweep";
  core::SweepCounts counts;
  const auto limit64 = static_cast<std::int64_t>(limit);
  // One kind: `statements` run in one transaction; returns the changes of the last one and adds
  // the others' to `extra`.
  const auto sweep = [&](std::initializer_list<std::string> statements, core::UnixMillis cutoff,
                         std::uint64_t* extra) {
    std::uint64_t last = 0;
    with_connection(kOperation, true, [&](sqlite3* db, const SideWrites&) {
      for (const std::string& sql : statements) {
        const auto statement = prepare(db, sql, kOperation, false);
        Query(db, statement, kOperation).integer(1, cutoff).integer(2, limit64).run();
        last = static_cast<std::uint64_t>(sqlite3_changes(db));
        if (extra && &sql != statements.end() - 1) *extra += last;
      }
      return !dry_run;  // a dry run rolls back
    });
    if (last >= limit) counts.more = true;
    return last;
  };
  const auto outbox = [&](std::string_view batch, core::UnixMillis cutoff) {
    const std::string ids(batch);
    return sweep({"DELETE FROM webhook_attempts WHERE event_id IN (" + ids + ")",
                  "DELETE FROM webhooks_outbox WHERE event_id IN (" + ids + ")"},
                 cutoff, &counts.webhook_attempts);
  };
  counts.outbox_delivered = outbox(kDeliveredBatch, now - w.delivered_keep_ms);
  counts.outbox_dead = outbox(kDeadBatch, now - w.dead_keep_ms);
  counts.proof_requests = sweep({std::string(kSweepRequests)}, now - w.request_keep_ms, nullptr);
  counts.idempotency_keys = sweep({std::string(kSweepIdempotency)}, now, nullptr);
  return counts;
}

}  // namespace pg::store
