// `proofgate serve`: the composition root of the service. Resolves the settings, opens the data
// directory (SQLite) and the in-process cache, loads the circuits, optionally sets up the demo,
// and runs the HTTP server until SIGTERM/SIGINT.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "artifacts/filesystem_artifacts.hpp"
#include "cli/admin_accounts.hpp"
#include "cli/backends.hpp"
#include "cli/clients.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/demo.hpp"
#include "cli/onchain_wiring.hpp"
#include "cli/sms_files.hpp"
#include "cli/sweeper.hpp"
#include "cli/worker_settings.hpp"
#include "core/catalog.hpp"
#include "core/citizens.hpp"
#include "core/oauth.hpp"
#include "core/pairing_batcher.hpp"
#include "core/release_signature.hpp"
#include "core/service.hpp"
#include "feed/follower.hpp"
#include "http/admin.hpp"
#include "http/api.hpp"
#include "http/citizen_api.hpp"
#include "http/lifecycle_api.hpp"
#include "http/oauth_api.hpp"
#include "http/server.hpp"
#include "log/log.hpp"
#include "webhooks/worker.hpp"

namespace pg::cli {

namespace {

/// The most verifying threads the `workers` setting allows (config.cpp).
constexpr unsigned kMaxWorkers = 256;

/// Where codes go when no sender is configured: nowhere (CitizenService answers 503 first).
class NoSmsGateway final : public core::CodeSender {
 public:
  void send(std::string_view, std::string_view) override {
    throw std::runtime_error("no SMS gateway is configured");
  }
};

/// Development keys (anyone can forge proofs for them) only with --demo or
/// insecure_development_keys, and never in production mode (--database-url).
core::KeyPolicy key_policy_of(const Settings& s) {
  const bool production = !s.database_url.empty();
  if (production && s.insecure_development_keys) {
    throw std::runtime_error(
        "insecure_development_keys: refused in production mode (database_url is set): "
        "production deployments load keys from a production ceremony only");
  }
  auto release_keys = core::parse_release_keys(s.release_public_keys);
  if (!release_keys) throw std::runtime_error("release_public_keys: " + release_keys.error());
  if (production && release_keys->empty()) {
    // A warning, not a refusal, so that deployments from before release signatures keep starting.
    log::warn(
        "release_public_keys is not set in production mode: circuit versions are loaded without "
        "checking their release signatures (manifest.sig); set it to the release public key(s) "
        "(docs/ceremony.md, \"Release signatures\")");
  }
  return core::KeyPolicy{
      .allow_development_keys = !production && (s.insecure_development_keys || s.demo),
      .release_keys = std::move(*release_keys)};
}

int serve(const Settings& s) {
  log::init(*log::parse_level(s.log_level));
  http::ServerSettings server;
  std::tie(server.host, server.port) = *split_listen(s.listen);
  server.body_limit = s.body_limit;
  server.upload_body_limit = s.circuit_upload_limit;
  server.header_limit = s.header_limit;
  server.read_timeout = std::chrono::seconds(s.read_timeout_seconds);
  server.idle_timeout = std::chrono::seconds(s.idle_timeout_seconds);
  server.drain_timeout = std::chrono::seconds(s.drain_timeout_seconds);
  // Eight verifying threads per core by default: a thread waiting for its batch's pairing check,
  // its group commit or the disk holds no core, and batches can only hold proofs that are in
  // flight together (docs/scaling.md, "Batching across requests").
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers =
      s.workers != 0 ? static_cast<unsigned>(s.workers) : std::min(8 * cores, kMaxWorkers);
  server.workers = workers;
  server.max_connections = s.max_connections;
  server.pool_queue_limit = s.pool_queue_limit;
  server.auth_failures_per_minute = static_cast<unsigned>(s.auth_failures_per_minute);
  core::ServiceSettings service;
  service.rate_per_second = s.rate_limit;
  service.rate_burst = s.rate_burst;
  service.root_grace = std::chrono::seconds(s.root_grace_seconds);
  if (s.root_grace_seconds > 3600) {
    log::warn("root_grace_seconds is above an hour: a revoked credential keeps proving that long",
              {{"root_grace_seconds", s.root_grace_seconds}});
  }
  auto feed_sources = feed::parse_feed_sources(s.issuer_feeds);
  if (!feed_sources) throw std::runtime_error(feed_sources.error());
  auto sandbox_sources = feed::parse_feed_sources(s.sandbox_issuer_feeds, /*sandbox=*/true);
  if (!sandbox_sources) throw std::runtime_error(sandbox_sources.error());
  for (auto& source : *sandbox_sources) feed_sources->push_back(std::move(source));
  service.default_request_ttl_s = static_cast<std::int64_t>(s.request_ttl_seconds);
  const OnchainWiring onchain = onchain_wiring(s);
  service.chain_check = onchain.chain_check;
  service.chain_check_concurrency = static_cast<std::uint32_t>(s.chain_check_concurrency);
  // Pairing checks of concurrent verifies under one key, checked in one batch: only with more
  // workers than cores, since a leader that waits leaves its core idle (docs/scaling.md,
  // "Batching across requests").
  const bool batching = s.verify_batch_window_us > 0 && workers > cores;
  if (s.verify_batch_window_us > 0 && !batching) {
    log::info("verify batching is off: the workers do not outnumber the cores",
              {{"workers", workers}, {"cores", cores}});
  }
  service.pairing_batcher = std::make_shared<core::PairingBatcher>(core::PairingBatchSettings{
      .window = std::chrono::microseconds(batching ? s.verify_batch_window_us : 0),
      .max = static_cast<std::size_t>(s.verify_batch_max),
      .on_check_start = {}});

  const core::KeyPolicy key_policy = key_policy_of(s);
  core::SystemClock clock;
  Backends data = open_backends(s, clock, /*with_cache=*/true);
  const std::filesystem::path artifacts = s.artifacts_dir;
  artifacts::FilesystemArtifacts artifact_files(artifacts);
  if (key_policy.allow_development_keys) {
    log::warn(
        "INSECURE: development circuit keys are accepted (--demo or insecure_development_keys): "
        "anyone can forge proofs for them; never expose this server to partners");
  }
  core::CircuitCatalog catalog = core::CircuitCatalog::load(artifact_files, key_policy);
  if (catalog.empty()) {
    log::warn("no circuits loaded; /readyz answers 503 until artifacts are present",
              {{"artifacts_dir", artifacts.string()}});
  }
  const auto log_loaded = [](const core::Circuit& c, std::string_view when) {
    const std::vector<log::Field> fields{{"claim_type", c.claim_type},
                                         {"version", c.version},
                                         {"public_signals", c.public_signals.size()},
                                         {"ceremony", c.ceremony_kind},
                                         {"development", c.development},
                                         {"release_key_id", c.release_key_id},
                                         {"when", when}};
    log::write(c.development ? log::Level::kWarn : log::Level::kInfo, "circuit loaded", fields);
  };
  for (const core::Circuit* c : catalog.all()) log_loaded(*c, "start");
  core::Cache& cache = *data.cache;
  // The webhook worker runs inside serve unless turned off (then `proofgate worker` delivers).
  const bool run_worker = s.worker;
  // Spans of requests and webhook attempts, exported in batches (docs/observability.md).
  trace::ExportCounters trace_counters;
  const TraceExport traces(s, trace_counters);
  webhooks::WorkerSettings worker_config = worker_settings(s, "serve");
  worker_config.tracer = &traces.tracer();
  webhooks::Worker worker(*data.outbox, clock, data.master_key, std::move(worker_config));
  if (run_worker) service.on_event_recorded = [&worker] { worker.notify(); };
  // Circuit version states (uploaded, enabled, deprecated, disabled) as the verify path sees them.
  core::CircuitGate circuit_gate(*data.lifecycle, clock,
                                 std::chrono::milliseconds(s.circuit_state_cache_ms));
  // OAuth2 client credentials: access tokens accepted where an API key is.
  auto* oauth_store = dynamic_cast<core::OAuthStore*>(data.store);
  if (!oauth_store) throw std::runtime_error("this storage does not provide the OAuth port");
  core::OAuthService oauth(*data.store, *oauth_store, clock, data.master_key,
                           {s.public_url, static_cast<std::int64_t>(s.oauth_token_ttl_seconds)});
  service.access_tokens = [&oauth](std::string_view token) { return oauth.authenticate(token); };
  // Citizens' accounts: codes by SMS (the sandbox's files), tokens from the same key ring.
  auto* citizen_store = dynamic_cast<core::CitizenStore*>(data.store);
  if (!citizen_store) throw std::runtime_error("this storage does not provide the accounts port");
  // The sandbox's SMS files only with --demo or an explicit account_sms_dir: their names are the
  // numbers. Without either, sign-in answers 503 (no SMS gateway is configured).
  const bool sms_files = s.demo || !s.account_sms_dir.empty();
  std::optional<SmsFiles> files;
  NoSmsGateway no_gateway;
  if (sms_files) {
    files.emplace(s.account_sms_dir.empty() ? data.data_dir / "sms"
                                            : std::filesystem::path(s.account_sms_dir));
    log::warn("citizens' sign-in codes are written to files (sandbox and demo only)",
              {{"account_sms_dir",
                s.account_sms_dir.empty() ? (data.data_dir / "sms").string() : s.account_sms_dir}});
  }
  core::CodeSender& sms = files ? static_cast<core::CodeSender&>(*files) : no_gateway;
  core::CitizenSettings citizen_settings;
  citizen_settings.sender_ready = sms_files;
  if (run_worker) citizen_settings.on_events = [&worker] { worker.notify(); };
  core::CitizenService citizens(*citizen_store, oauth, cache, sms, clock, data.master_key,
                                citizen_settings);
  service.account_links = [&citizens](std::string_view token, std::string_view nonce) {
    return citizens.resolve_link(token, nonce);
  };
  http::CitizenApi citizen_api(citizens);
  core::ProofService proofs(*data.store, cache, clock, catalog, service, &circuit_gate);
  // The issuers' signed root feeds, followed into the store the verify path reads.
  feed::FollowerSettings follow;
  follow.wait = std::chrono::seconds(s.feed_wait_seconds);
  follow.timeout = follow.wait + std::chrono::seconds(10);
  feed::FeedFollower feeds(*data.store, clock, std::move(*feed_sources), follow);
  http::Metrics metrics;
  Sweeper sweeper(*data.sweep, clock, s);
  metrics.extra = [&feeds, &sweeper, &proofs, &data] {
    return feeds.render_metrics() + sweeper.render_metrics() +
           proofs.pairing_batcher().render_metrics() + (data.metrics ? data.metrics() : "");
  };
  metrics.worker = run_worker ? &worker : nullptr;
  metrics.outbox = data.outbox;
  metrics.trace_export = &trace_counters;
  server.tracer = &traces.tracer();
  std::atomic<bool> stopping{false};
  // The admin use cases (core::AdminService) on the same storage, each audited with its change.
  AdminWiring admin_service(data, clock, [&worker] { worker.notify(); });
  // Admin accounts (sign-in with password and TOTP); the token keeps working for automation.
  const auto accounts = account_service(data, clock, s);
  http::AdminApi admin(admin_service.service(), admin_token_hash(s),
                       core::role_from_name(s.admin_token_role).value_or(core::Role::kViewer),
                       accounts.get(), static_cast<std::int64_t>(s.usage_min_count));
  admin.allow_loopback_webhooks(s.webhook_allow_loopback);
  // Versions uploaded through another instance (a shared artifacts directory): loaded when their
  // lifecycle row exists (an upload writes it before its files), on a timer and before an enable.
  std::mutex reload_mu;
  const auto reload_catalog = [&] {
    std::lock_guard lock(reload_mu);
    const auto reloaded = catalog.reload(
        artifact_files, key_policy, [&](std::string_view claim_type, std::string_view version) {
          if (!data.lifecycle->find_circuit_state(claim_type, version)) return false;
          circuit_gate.invalidate();  // nothing cached from before the row stays
          return true;
        });
    for (const core::Circuit* c : reloaded.added) log_loaded(*c, "reload");
    for (const auto& [name, why] : reloaded.refused)
      log::error("circuit version refused", {{"version", name}, {"error", why}});
  };
  core::LifecycleService lifecycle({*data.lifecycle, *data.store, &catalog, clock, &circuit_gate,
                                    [&worker] { worker.notify(); }, reload_catalog},
                                   {static_cast<std::int64_t>(s.approval_ttl_seconds)});
  http::LifecycleApi lifecycle_api(lifecycle, admin, &admin_service.service(), &artifact_files,
                                   &key_policy);
  http::OAuthApi oauth_api(oauth, *oauth_store, &admin, clock);
  http::Api api({proofs, *data.store, cache, metrics, artifact_files,
                 [&stopping] { return stopping.load(); }, &admin,
                 sha256_setting(s.metrics_token_sha256), &lifecycle_api, &circuit_gate, &oauth_api,
                 &citizen_api, onchain.deployment.get()});
  api.start_readiness_probe(std::chrono::milliseconds(s.readiness_probe_ms));
  std::atomic<bool> worker_stop{false};
  std::thread worker_thread;
  if (run_worker) worker_thread = std::thread([&] { worker.run(worker_stop); });
  // Storage upkeep (PostgreSQL: partitions ahead, the analytics view) at start and on a timer.
  std::mutex upkeep_mu;
  std::condition_variable upkeep_cv;
  std::thread upkeep;
  if (data.maintain) {
    const auto every = std::chrono::seconds(s.maintenance_interval_seconds);
    upkeep = std::thread([&, every] {
      std::unique_lock lock(upkeep_mu);
      do {
        try {
          data.maintain();
        } catch (const std::exception& e) {
          log::error("storage maintenance failed", {{"error", e.what()}});
        }
      } while (!upkeep_cv.wait_for(lock, every, [&] { return worker_stop.load(); }));
    });
  }
  // The sweeps (cli/sweeper.hpp), bounded per run, on their own timer; 0 turns them off.
  std::thread sweeps;
  if (s.sweep_interval_seconds > 0) {
    const auto every = std::chrono::seconds(s.sweep_interval_seconds);
    sweeps = std::thread([&, every] {
      std::unique_lock lock(upkeep_mu);
      while (!upkeep_cv.wait_for(lock, every, [&] { return worker_stop.load(); })) {
        lock.unlock();
        try {
          sweeper.run();
        } catch (const std::exception& e) {
          log::error("sweep failed", {{"error", e.what()}});
        }
        lock.lock();
      }
    });
  }
  std::thread reloader;
  if (s.circuit_reload_seconds > 0) {
    const auto every = std::chrono::seconds(s.circuit_reload_seconds);
    reloader = std::thread([&, every] {
      std::unique_lock lock(upkeep_mu);
      while (!upkeep_cv.wait_for(lock, every, [&] { return worker_stop.load(); })) {
        lock.unlock();
        try {
          reload_catalog();
        } catch (const std::exception& e) {
          log::error("loading uploaded circuit versions failed", {{"error", e.what()}});
        }
        lock.lock();
      }
    });
  }
  const bool demo = s.demo;
  bool demo_failed = false;
  feeds.start();
  http::run_server(server, api, metrics, stopping, [&](const std::string& address) {
    log::info("listening", {{"address", address},
                            {"storage", data.storage_name},
                            {"cache", data.cache_name},
                            {"data_dir", data.data_dir.string()}});
    if (!demo) return;
    try {
      // What the wallet trusts (wallet.mjs prove --release-key, fetchArtifacts' releaseKeys): it
      // checks each manifest.sig under these before proving. Printed before the demo's commands.
      std::string text;
      for (const auto& k : key_policy.release_keys) {
        text += "release key the wallet trusts: " + k.public_key + " (key id " + k.key_id +
                "; wallet.mjs prove --release-key " + k.public_key + ")\n";
      }
      text += set_up_demo(*data.store, data.master_key, data.data_dir, address, artifacts);
      std::cerr << text << std::endl;
    } catch (const std::exception& e) {
      // Stop cleanly (the worker and upkeep threads are joined below), failing the command.
      log::error("demo set-up failed", {{"error", e.what()}});
      demo_failed = true;
      stopping = true;
    }
  });
  {
    std::lock_guard lock(upkeep_mu);
    worker_stop = true;
  }
  upkeep_cv.notify_all();
  feeds.stop();
  worker.notify();
  if (upkeep.joinable()) upkeep.join();
  if (reloader.joinable()) reloader.join();
  if (sweeps.joinable()) sweeps.join();
  if (worker_thread.joinable())
    worker_thread.join();  // attempts in flight finish; the rest stay in the outbox
  log::info("stopped");
  return demo_failed ? 1 : 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the HTTP API (embedded default: SQLite in --data-dir, in-process cache)");
  auto given = add_setting_flags(*cmd, kServe);
  cmd->callback([given, &exit_code] { exit_code = serve(given->resolve()); });
}

}  // namespace pg::cli
