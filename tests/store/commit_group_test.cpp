// CommitGroup: writes that wait for a running group share the next one, each with its own outcome;
// a group's failure reaches every write of it; a group never holds more than its bound.
#include "store/commit_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pg::store {
namespace {

/// Waits (polling) until `ready` holds; fails the test after a minute.
void wait_until(const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!ready()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the state never came";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

/// A runner that records the size of every group and, while `hold` is set, keeps its first group
/// running until the test lets it go.
struct Recorder {
  std::mutex mutex;
  std::vector<std::size_t> sizes;
  std::atomic<bool> hold{false};
  std::atomic<bool> release{false};

  void operator()(std::span<CommitGroup::Write* const> group) {
    {
      std::lock_guard lock(mutex);
      sizes.push_back(group.size());
    }
    if (hold.exchange(false)) {
      while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (CommitGroup::Write* w : group) {
      try {
        w->kept = w->apply();
      } catch (...) {
        w->error = std::current_exception();
      }
    }
  }
  std::vector<std::size_t> groups() {
    std::lock_guard lock(mutex);
    return sizes;
  }
};

TEST(CommitGroup, a_lone_write_runs_at_once_in_a_group_of_its_own) {
  Recorder recorder;
  CommitGroup group(8, std::ref(recorder));
  CommitGroup::Write write;
  write.apply = [] { return true; };
  EXPECT_TRUE(group.submit(write));
  write.apply = [] { return false; };
  EXPECT_FALSE(group.submit(write));
  EXPECT_EQ(recorder.groups(), (std::vector<std::size_t>{1, 1}));
  const auto stats = group.stats();
  EXPECT_EQ(stats.groups, 2u);
  EXPECT_EQ(stats.writes, 2u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.running, 0u);
}

TEST(CommitGroup, writes_that_wait_for_a_running_group_share_the_next_each_with_its_outcome) {
  Recorder recorder;
  recorder.hold = true;
  CommitGroup group(64, std::ref(recorder));
  std::thread first([&] {
    CommitGroup::Write write;
    write.apply = [] { return true; };
    EXPECT_TRUE(group.submit(write));
  });
  wait_until([&] { return group.stats().running == 1; });

  constexpr int kWaiting = 6;
  std::vector<int> outcome(kWaiting, -1);  // 1 kept, 0 refused, 2 its own error
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiting; ++i) {
    threads.emplace_back([&, i] {
      CommitGroup::Write write;
      write.apply = [i]() -> bool {
        if (i == 4) throw std::runtime_error("write 4 fails alone");
        return i % 2 == 0;
      };
      try {
        outcome[i] = group.submit(write) ? 1 : 0;
      } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "write 4 fails alone");
        outcome[i] = 2;
      }
    });
  }
  wait_until([&] { return group.stats().queued == kWaiting; });
  recorder.release = true;
  first.join();
  for (auto& t : threads) t.join();

  EXPECT_EQ(recorder.groups(), (std::vector<std::size_t>{1, kWaiting}));
  EXPECT_EQ(outcome, (std::vector<int>{1, 0, 1, 0, 2, 0}));
  EXPECT_EQ(group.stats().groups, 2u);
  EXPECT_EQ(group.stats().writes, 1u + kWaiting);
}

TEST(CommitGroup, a_failing_group_fails_every_write_in_it) {
  Recorder recorder;
  recorder.hold = true;
  std::atomic<int> runs{0};
  CommitGroup group(64, [&](std::span<CommitGroup::Write* const> writes) {
    if (runs++ == 1) {
      for (CommitGroup::Write* w : writes) w->kept = w->apply();  // applied, then lost
      throw std::runtime_error("commit failed");
    }
    recorder(writes);
  });
  std::thread first([&] {
    CommitGroup::Write write;
    write.apply = [] { return true; };
    EXPECT_TRUE(group.submit(write));
  });
  wait_until([&] { return group.stats().running == 1; });
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      CommitGroup::Write write;
      write.apply = [] { return true; };
      try {
        group.submit(write);
      } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "commit failed");
        ++failed;
      }
    });
  }
  wait_until([&] { return group.stats().queued == 3; });
  recorder.release = true;
  first.join();
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 3);
  EXPECT_EQ(group.stats().failed_groups, 1u);

  CommitGroup::Write after;  // the next group commits again
  after.apply = [] { return true; };
  EXPECT_TRUE(group.submit(after));
}

TEST(CommitGroup, no_group_holds_more_than_its_bound_and_every_write_is_answered) {
  Recorder recorder;
  recorder.hold = true;
  CommitGroup group(4, std::ref(recorder));
  std::thread first([&] {
    CommitGroup::Write write;
    write.apply = [] { return true; };
    group.submit(write);
  });
  wait_until([&] { return group.stats().running == 1; });
  std::atomic<int> kept{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      CommitGroup::Write write;
      write.apply = [] { return true; };
      if (group.submit(write)) ++kept;
    });
  }
  wait_until([&] { return group.stats().queued == 10; });
  recorder.release = true;
  first.join();
  for (auto& t : threads) t.join();
  EXPECT_EQ(kept.load(), 10);
  const auto sizes = recorder.groups();
  std::size_t total = 0;
  for (std::size_t s : sizes) {
    EXPECT_LE(s, 4u);
    total += s;
  }
  EXPECT_EQ(total, 11u);
  EXPECT_EQ(sizes.front(), 1u);
  EXPECT_EQ(sizes[1], 4u);  // the ten waiting ones: 4, 4, 2 (or smaller should some arrive late)
}

TEST(CommitGroup, refuses_a_zero_bound_and_a_missing_runner) {
  EXPECT_THROW(CommitGroup(0, [](std::span<CommitGroup::Write* const>) {}), std::invalid_argument);
  EXPECT_THROW(CommitGroup(1, CommitGroup::Runner{}), std::invalid_argument);
}

TEST(CommitGroup, every_waiter_is_answered_with_its_own_outcome_at_bound_one) {
  // With one write per group, most woken callers find their own write not the oldest: each must
  // lead or wait again until its own write ran, never return early.
  Recorder recorder;
  recorder.hold = true;
  CommitGroup group(1, std::ref(recorder));
  std::thread first([&] {
    CommitGroup::Write write;
    write.apply = [] { return true; };
    EXPECT_TRUE(group.submit(write));
  });
  wait_until([&] { return group.stats().running == 1; });
  constexpr int kWaiting = 32;
  std::vector<int> outcome(kWaiting, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiting; ++i) {
    threads.emplace_back([&, i] {
      CommitGroup::Write write;
      write.apply = [i] { return i % 3 != 0; };
      outcome[i] = group.submit(write) ? 1 : 0;
    });
  }
  wait_until([&] { return group.stats().queued == kWaiting; });
  recorder.release = true;
  first.join();
  for (auto& t : threads) t.join();
  for (int i = 0; i < kWaiting; ++i) EXPECT_EQ(outcome[i], i % 3 != 0 ? 1 : 0) << i;
  EXPECT_EQ(group.stats().writes, 1u + kWaiting);
  EXPECT_EQ(group.stats().groups, 1u + kWaiting);
  EXPECT_EQ(group.stats().failed_groups, 0u);
}

}  // namespace
}  // namespace pg::store
