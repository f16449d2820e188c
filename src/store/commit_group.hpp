// Group commit: writes that arrive while a transaction is committing wait for it, then go together
// in the next transaction, so one fsync makes a whole group durable. Each caller still returns only
// once its own write is durable, and still learns its own outcome.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <span>

namespace pg::store {

class CommitGroup {
 public:
  /// One caller's write. `apply` runs inside the group's transaction, on whichever caller's thread
  /// leads the group: it returns false to have its own changes undone (a refusal such as a taken
  /// nonce) and throws for a failure that is its alone.
  struct Write {
    std::function<bool()> apply;
    bool kept = false;
    std::exception_ptr error;  // this write's failure, or the whole group's
    bool done = false;         // set by CommitGroup under its lock
  };

  /// Runs one group in one transaction: calls each write's `apply` in order and sets its `kept`
  /// or `error`. Throwing fails every write of the group with that exception (nothing of the
  /// group was committed).
  using Runner = std::function<void(std::span<Write* const> group)>;

  struct Stats {
    std::uint64_t groups = 0;         // transactions run
    std::uint64_t writes = 0;         // writes in them
    std::uint64_t failed_groups = 0;  // transactions that failed as a whole (nothing committed)
    std::size_t queued = 0;           // writes waiting for the next group
    std::size_t running = 0;          // writes in the group being run now (0: none)
  };

  /// `max_group` (at least 1) bounds the writes of one transaction.
  CommitGroup(std::size_t max_group, Runner run);

  /// Queues `write` and returns when its group has run: its `kept`, or its error rethrown. The
  /// first caller to find no group running leads: it runs the queued writes (its own among them
  /// when they fit) while later callers wait; a lone write runs at once.
  bool submit(Write& write);

  Stats stats() const;

 private:
  const std::size_t max_group_;
  const Runner run_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Write*> queue_;
  bool leading_ = false;
  Stats stats_;
};

}  // namespace pg::store
