// `proofgate admin sweep`: one sweep run now (what `serve` runs every sweep_interval_seconds),
// printing the rows removed by kind as JSON; --dry-run counts them (up to sweep_max_rows of each
// kind) and removes nothing.
#include <boost/json.hpp>
#include <iostream>

#include "cli/backends.hpp"
#include "cli/commands.hpp"
#include "cli/sweeper.hpp"
#include "log/log.hpp"

namespace pg::cli {

void add_admin_sweep_command(CLI::App& admin, int& exit_code) {
  CLI::App* cmd = admin.add_subcommand(
      "sweep",
      "Delete expired proof requests and idempotency keys, old nonces and settled webhook rows "
      "(docs/scaling.md), in bounded batches; prints the counts as JSON");
  auto given = add_setting_flags(*cmd, kAdmin);
  auto dry_run = std::make_shared<bool>(false);
  cmd->add_flag("--dry-run", *dry_run, "count what would go, delete nothing");
  cmd->callback([given, dry_run, &exit_code] {
    const Settings s = given->resolve();
    const core::SystemClock clock;
    Backends b = open_backends(s, clock, /*with_cache=*/false);
    core::SweepCounts c;
    if (*dry_run) {
      c = core::run_sweep(
          *b.sweep, [&clock] { return clock.now_ms(); }, sweep_windows(s), sweep_budget(s), true);
    } else {
      c = Sweeper(*b.sweep, clock, s).run();
    }
    boost::json::object out = sweep_counts_json(c);
    out["dry_run"] = *dry_run;
    out["storage"] = b.storage_name;
    std::cout << boost::json::serialize(out) << std::endl;
    exit_code = 0;
  });
}

}  // namespace pg::cli
