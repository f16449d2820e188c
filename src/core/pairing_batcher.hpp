// Batching of Groth16 pairing checks across concurrent verify requests (docs/scaling.md,
// "Batching across requests"): proofs under the same key that reach their pairing step together
// are checked with one PreparedVerifyingKey::verify_batch, each caller still getting its own
// verdict. A lone request under light load is checked at once and never waits.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "crypto/groth16.hpp"

namespace pg::core {

struct PairingBatchSettings {
  /// How long the first proof of a batch waits for others at most; 0: every proof alone.
  std::chrono::microseconds window{2000};
  /// A batch is checked as soon as it holds this many proofs (1: every proof alone).
  std::size_t max = 32;
  /// Called as each check starts (without the batcher's lock), with the number of proofs in it;
  /// tests hold a check running with it. Empty in the server. What it throws reaches the caller
  /// of a lone proof's check; in a batch it counts as the batch check throwing (every member
  /// then checks its own proof).
  std::function<void(std::size_t)> on_check_start;
};

/// Leader/follower batching. The first caller for a key opens a batch and leads it; callers
/// with the same key join while it is open. The leader closes the batch when it holds `max`
/// proofs, or when it has nothing to wait for: no check under its key is running, and either its
/// window has passed or no other verify is between its start and its pairing step (counted by
/// Pending). It then checks the batch (verify for a batch of one), publishes the verdicts and
/// wakes the followers, which wait on a condition variable (never spinning). Thread-safe; one
/// instance serves every worker thread.
///
/// One check per key at a time (a full batch excepted): proofs that reach their pairing step
/// while their key's check runs gather in the next batch, which starts as soon as that check
/// ends. Under light load nothing runs and nothing waits; as the load grows, batches grow with it
/// (they hold what arrived during one check), so the pairing work per proof falls as the load
/// rises instead of the checks competing for the cores one proof at a time.
class PairingBatcher {
 public:
  explicit PairingBatcher(PairingBatchSettings settings = {});
  PairingBatcher(const PairingBatcher&) = delete;
  PairingBatcher& operator=(const PairingBatcher&) = delete;

  /// Marks one verify request under `key` between its start and its pairing step (RAII): while
  /// any is pending under a key, an open batch for that key may still gain a proof, so its leader
  /// waits (up to the window); requests under other keys never hold it. Released when the
  /// request reaches verify() with it, or when it ends before (a refusal). A null key marks
  /// nothing (a request for no known circuit never reaches a pairing step), nor does any
  /// request while batching is off.
  class Pending {
   public:
    Pending(PairingBatcher& batcher, const crypto::PreparedVerifyingKey* key);
    ~Pending();
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;

   private:
    friend class PairingBatcher;
    PairingBatcher* batcher_;
    const crypto::PreparedVerifyingKey* key_;
    bool held_ = true;
  };

  /// key->verify(proof, publics), possibly checked in one batch with other callers' proofs under
  /// the same key. `pending`, when given (made with this batcher), is released as this proof joins
  /// a batch (atomically, so a leader never closes a batch the proof was about to join). An
  /// exception of the batch check makes every member check its own proof alone, so an exception
  /// reaches only the caller whose own check throws.
  bool verify(const std::shared_ptr<const crypto::PreparedVerifyingKey>& key,
              const crypto::Proof& proof, std::span<const crypto::Fr> publics,
              Pending* pending = nullptr);

  const PairingBatchSettings& settings() const noexcept { return settings_; }

  /// Batch sizes are counted in buckets of upper bounds 1, 2, 4, ..., 256.
  static constexpr std::size_t kBuckets = 9;
  struct Stats {
    std::array<std::uint64_t, kBuckets> size_buckets{};  // cumulative, as Prometheus wants
    std::uint64_t batches = 0;                           // checks run (a lone proof counts one)
    std::uint64_t proofs = 0;
    std::uint64_t bisected = 0;  // batches of two or more whose combined check failed
  };
  Stats stats() const;
  /// Leaders waiting for their batch to fill, or for their key's running check, now (tests wait
  /// on it).
  std::size_t waiting_leaders() const;
  /// Checks running now under any key (tests wait on it).
  std::size_t running_checks() const;
  /// Followers waiting for their batch's verdicts now (tests wait on it).
  std::size_t waiting_followers() const;
  /// proofgate_verify_batch_size (histogram) and proofgate_verify_batch_bisections_total.
  std::string render_metrics() const;

 private:
  struct Batch;
  void release(Pending& pending);  // with mu_ held
  bool lead(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Batch>& batch);
  void record(std::size_t size, bool bisected) noexcept;

  const PairingBatchSettings settings_;
  mutable std::mutex mu_;
  /// Leaders of open batches wait here for a join, a pending request's arrival, or the window.
  std::condition_variable leaders_cv_;
  std::size_t waiting_leaders_ = 0;
  std::size_t waiting_followers_ = 0;
  /// Per key: requests between their start and their pairing step.
  std::unordered_map<const crypto::PreparedVerifyingKey*, std::size_t> pending_;
  /// Per key: checks running now (more than one only when full batches overlap).
  std::unordered_map<const crypto::PreparedVerifyingKey*, std::size_t> running_;
  std::unordered_map<const crypto::PreparedVerifyingKey*, std::shared_ptr<Batch>> open_;

  std::array<std::atomic<std::uint64_t>, kBuckets> size_counts_{};  // not cumulative
  std::atomic<std::uint64_t> batches_{0}, proofs_{0}, bisected_{0};
};

}  // namespace pg::core
