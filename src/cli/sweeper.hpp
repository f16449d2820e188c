// Running the sweeps (core/sweep.hpp) from the settings: the windows and per-run budget, one log
// line per run, the proofgate_sweep_rows_total counters, the JSON `admin sweep` prints.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <string>

#include "cli/config.hpp"
#include "core/ports.hpp"
#include "core/sweep.hpp"

namespace pg::cli {

core::SweepWindows sweep_windows(const Settings& s);
core::SweepBudget sweep_budget(const Settings& s);
/// {"proof_requests": n, ..., "more": bool, "busy": bool}
boost::json::object sweep_counts_json(const core::SweepCounts& c);

class Sweeper {
 public:
  Sweeper(core::SweepStore& store, const core::Clock& clock, const Settings& s)
      : store_(store), clock_(clock), windows_(sweep_windows(s)), budget_(sweep_budget(s)) {}
  /// One run (batches within the budget), logged and counted. Throws core::StoreError.
  core::SweepCounts run();
  /// proofgate_sweep_rows_total{kind} and proofgate_sweep_runs_total{result}: done, busy, failed.
  std::string render_metrics() const;

 private:
  core::SweepStore& store_;
  const core::Clock& clock_;
  core::SweepWindows windows_;
  core::SweepBudget budget_;
  std::atomic<std::uint64_t> requests_{0}, idempotency_{0}, nonces_{0}, delivered_{0}, dead_{0},
      attempts_{0}, runs_done_{0}, runs_busy_{0}, runs_failed_{0};
};

}  // namespace pg::cli
