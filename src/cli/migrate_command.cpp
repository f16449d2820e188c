// `proofgate migrate`: applies the storage's versioned migrations (forward-only, written
// add → backfill → swap so the running release keeps working) and creates the proof partitions
// ahead; the deploy step of production, before instances start with `migrate = false`.
#include <boost/json.hpp>
#include <iostream>

#include "cli/backends.hpp"
#include "cli/commands.hpp"

namespace pg::cli {

void add_migrate_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<std::pair<std::string, std::string>>("./data", "");
  CLI::App* cmd =
      app.add_subcommand("migrate", "Apply the storage's migrations and create partitions ahead");
  cmd->add_option("--data-dir", flags->first,
                  "data directory of the embedded default (default ./data)");
  cmd->add_option("--database-url", flags->second, "PostgreSQL URL (production storage)");
  cmd->callback([flags, &exit_code] {
    RawSettings raw{{"data_dir", flags->first}, {"migrate", "true"}};
    if (!flags->second.empty()) raw["database_url"] = flags->second;
    const core::SystemClock clock;
    const Backends b =
        open_backends(resolve_settings(raw, std::nullopt), clock, /*with_cache=*/false);
    if (b.maintain) b.maintain();
    std::cout << boost::json::serialize(
                     boost::json::object{{"storage", b.storage_name}, {"migrated", true}})
              << std::endl;
    exit_code = 0;
  });
}

}  // namespace pg::cli
