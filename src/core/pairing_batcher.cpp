// Leader/follower batching of pairing checks (pairing_batcher.hpp).
#include "core/pairing_batcher.hpp"

#include <bit>
#include <exception>
#include <utility>
#include <vector>

namespace pg::core {

using crypto::PreparedVerifyingKey;

struct PairingBatcher::Batch {
  std::shared_ptr<const PreparedVerifyingKey> key;
  std::vector<PreparedVerifyingKey::BatchItem> items;
  std::vector<bool> verdicts;
  bool closed = false;    // no more joins: the leader is checking it
  bool done = false;      // verdicts (or fallback) published
  bool fallback = false;  // the batch check threw: every member checks its own proof
  std::condition_variable done_cv;
};

PairingBatcher::PairingBatcher(PairingBatchSettings settings) : settings_(settings) {}

PairingBatcher::Pending::Pending(PairingBatcher& batcher, const PreparedVerifyingKey* key)
    : batcher_(&batcher),
      key_(key),
      // With batching off nothing waits for anyone: no mark, no lock on the verify path.
      held_(key != nullptr && batcher.settings_.window.count() > 0 && batcher.settings_.max > 1) {
  if (!held_) return;
  std::lock_guard lock(batcher_->mu_);
  ++batcher_->pending_[key_];
}

PairingBatcher::Pending::~Pending() {
  if (!held_) return;
  std::lock_guard lock(batcher_->mu_);
  batcher_->release(*this);
}

void PairingBatcher::release(Pending& pending) {
  if (!pending.held_ || pending.batcher_ != this) return;
  pending.held_ = false;
  if (const auto it = pending_.find(pending.key_); it != pending_.end() && --it->second == 0)
    pending_.erase(it);
  // A leader waiting for this request can stop waiting once nothing else is on its way.
  if (waiting_leaders_ > 0) leaders_cv_.notify_all();
}

bool PairingBatcher::verify(const std::shared_ptr<const PreparedVerifyingKey>& key,
                            const crypto::Proof& proof, std::span<const crypto::Fr> publics,
                            Pending* pending) {
  if (settings_.window.count() <= 0 || settings_.max <= 1) {
    if (pending) {
      std::lock_guard lock(mu_);
      release(*pending);
    }
    record(1, false);
    return key->verify(proof, publics);
  }
  // Copied before taking the lock, which is held only for bookkeeping.
  PreparedVerifyingKey::BatchItem item{proof, {publics.begin(), publics.end()}};
  std::unique_lock lock(mu_);
  if (pending) release(*pending);
  if (const auto it = open_.find(key.get()); it != open_.end()) {
    // A follower: join the open batch and wait for its verdicts.
    const std::shared_ptr<Batch> batch = it->second;
    const std::size_t index = batch->items.size();
    batch->items.push_back(std::move(item));
    if (batch->items.size() >= settings_.max) {
      batch->closed = true;
      open_.erase(it);
    }
    if (waiting_leaders_ > 0) leaders_cv_.notify_all();
    ++waiting_followers_;
    batch->done_cv.wait(lock, [&] { return batch->done; });
    --waiting_followers_;
    if (batch->fallback) {
      lock.unlock();
      return key->verify(proof, publics);
    }
    return batch->verdicts[index];
  }
  auto batch = std::make_shared<Batch>();
  batch->key = key;
  batch->items.push_back(std::move(item));
  open_.emplace(key.get(), batch);
  return lead(lock, batch);
}

bool PairingBatcher::lead(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Batch>& batch) {
  const crypto::PreparedVerifyingKey* id = batch->key.get();
  const auto deadline = std::chrono::steady_clock::now() + settings_.window;
  while (!batch->closed && batch->items.size() < settings_.max) {
    // Proofs arriving while the key's check runs join this batch; it starts when that ends.
    const bool check_running = running_.contains(id);
    // A verify on its way to its pairing step may join, within the window.
    const bool more_coming = pending_.contains(id) && std::chrono::steady_clock::now() < deadline;
    if (!check_running && !more_coming) break;
    ++waiting_leaders_;
    if (more_coming) {
      leaders_cv_.wait_until(lock, deadline);
    } else {
      leaders_cv_.wait(lock);  // the running check's end notifies
    }
    --waiting_leaders_;
  }
  ++running_[id];  // first: it may allocate, and a throw must leave the batch open to its leader
  if (!batch->closed) {
    batch->closed = true;
    open_.erase(id);
  }
  // Closed: the items no longer change, so they are read without the lock.
  lock.unlock();
  struct CheckEnds {  // the key's next batch may start once this check has ended, however
    PairingBatcher& self;
    std::unique_lock<std::mutex>& lock;
    const crypto::PreparedVerifyingKey* id;
    ~CheckEnds() {
      if (!lock.owns_lock()) lock.lock();
      if (const auto it = self.running_.find(id); it != self.running_.end() && --it->second == 0)
        self.running_.erase(it);
      if (self.waiting_leaders_ > 0) self.leaders_cv_.notify_all();
      lock.unlock();
    }
  };
  const PreparedVerifyingKey& key = *batch->key;
  const auto& items = batch->items;
  if (items.size() == 1) {
    // Nobody joined, and nobody can: the leader's own check, its exception its own.
    const CheckEnds ends{*this, lock, id};
    if (settings_.on_check_start) settings_.on_check_start(1);
    record(1, false);
    return key.verify(items[0].proof, items[0].publics);
  }
  std::vector<bool> verdicts;
  bool fallback = false;
  bool all_valid = false;
  {
    // Only the combined check holds the key's turn: a failing batch is bisected after it, so a
    // batch with bad proofs never keeps the next batch waiting through its bisection.
    const CheckEnds ends{*this, lock, id};
    try {
      if (settings_.on_check_start) settings_.on_check_start(items.size());
      all_valid = key.verify_together(items);
    } catch (...) {
      fallback = true;
    }
  }
  if (!fallback) {
    try {
      verdicts = all_valid ? std::vector<bool>(items.size(), true) : key.verify_halves(items);
    } catch (...) {
      fallback = true;
    }
  }
  if (!fallback) record(items.size(), !all_valid);
  lock.lock();
  batch->verdicts = std::move(verdicts);
  batch->fallback = fallback;
  batch->done = true;
  batch->done_cv.notify_all();
  lock.unlock();
  if (fallback) return key.verify(items[0].proof, items[0].publics);
  return batch->verdicts[0];
}

void PairingBatcher::record(std::size_t size, bool bisected) noexcept {
  // Bucket b holds sizes in (2^(b-1), 2^b]; the last one everything above.
  std::size_t bucket = size <= 1 ? 0 : static_cast<std::size_t>(std::bit_width(size - 1));
  if (bucket >= kBuckets) bucket = kBuckets - 1;
  size_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  proofs_.fetch_add(size, std::memory_order_relaxed);
  if (bisected) bisected_.fetch_add(1, std::memory_order_relaxed);
}

std::size_t PairingBatcher::waiting_leaders() const {
  std::lock_guard lock(mu_);
  return waiting_leaders_;
}

std::size_t PairingBatcher::waiting_followers() const {
  std::lock_guard lock(mu_);
  return waiting_followers_;
}

std::size_t PairingBatcher::running_checks() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, count] : running_) n += count;
  return n;
}

