// `proofgate worker`: the webhook outbox worker on its own, against the same data directory (or,
// in production, database) as the servers. Several may run at once: rows are claimed under a
// lease. Stops on SIGTERM/SIGINT after the attempts in flight.
#include <csignal>
#include <iostream>
#include <thread>

#include "cli/backends.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/worker_settings.hpp"
#include "webhooks/worker.hpp"

namespace pg::cli {

namespace {
struct WorkerFlags {
  std::string data_dir, database_url, config, webhook_retry_schedule, webhook_timeout_ms,
      master_key_file;
  bool webhook_allow_loopback = false;
};

int run_worker(const WorkerFlags& f, CLI::App& cmd) {
  RawSettings flags;
  if (cmd.count("--data-dir") > 0) flags["data_dir"] = f.data_dir;
  if (cmd.count("--database-url") > 0) flags["database_url"] = f.database_url;
  if (cmd.count("--master-key-file") > 0) flags["master_key_file"] = f.master_key_file;
  if (cmd.count("--webhook-retry-schedule") > 0)
    flags["webhook_retry_schedule"] = f.webhook_retry_schedule;
  if (cmd.count("--webhook-timeout-ms") > 0) flags["webhook_timeout_ms"] = f.webhook_timeout_ms;
  if (f.webhook_allow_loopback) flags["webhook_allow_loopback"] = "true";
  const RawSettings s = resolve_settings(flags, config_file(f.config));
  // Signals are taken by a waiting thread, not a handler: the stop is an ordinary atomic store.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  core::SystemClock clock;
  Backends data = open_backends(s, clock, /*with_cache=*/false);
  const webhooks::WorkerSettings ws = worker_settings(s, "worker");
  webhooks::Worker worker(*data.outbox, clock, data.master_key, ws);
  std::atomic<bool> stop{false};
  std::thread loop([&] { worker.run(stop); });
  std::cerr << R"({"level":"info","msg":"worker started","worker_id":")" << ws.worker_id
            << R"(","storage":")" << data.storage_name << "\"}" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  stop = true;
  worker.notify();
  loop.join();
  std::cerr << R"({"level":"info","msg":"worker stopped","attempts_ok":)"
            << worker.attempts_ok.load() << R"(,"attempts_failed":)"
            << worker.attempts_failed.load() << "}" << std::endl;
  return 0;
}
}  // namespace

void add_worker_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<WorkerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "worker", "Deliver webhooks from the outbox (several workers may share one database)");
  cmd->add_option("--data-dir", f->data_dir,
                  "data directory of the embedded default (default ./data)");
  cmd->add_option("--database-url", f->database_url,
                  "PostgreSQL URL: production storage instead of SQLite in --data-dir");
  cmd->add_option("--master-key-file", f->master_key_file,
                  "the deployment's master key (default <data-dir>/master.key)");
  cmd->add_option("--config", f->config,
                  "TOML file with settings (flags and PROOFGATE_* variables override it)");
  cmd->add_option("--webhook-retry-schedule", f->webhook_retry_schedule,
                  "waits in seconds after each failed attempt");
  cmd->add_option("--webhook-timeout-ms", f->webhook_timeout_ms,
                  "per-attempt timeout (default 5000)");
  cmd->add_flag("--webhook-allow-loopback", f->webhook_allow_loopback,
                "DEVELOPMENT/TESTS ONLY: allow webhook URLs on loopback and over plain http");
  cmd->callback([f, cmd, &exit_code] { exit_code = run_worker(*f, *cmd); });
}

}  // namespace pg::cli
