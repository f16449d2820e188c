// What every core::Cache must do, as one value-parameterised GoogleTest suite over backend
// factories: one suite, two backends (MemoryCache, RedisCache). It runs on real time (short TTLs
// and sleeps), since RedisCache keeps time on the server. It defines the tests, so include it in
// exactly one translation unit per test executable.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "core/ports.hpp"

namespace pg::cache::test {

/// Milliseconds, short to write.
constexpr std::chrono::milliseconds ms(std::int64_t n) {
  return std::chrono::milliseconds(n);
}

struct CacheBackendFactory {
  std::string name;                                    // test-name suffix: [A-Za-z0-9_]
  std::function<std::unique_ptr<core::Cache>()> make;  // a fresh, empty cache at every call
};

inline void PrintTo(const CacheBackendFactory& factory, std::ostream* out) {
  *out << factory.name;
}

/// For INSTANTIATE_TEST_SUITE_P: names each instance after its backend.
inline std::string backend_name(const ::testing::TestParamInfo<CacheBackendFactory>& info) {
  return info.param.name;
}

class CacheSuite : public ::testing::TestWithParam<CacheBackendFactory> {
 protected:
  void SetUp() override { cache_ = GetParam().make(); }
  core::Cache& cache() { return *cache_; }

  std::unique_ptr<core::Cache> cache_;
};

/// Runs `body(thread_index)` on `n` threads released together.
inline void race(int n, const std::function<void(int)>& body) {
  std::barrier start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i);
    });
  }
  for (auto& t : threads) t.join();
}

TEST_P(CacheSuite, add_sets_a_key_only_while_it_is_absent) {
  EXPECT_TRUE(cache().add("nonce:c1:n1", ms(10000)));
  EXPECT_FALSE(cache().add("nonce:c1:n1", ms(10000)));
  EXPECT_FALSE(cache().add("nonce:c1:n1", ms(1)));
  EXPECT_TRUE(cache().add("nonce:c1:n2", ms(10000)));
  EXPECT_TRUE(cache().add("nonce:c2:n1", ms(10000)));
}

TEST_P(CacheSuite, add_succeeds_again_once_the_ttl_passed) {
  EXPECT_TRUE(cache().add("idem:c1:k", ms(150)));
  EXPECT_FALSE(cache().add("idem:c1:k", ms(150)));
  std::this_thread::sleep_for(ms(250));
  EXPECT_TRUE(cache().add("idem:c1:k", ms(10000)));
  EXPECT_FALSE(cache().add("idem:c1:k", ms(10000)));
}

TEST_P(CacheSuite, a_refused_add_does_not_extend_the_ttl) {
  EXPECT_TRUE(cache().add("k", ms(600)));
  std::this_thread::sleep_for(ms(100));
  EXPECT_FALSE(cache().add("k", ms(60000)));
  std::this_thread::sleep_for(ms(700));
  EXPECT_TRUE(cache().add("k", ms(60000)));
}

TEST_P(CacheSuite, remove_frees_the_key_at_once) {
  EXPECT_TRUE(cache().add("k", ms(60000)));
  cache().remove("k");
  EXPECT_TRUE(cache().add("k", ms(60000)));
  EXPECT_FALSE(cache().add("k", ms(60000)));
}

TEST_P(CacheSuite, remove_of_an_absent_key_changes_nothing) {
  cache().remove("never-added");
  EXPECT_TRUE(cache().add("other", ms(60000)));
  cache().remove("never-added");
  EXPECT_FALSE(cache().add("other", ms(60000)));
}

TEST_P(CacheSuite, keys_may_hold_any_bytes) {
  const std::string odd = std::string("nonce:c\0l:\xff\r\n ", 14);
  EXPECT_TRUE(cache().add(odd, ms(60000)));
  EXPECT_FALSE(cache().add(odd, ms(60000)));
  EXPECT_TRUE(cache().add(odd.substr(0, 7), ms(60000)));
}

