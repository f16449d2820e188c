// `proofgate worker`: the webhook outbox worker on its own, against the same data directory (or,
// in production, database) as the servers. Several may run at once: rows are claimed under a
// lease. Stops on SIGTERM/SIGINT after the attempts in flight.
#include <csignal>
#include <thread>

#include "cli/backends.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/worker_settings.hpp"
#include "log/log.hpp"
#include "webhooks/worker.hpp"

namespace pg::cli {

namespace {

int run_worker(const Settings& s) {
  log::init(*log::parse_level(s.log_level));
  // Signals are taken by a waiting thread, not a handler: the stop is an ordinary atomic store.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  core::SystemClock clock;
  Backends data = open_backends(s, clock, /*with_cache=*/false);
  trace::ExportCounters trace_counters;
  const TraceExport traces(s, trace_counters);
  webhooks::WorkerSettings ws = worker_settings(s, "worker");
  ws.tracer = &traces.tracer();
  webhooks::Worker worker(*data.outbox, clock, data.master_key, ws);
  std::atomic<bool> stop{false};
  std::thread loop([&] { worker.run(stop); });
  log::info("worker started", {{"worker_id", ws.worker_id}, {"storage", data.storage_name}});
  int sig = 0;
  sigwait(&set, &sig);
  stop = true;
  worker.notify();
  loop.join();
  const core::DeliveryCounts c = worker.delivery_counts();
  log::info("worker stopped", {{"attempts_ok", c.attempts_ok},
                               {"attempts_failed", c.attempts_failed},
                               {"dead", c.dead},
                               {"storage_errors", c.storage_errors}});
  return 0;
}
}  // namespace

void add_worker_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "worker", "Deliver webhooks from the outbox (several workers may share one database)");
  auto given = add_setting_flags(*cmd, kWorker);
  cmd->callback([given, &exit_code] { exit_code = run_worker(given->resolve()); });
}

}  // namespace pg::cli
