#include "store/commit_group.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

namespace pg::store {

CommitGroup::CommitGroup(std::size_t max_group, Runner run)
    : max_group_(max_group), run_(std::move(run)) {
  if (max_group_ == 0) throw std::invalid_argument("CommitGroup: max_group must be at least 1");
  if (!run_) throw std::invalid_argument("CommitGroup: no runner");
}

bool CommitGroup::submit(Write& write) {
  std::unique_lock lock(mutex_);
  write.done = false;
  write.kept = false;
  write.error = nullptr;
  queue_.push_back(&write);
  stats_.queued = queue_.size();
  for (;;) {
    changed_.wait(lock, [&] { return write.done || !leading_; });
    if (write.done) break;
    // Lead one group: the queue's oldest writes, this one among them unless more than a group's
    // worth were queued before it (then it leads again, or another caller takes it in theirs).
    // The group is copied out before anything changes: an allocation failure leaves the state as
    // it was (no leader, every write still queued).
    const std::size_t n = std::min(queue_.size(), max_group_);
    std::vector<Write*> group(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    leading_ = true;
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    stats_.queued = queue_.size();
    stats_.running = n;
    lock.unlock();
    bool failed = false;
    try {
      run_(group);
    } catch (...) {
      failed = true;
      const std::exception_ptr failure = std::current_exception();
      for (Write* w : group) {
        w->kept = false;
        w->error = failure;
      }
    }
    lock.lock();
    for (Write* w : group) w->done = true;
    if (failed) ++stats_.failed_groups;
    ++stats_.groups;
    stats_.writes += n;
    stats_.running = 0;
    leading_ = false;
    changed_.notify_all();
  }
  if (write.error) std::rethrow_exception(write.error);
  return write.kept;
}

CommitGroup::Stats CommitGroup::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace pg::store
