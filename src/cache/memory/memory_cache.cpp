// In-process expiring keys and token buckets (see memory_cache.hpp).
#include "cache/memory/memory_cache.hpp"

#include <algorithm>
#include <limits>

namespace pg::cache {

bool MemoryCache::add(std::string_view key, std::chrono::milliseconds ttl) {
  const core::UnixMillis now = clock_.now_ms();
  std::lock_guard lock(mu_);
  if (keys_.size() >= sweep_at_) sweep_locked(now);
  auto [it, inserted] = keys_.try_emplace(std::string(key), now + ttl.count());
  if (inserted) return true;
  if (it->second <= now) {
    it->second = now + ttl.count();
    return true;
  }
  return false;
}

void MemoryCache::remove(std::string_view key) {
  std::lock_guard lock(mu_);
  keys_.erase(std::string(key));
}

core::RateDecision MemoryCache::take_token(std::string_view bucket, double rate, double burst) {
  const core::UnixMillis now = clock_.now_ms();
  std::lock_guard lock(mu_);
  if (buckets_.size() >= bucket_sweep_at_) sweep_buckets_locked(now);
  auto [it, inserted] = buckets_.try_emplace(std::string(bucket), Bucket{burst, now, now});
  Bucket& b = it->second;
  // The clock is read before the lock: a caller whose time is behind the bucket's (another
  // thread read a later time but took the lock first) refills nothing, and takes nothing away.
  if (!inserted && now > b.at) {
    b.tokens = std::min(burst, b.tokens + rate * double(now - b.at) / 1000.0);
    b.at = now;
  }
  core::RateDecision decision{false, 0};
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    decision = {true, 0};
  } else {
    decision = {false, (1.0 - b.tokens) / rate};
  }
  b.full_at = rate > 0 ? now + static_cast<core::UnixMillis>((burst - b.tokens) / rate * 1000.0) + 1
                       : std::numeric_limits<core::UnixMillis>::max();
  return decision;
}

std::size_t MemoryCache::bucket_count() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

void MemoryCache::sweep_buckets_locked(core::UnixMillis now) {
  std::erase_if(buckets_, [now](const auto& kv) { return kv.second.full_at <= now; });
  bucket_sweep_at_ = std::max<std::size_t>(1024, buckets_.size() * 2);
}

std::size_t MemoryCache::size() {
  std::lock_guard lock(mu_);
  sweep_locked(clock_.now_ms());
  return keys_.size();
}

void MemoryCache::sweep_locked(core::UnixMillis now) {
  std::erase_if(keys_, [now](const auto& kv) { return kv.second <= now; });
  sweep_at_ = std::max<std::size_t>(1024, keys_.size() * 2);
}

}  // namespace pg::cache
