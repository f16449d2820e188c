// `proofgate serve`: the composition root of the service. Resolves the settings, opens the data
// directory (SQLite) and the in-process cache, loads the circuits, optionally sets up the demo,
// and runs the HTTP server until SIGTERM/SIGINT.
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/backends.hpp"
#include "cli/clients.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/demo.hpp"
#include "cli/worker_settings.hpp"
#include "core/catalog.hpp"
#include "core/service.hpp"
#include "http/admin.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "webhooks/worker.hpp"

namespace pg::cli {

namespace {

struct ServeFlags {
  std::string listen, data_dir, database_url, redis_url, artifacts_dir, config, sqlite_synchronous;
  std::string rate_limit, rate_burst, root_grace_seconds, workers, body_limit;
  std::string admin_token_sha256, webhook_retry_schedule, webhook_timeout_ms, master_key_file;
  bool demo = false, no_worker = false, webhook_allow_loopback = false;
};

std::pair<std::string, unsigned short> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::runtime_error("listen: must be HOST:PORT, got '" + listen + "'");
  RawSettings port{{"port", listen.substr(colon + 1)}};
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, static_cast<unsigned short>(setting_uint(port, "port", 0, 65535))};
}

int serve(const ServeFlags& f, CLI::App& cmd) {
  RawSettings flags;
  const auto flag = [&](const char* opt, const char* name, const std::string& v) {
    if (cmd.count(opt) > 0) flags[name] = v;
  };
  flag("--listen", "listen", f.listen);
  flag("--data-dir", "data_dir", f.data_dir);
  flag("--database-url", "database_url", f.database_url);
  flag("--redis-url", "redis_url", f.redis_url);
  flag("--artifacts-dir", "artifacts_dir", f.artifacts_dir);
  flag("--sqlite-synchronous", "sqlite_synchronous", f.sqlite_synchronous);
  flag("--rate-limit", "rate_limit", f.rate_limit);
  flag("--rate-burst", "rate_burst", f.rate_burst);
  flag("--root-grace-seconds", "root_grace_seconds", f.root_grace_seconds);
  flag("--workers", "workers", f.workers);
  flag("--body-limit", "body_limit", f.body_limit);
  flag("--admin-token-sha256", "admin_token_sha256", f.admin_token_sha256);
  flag("--master-key-file", "master_key_file", f.master_key_file);
  flag("--webhook-retry-schedule", "webhook_retry_schedule", f.webhook_retry_schedule);
  flag("--webhook-timeout-ms", "webhook_timeout_ms", f.webhook_timeout_ms);
  if (f.demo) flags["demo"] = "true";
  if (f.no_worker) flags["worker"] = "false";
  if (f.webhook_allow_loopback) flags["webhook_allow_loopback"] = "true";
  const RawSettings s = resolve_settings(flags, config_file(f.config));
  const std::string sync = s.at("sqlite_synchronous");
  if (sync != "FULL" && sync != "NORMAL")
    throw std::runtime_error("sqlite_synchronous: must be FULL or NORMAL");

  http::ServerSettings server;
  std::tie(server.host, server.port) = split_listen(s.at("listen"));
  server.body_limit = setting_uint(s, "body_limit", 1024, 16 << 20);
  server.header_limit = setting_uint(s, "header_limit", 1024, 1 << 20);
  server.read_timeout = std::chrono::seconds(setting_uint(s, "read_timeout_seconds", 1, 3600));
  server.idle_timeout = std::chrono::seconds(setting_uint(s, "idle_timeout_seconds", 1, 3600));
  server.drain_timeout = std::chrono::seconds(setting_uint(s, "drain_timeout_seconds", 0, 3600));
  server.workers = static_cast<unsigned>(setting_uint(s, "workers", 0, 256));
  core::ServiceSettings service;
  service.rate_per_second = setting_double(s, "rate_limit", 0, 1e9);
  service.rate_burst = setting_double(s, "rate_burst", 1, 1e9);
  service.root_grace = std::chrono::seconds(setting_uint(s, "root_grace_seconds", 0, 365 * 86400));
  service.default_request_ttl_s =
      static_cast<std::int64_t>(setting_uint(s, "request_ttl_seconds", 10, 3600));

  core::SystemClock clock;
  Backends data = open_backends(s, clock, /*with_cache=*/true);
  const std::filesystem::path artifacts = s.at("artifacts_dir");
  const core::CircuitCatalog catalog = core::CircuitCatalog::load(artifacts);
  if (catalog.empty()) {
    std::cerr
        << R"({"level":"warn","msg":"no circuits loaded; /readyz answers 503 until artifacts are present","artifacts_dir":")"
        << artifacts.string() << "\"}" << std::endl;
  }
  for (const auto& c : catalog.all()) {
    std::cerr << R"({"level":"info","msg":"circuit loaded","claim_type":")" << c->claim_type
              << R"(","version":")" << c->version << R"(","public_signals":)"
              << c->public_signals.size() << "}" << std::endl;
  }
  core::Cache& cache = *data.cache;
  // The webhook worker runs inside serve unless turned off (then `proofgate worker` delivers).
  const bool run_worker = setting_bool(s, "worker");
  webhooks::Worker worker(*data.outbox, clock, data.master_key, worker_settings(s, "serve"));
  if (run_worker) service.on_event_recorded = [&worker] { worker.notify(); };
  core::ProofService proofs(*data.store, cache, clock, catalog, service);
  http::Metrics metrics;
  metrics.worker = run_worker ? &worker : nullptr;
  metrics.outbox = data.outbox;
  std::atomic<bool> stopping{false};
  // The admin use cases (core::AdminService) on the same storage, each audited with its change.
  AdminWiring admin_service(data, clock, [&worker] { worker.notify(); });
  http::AdminApi admin(admin_service.service(), admin_token_hash(s));
  http::Api api(
      {proofs, *data.store, cache, metrics, [&stopping] { return stopping.load(); }, &admin});
  std::atomic<bool> worker_stop{false};
  std::thread worker_thread;
  if (run_worker) worker_thread = std::thread([&] { worker.run(worker_stop); });
  // Storage upkeep (PostgreSQL: partitions ahead, the analytics view) at start and on a timer.
  std::mutex upkeep_mu;
  std::condition_variable upkeep_cv;
  std::thread upkeep;
  if (data.maintain) {
    const auto every =
        std::chrono::seconds(setting_uint(s, "maintenance_interval_seconds", 10, 86400));
    upkeep = std::thread([&, every] {
      std::unique_lock lock(upkeep_mu);
      do {
        try {
          data.maintain();
        } catch (const std::exception& e) {
          std::cerr << R"({"level":"error","msg":"storage maintenance failed","error":")"
                    << e.what() << "\"}" << std::endl;
        }
      } while (!upkeep_cv.wait_for(lock, every, [&] { return worker_stop.load(); }));
    });
  }
  const bool demo = setting_bool(s, "demo");
  http::run_server(server, api, metrics, stopping, [&](const std::string& address) {
    std::cerr << R"({"level":"info","msg":"listening","address":")" << address << R"(","storage":")"
              << data.storage_name << R"(","cache":")" << data.cache_name << R"(","data_dir":")"
              << data.data_dir.string() << "\"}" << std::endl;
    if (demo)
      std::cerr << set_up_demo(*data.store, data.master_key, data.data_dir, address, artifacts)
                << std::endl;
  });
  {
    std::lock_guard lock(upkeep_mu);
    worker_stop = true;
  }
  upkeep_cv.notify_all();
  worker.notify();
  if (upkeep.joinable()) upkeep.join();
  if (worker_thread.joinable())
    worker_thread.join();  // attempts in flight finish; the rest stay in the outbox
  std::cerr << R"({"level":"info","msg":"stopped"})" << std::endl;
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the HTTP API (embedded default: SQLite in --data-dir, in-process cache)");
  cmd->add_option("--listen", flags->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 = any free port)");
  cmd->add_option("--data-dir", flags->data_dir,
                  "data directory of the embedded default (default ./data)");
  cmd->add_option("--database-url", flags->database_url,
                  "PostgreSQL URL: production storage instead of SQLite in --data-dir");
  cmd->add_option(
      "--redis-url", flags->redis_url,
      "Redis URL: shared nonces, idempotency keys and rate limits instead of the in-process cache");
  cmd->add_option("--artifacts-dir", flags->artifacts_dir,
                  "circuit artifacts: <dir>/<claim_type>/<version>/ (default ./artifacts)");
  cmd->add_option("--master-key-file", flags->master_key_file,
                  "32-byte key sealing webhook secrets (default <data-dir>/master.key; shared by "
                  "every instance)");
  cmd->add_option("--config", flags->config,
                  "TOML file with settings (flags and PROOFGATE_* variables override it)");
  cmd->add_option("--sqlite-synchronous", flags->sqlite_synchronous,
                  "FULL (default: fsync every commit) or NORMAL");
  cmd->add_option("--rate-limit", flags->rate_limit,
                  "requests per second per partner (0 = off; default 100)");
  cmd->add_option("--rate-burst", flags->rate_burst, "burst per partner (default 200)");
  cmd->add_option("--root-grace-seconds", flags->root_grace_seconds,
                  "how long a superseded issuer root stays valid (default 3600)");
  cmd->add_option("--workers", flags->workers,
                  "worker threads for verification (default: one per core)");
  cmd->add_option("--body-limit", flags->body_limit,
                  "largest request body in bytes (default 65536)");
  cmd->add_flag("--demo", flags->demo,
                "set up a demo partner, holder and issuer trees under <data-dir>/demo");
  cmd->add_flag("--no-worker", flags->no_worker,
                "do not deliver webhooks in this process (run `proofgate worker`)");
  cmd->add_flag("--webhook-allow-loopback", flags->webhook_allow_loopback,
                "DEVELOPMENT/TESTS ONLY: allow webhook URLs on loopback and over plain http");
  cmd->add_option("--webhook-retry-schedule", flags->webhook_retry_schedule,
                  "waits in seconds after each failed attempt, comma-separated (default "
                  "5,30,120,600,3600,14400,43200)");
  cmd->add_option("--webhook-timeout-ms", flags->webhook_timeout_ms,
                  "per-attempt timeout (default 5000)");
  cmd->add_option(
      "--admin-token-sha256", flags->admin_token_sha256,
      "SHA-256 (hex) of the admin token for /api/admin (proofgate admin new-admin-token)");
  cmd->callback([flags, cmd, &exit_code] { exit_code = serve(*flags, *cmd); });
}

}  // namespace pg::cli
