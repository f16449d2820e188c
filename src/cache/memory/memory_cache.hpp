// The in-process cache of the embedded default: expiring keys (nonce fast path, in-flight
// idempotency keys) and token buckets, behind the core Cache port.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/ports.hpp"

namespace pg::cache {

class MemoryCache final : public core::Cache {
 public:
  explicit MemoryCache(const core::Clock& clock) : clock_(clock) {}
  bool add(std::string_view key, std::chrono::milliseconds ttl) override;
  void remove(std::string_view key) override;
  core::RateDecision take_token(std::string_view bucket, double rate, double burst) override;
  bool ping() noexcept override { return true; }
  /// Keys held now (expired ones are swept as the map grows).
  std::size_t size();
  /// Token buckets held now: a bucket full again is dropped as the map grows (a new one starts
  /// full, so nothing changes), so requests naming ever new buckets cannot grow it without bound.
  std::size_t bucket_count();

 private:
  struct Bucket {
    double tokens;
    core::UnixMillis at;
    core::UnixMillis full_at;  // when it holds `burst` tokens again
  };
  void sweep_locked(core::UnixMillis now);
  void sweep_buckets_locked(core::UnixMillis now);

  const core::Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, core::UnixMillis> keys_;  // key -> expiry
  std::unordered_map<std::string, Bucket> buckets_;
  std::size_t sweep_at_ = 1024;
  std::size_t bucket_sweep_at_ = 1024;
};

}  // namespace pg::cache
