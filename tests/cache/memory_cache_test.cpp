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

}  // namespace
}  // namespace pg::cache