TEST_P(CacheSuite, concurrent_adds_of_one_key_succeed_exactly_once) {
  constexpr int kThreads = 16, kKeys = 20;
  std::atomic<int> wins[kKeys] = {};
  race(kThreads, [&](int) {
    for (int k = 0; k < kKeys; ++k) {
      if (cache().add("race:" + std::to_string(k), ms(60000))) wins[k]++;
    }
  });
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(wins[k].load(), 1) << "key " << k;
}

TEST_P(CacheSuite, token_bucket_allows_the_burst_then_refuses_with_a_retry_after) {
  for (int i = 0; i < 5; ++i) {
    const core::RateDecision d = cache().take_token("rate:c1", 1.0, 5.0);
    EXPECT_TRUE(d.allowed) << "token " << i;
    EXPECT_EQ(d.retry_after_seconds, 0.0);
  }
  const core::RateDecision refused = cache().take_token("rate:c1", 1.0, 5.0);
  EXPECT_FALSE(refused.allowed);
  // About one token's time at 1 per second, less what trickled in since the first take.
  EXPECT_GT(refused.retry_after_seconds, 0.5);
  EXPECT_LE(refused.retry_after_seconds, 1.0);
}

TEST_P(CacheSuite, retry_after_is_the_time_to_the_next_whole_token) {
  EXPECT_TRUE(cache().take_token("b", 2.0, 1.0).allowed);
  const core::RateDecision d = cache().take_token("b", 2.0, 1.0);
  EXPECT_FALSE(d.allowed);
  // Half a second per token, less what trickled in between the two calls.
  EXPECT_GT(d.retry_after_seconds, 0.3);
  EXPECT_LE(d.retry_after_seconds, 0.5);
}

TEST_P(CacheSuite, token_bucket_refills_at_the_rate) {
  EXPECT_TRUE(cache().take_token("b", 5.0, 1.0).allowed);
  EXPECT_FALSE(cache().take_token("b", 5.0, 1.0).allowed);
  std::this_thread::sleep_for(ms(300));  // 1.5 tokens at 5 per second, capped at the burst of 1
  EXPECT_TRUE(cache().take_token("b", 5.0, 1.0).allowed);
  EXPECT_FALSE(cache().take_token("b", 5.0, 1.0).allowed);
}

TEST_P(CacheSuite, token_bucket_never_holds_more_than_the_burst) {
  EXPECT_TRUE(cache().take_token("b", 10.0, 3.0).allowed);
  std::this_thread::sleep_for(ms(500));  // 5 tokens' worth of time
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(cache().take_token("b", 10.0, 3.0).allowed) << i;
  EXPECT_FALSE(cache().take_token("b", 10.0, 3.0).allowed);
}

TEST_P(CacheSuite, buckets_are_independent) {
  EXPECT_TRUE(cache().take_token("rate:c1", 0.01, 1.0).allowed);
  EXPECT_FALSE(cache().take_token("rate:c1", 0.01, 1.0).allowed);
  EXPECT_TRUE(cache().take_token("rate:c2", 0.01, 1.0).allowed);
}

TEST_P(CacheSuite, a_key_and_a_bucket_of_the_same_name_are_independent) {
  EXPECT_TRUE(cache().add("shared-name", ms(60000)));
  EXPECT_TRUE(cache().take_token("shared-name", 0.01, 1.0).allowed);
  EXPECT_FALSE(cache().add("shared-name", ms(60000)));
  cache().remove("shared-name");
  EXPECT_FALSE(cache().take_token("shared-name", 0.01, 1.0).allowed);
}

TEST_P(CacheSuite, concurrent_takes_never_exceed_the_burst) {
  constexpr int kThreads = 16, kTakes = 5;
  std::atomic<int> allowed{0};
  race(kThreads, [&](int) {
    for (int i = 0; i < kTakes; ++i) {
      if (cache().take_token("rate:busy", 0.001, 20.0).allowed) allowed++;
    }
  });
  EXPECT_EQ(allowed.load(), 20);
}

TEST_P(CacheSuite, ping_answers) {
  EXPECT_TRUE(cache().ping());
}

}  // namespace pg::cache::test
