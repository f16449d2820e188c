// `proofgate migrate`: applies the storage's versioned migrations (forward-only, written
// add → backfill → swap so the running release keeps working) and creates the proof partitions
// ahead; the deploy step of production, before instances start with `migrate = false`.
#include <boost/json.hpp>
#include <iostream>

#include "cli/backends.hpp"
#include "cli/commands.hpp"
#include "log/log.hpp"

namespace pg::cli {

void add_migrate_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd =
      app.add_subcommand("migrate", "Apply the storage's migrations and create partitions ahead");
  auto given = add_setting_flags(*cmd, kMigrate);
  cmd->callback([given, &exit_code] {
    GivenFlags flags = *given;
    flags.values["migrate"] = "true";  // what this command is for, whatever the file says
    const Settings s = flags.resolve();
    log::init(*log::parse_level(s.log_level));
    const core::SystemClock clock;
    const Backends b = open_backends(s, clock, /*with_cache=*/false);
    if (b.maintain) b.maintain();
    std::cout << boost::json::serialize(
                     boost::json::object{{"storage", b.storage_name}, {"migrated", true}})
              << std::endl;
    exit_code = 0;
  });
}

}  // namespace pg::cli
