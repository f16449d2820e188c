// The sweeps of rows nothing can need any more (docs/scaling.md, "Retention and partition
// maintenance"): expired proof requests, idempotency keys past their expiry, proof nonces past the
// status-lookup window, settled webhook outbox rows and their attempts past the replay window.
// Each store deletes in batches of at most `limit` rows of each kind per transaction, so a sweep
// never holds the write lock for long; run_sweep loops batches within a per-run budget.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/model.hpp"

namespace pg::core {

/// How long each kind of row is kept after it stops being needed (milliseconds).
struct SweepWindows {
  /// A proof request is deleted this long after its expires_at (support looks it up meanwhile;
  /// once gone, a proof for its nonce is refused as NOT_FOUND, never accepted).
  std::int64_t request_keep_ms = 7LL * 86400 * 1000;
  /// A proof nonce (PostgreSQL's proof_nonces: the replay guard and find_proof's way in) is deleted
  /// this long after its proof, once no outbox row names its proof and no request it answers can
  /// still be answered. Status lookups of that proof answer 404 afterwards.
  std::int64_t nonce_keep_ms = 90LL * 86400 * 1000;
  /// A delivered outbox row (and its attempts) is deleted this long after its delivery: the
  /// admin's replay window.
  std::int64_t delivered_keep_ms = 30LL * 86400 * 1000;
  /// A dead outbox row (and its attempts) is deleted this long after it was created.
  std::int64_t dead_keep_ms = 90LL * 86400 * 1000;
};

/// Rows removed (or, in a dry run, that would be) by kind.
struct SweepCounts {
  std::uint64_t proof_requests = 0;
  std::uint64_t idempotency_keys = 0;
  std::uint64_t proof_nonces = 0;
  std::uint64_t outbox_delivered = 0;
  std::uint64_t outbox_dead = 0;
  std::uint64_t webhook_attempts = 0;
  /// Some kind filled its batch: more rows of it may be due.
  bool more = false;
  /// Another process holds the sweep lock (PostgreSQL): nothing was done.
  bool busy = false;

  std::uint64_t total() const {
    return proof_requests + idempotency_keys + proof_nonces + outbox_delivered + outbox_dead +
           webhook_attempts;
  }
  SweepCounts& operator+=(const SweepCounts& o) {
    proof_requests += o.proof_requests;
    idempotency_keys += o.idempotency_keys;
    proof_nonces += o.proof_nonces;
    outbox_delivered += o.outbox_delivered;
    outbox_dead += o.outbox_dead;
    webhook_attempts += o.webhook_attempts;
    return *this;
  }
};

/// The port: one batch of the sweep. Never deletes a pending outbox row, a request or nonce that a
/// proof can still be answered for, or a row another row references.
class SweepStore {
 public:
  virtual ~SweepStore() = default;
  /// Deletes, each kind in its own transaction, at most `limit` rows of each kind (outbox rows
  /// count once; their attempts go with them) that are due at `now`. With `dry_run`, counts what
  /// would go and rolls every transaction back.
  virtual SweepCounts sweep_batch(UnixMillis now, const SweepWindows& windows, std::size_t limit,
                                  bool dry_run) = 0;
};

struct SweepBudget {
  std::size_t batch = 1000;                   // rows of each kind per transaction
  std::uint64_t max_rows = 100000;            // stop a run after this many rows
  std::chrono::milliseconds max_time{10000};  // or after this long
};

/// Batches until nothing more is due, the budget is spent or another process holds the lock. A dry
/// run is one batch of max_rows (nothing is deleted, so looping would count the same rows again).
SweepCounts run_sweep(SweepStore& store, const std::function<UnixMillis()>& now,
                      const SweepWindows& windows, const SweepBudget& budget, bool dry_run);

}  // namespace pg::core