PairingBatcher::Stats PairingBatcher::stats() const {
  Stats s;
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    cumulative += size_counts_[b].load(std::memory_order_relaxed);
    s.size_buckets[b] = cumulative;
  }
  s.batches = batches_.load(std::memory_order_relaxed);
  s.proofs = proofs_.load(std::memory_order_relaxed);
  s.bisected = bisected_.load(std::memory_order_relaxed);
  return s;
}

std::string PairingBatcher::render_metrics() const {
  const Stats s = stats();
  std::string out =
      "# HELP proofgate_verify_batch_size Proofs checked together in one pairing check "
      "(batching across requests; 1: a proof checked alone).\n"
      "# TYPE proofgate_verify_batch_size histogram\n";
  for (std::size_t b = 0; b < kBuckets; ++b) {
    out += "proofgate_verify_batch_size_bucket{le=\"" + std::to_string(std::size_t{1} << b) +
           "\"} " + std::to_string(s.size_buckets[b]) + "\n";
  }
  // +Inf and _count from the buckets themselves, so a scrape between two counters' updates never
  // shows a count below a bucket.
  const std::string count = std::to_string(s.size_buckets[kBuckets - 1]);
  out += "proofgate_verify_batch_size_bucket{le=\"+Inf\"} " + count + "\n";
  out += "proofgate_verify_batch_size_sum " + std::to_string(s.proofs) + "\n";
  out += "proofgate_verify_batch_size_count " + count + "\n";
  out +=
      "# HELP proofgate_verify_batch_bisections_total Batches whose combined check failed (at "
      "least one invalid proof) and were bisected to find the invalid ones.\n"
      "# TYPE proofgate_verify_batch_bisections_total counter\n"
      "proofgate_verify_batch_bisections_total " +
      std::to_string(s.bisected) + "\n";
  return out;
}

}  // namespace pg::core
