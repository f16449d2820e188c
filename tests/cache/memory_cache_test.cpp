// MemoryCache: the shared cache suite (tests/cache/cache_suite.hpp) on the in-process backend.
#include "cache/memory/memory_cache.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "cache_suite.hpp"

namespace pg::cache {
namespace {

using test::CacheSuite;  // INSTANTIATE_TEST_SUITE_P takes the suite's bare name

const core::SystemClock kClock;

INSTANTIATE_TEST_SUITE_P(Memory, CacheSuite,
                         ::testing::Values(test::CacheBackendFactory{
                             "memory", [] { return std::make_unique<MemoryCache>(kClock); }}),
                         test::backend_name);

class StepClock final : public core::Clock {
 public:
  core::UnixMillis now_ms() const override { return now; }
  core::UnixMillis now = 1'800'000'000'000;
};

TEST(MemoryCache, BucketsFullAgainAreDroppedSoNewBucketsCannotGrowItWithoutBound) {
  StepClock clock;
  MemoryCache cache(clock);
  // One token taken from each of 3000 buckets refilling 1 token per second.
  for (int i = 0; i < 3000; ++i)
    ASSERT_TRUE(cache.take_token("b:" + std::to_string(i), 1.0, 3.0).allowed);
  const std::size_t before = cache.bucket_count();
  EXPECT_GE(before, 1024u);
  // A bucket still refilling is kept: its state matters.
  ASSERT_TRUE(cache.take_token("held", 1.0 / 3600, 1.0).allowed);
  clock.now += 2'000;  // every "b:" bucket is full again
  ASSERT_TRUE(cache.take_token("next", 1.0, 3.0).allowed);
  for (int i = 3000; i < 3000 + 2048; ++i)
    (void)cache.take_token("c:" + std::to_string(i), 1.0, 3.0);
  EXPECT_LT(cache.bucket_count(), before + 2048);
  EXPECT_FALSE(cache.take_token("held", 1.0 / 3600, 1.0).allowed);
}

TEST(MemoryCache, AnEarlierTimeThanTheBucketsNeitherRefillsNorDrainsIt) {
  // Two threads read the clock, then take the lock in the other order: the later reading wins.
  StepClock clock;
  MemoryCache cache(clock);
  ASSERT_TRUE(cache.take_token("b", 1000.0, 2.0).allowed);  // 1 token left
  clock.now -= 5;  // a reading 5 ms older than the bucket's: 5 tokens' worth at 1000/s
  EXPECT_TRUE(cache.take_token("b", 1000.0, 2.0).allowed) << "the last token was taken away";
  EXPECT_FALSE(cache.take_token("b", 1000.0, 2.0).allowed) << "the bucket was refilled";
  clock.now += 6;  // 1 ms after the bucket's time: one token back
  EXPECT_TRUE(cache.take_token("b", 1000.0, 2.0).allowed);
  EXPECT_FALSE(cache.take_token("b", 1000.0, 2.0).allowed);
}

}  // namespace
}  // namespace pg::cache
