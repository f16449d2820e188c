// The sweep's run loop (see sweep.hpp).
#include "core/sweep.hpp"

#include <algorithm>

namespace pg::core {

SweepCounts run_sweep(SweepStore& store, const std::function<UnixMillis()>& now,
                      const SweepWindows& windows, const SweepBudget& budget, bool dry_run) {
  if (dry_run) {
    const auto limit = static_cast<std::size_t>(std::max<std::uint64_t>(budget.max_rows, 1));
    return store.sweep_batch(now(), windows, limit, /*dry_run=*/true);
  }
  const auto started = std::chrono::steady_clock::now();
  SweepCounts total;
  for (;;) {
    const SweepCounts batch =
        store.sweep_batch(now(), windows, std::max<std::size_t>(budget.batch, 1), false);
    total += batch;
    total.busy = batch.busy;
    total.more = batch.more;
    if (batch.busy || !batch.more) break;
    if (total.total() >= budget.max_rows) break;
    if (std::chrono::steady_clock::now() - started >= budget.max_time) break;
  }
  return total;
}

}  // namespace pg::core
