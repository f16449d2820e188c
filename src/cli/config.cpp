// The settings table and its resolution (see config.hpp); TOML via toml++.
#include "cli/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "chain/deployment.hpp"
#include "chain/rpc_url.hpp"
#include "core/release_signature.hpp"
#include "feed/follower.hpp"

namespace pg::cli {

namespace {

std::string check_listen(std::string_view v) {
  if (!split_listen(v)) return "must be HOST:PORT with a port from 0 to 65535";
  return {};
}

std::string check_otlp_endpoint(std::string_view v) {
  if (v.empty()) return {};
  if (!v.starts_with("http://") && !v.starts_with("https://"))
    return "must start with http:// or https://";
  const std::string_view rest = v.substr(v.find("//") + 2);
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') return "must name a host";
  if (v.find_first_of(" \t\r\n") != std::string_view::npos) return "must not hold spaces";
  return {};
}

std::string check_retry_schedule(std::string_view v) {
  if (!parse_retry_schedule(v))
    return "must be 1 to 30 comma-separated waits in seconds, each from 0.001 to 604800";
  return {};
}

std::string check_issuer_feeds(std::string_view v) {
  const auto sources = feed::parse_feed_sources(v);
  return sources ? std::string() : sources.error();
}

std::string check_sandbox_issuer_feeds(std::string_view v) {
  const auto sources = feed::parse_feed_sources(v, /*sandbox=*/true);
  return sources ? std::string() : sources.error();
}

/// A key trusted by both a live and a sandbox feed would let one side's entries pass as the
/// other's: refused, naming the issuers (the keys are public, but the message stays short).
std::string check_feed_sides(const Settings& s) {
  const auto live = feed::parse_feed_sources(s.issuer_feeds);
  const auto sandbox = feed::parse_feed_sources(s.sandbox_issuer_feeds, /*sandbox=*/true);
  if (!live || !sandbox) return {};  // each was refused on its own already
  for (const auto& sb : *sandbox) {
    for (const auto& lv : *live) {
      for (const auto& key : sb.public_keys) {
        if (std::find(lv.public_keys.begin(), lv.public_keys.end(), key) != lv.public_keys.end()) {
          return "sandbox_issuer_feeds: the key of " + sb.issuer + " beginning " +
                 key.substr(0, 8) + " is also an issuer_feeds key of " + lv.issuer +
                 "; a sandbox feed never shares a signing key with a live one";
        }
      }
    }
  }
  return {};
}

std::string check_chain_deployment(std::string_view v) {
  if (v.empty()) return {};
  const auto parsed = chain::read_deployment_file(std::string(v));
  return parsed ? std::string() : "the deployment file: " + parsed.error().to_string();
}

/// chain_rpc_url is never echoed (a provider's URL may hold its access key); chain_check needs
/// both the node and the deployment.
std::string check_chain(const Settings& s) {
  if (!s.chain_rpc_url.empty()) {
    if (const auto problem = chain::rpc_url_problem(s.chain_rpc_url))
      return "chain_rpc_url: " + *problem;
  }
  if (s.chain_check && s.chain_rpc_url.empty())
    return "chain_check: true needs chain_rpc_url (the node to ask)";
  if (s.chain_check && s.chain_deployment.empty())
    return "chain_check: true needs chain_deployment (the verifiers to ask)";
  return {};
}

std::string check_release_keys(std::string_view v) {
  const auto keys = core::parse_release_keys(v);
  return keys ? std::string() : keys.error();
}

using S = Settings;
constexpr unsigned kAll = kServe | kWorker | kMigrate | kAdmin;
constexpr unsigned kStorage = kServe | kWorker | kMigrate;
constexpr unsigned kWebhooks = kServe | kWorker;

SettingSpec text(std::string_view name, std::string S::*m, std::string_view def, unsigned cmds,
                 std::string_view help, std::string (*check)(std::string_view) = nullptr,
                 std::string_view form = "text") {
  return {name, SettingType::kString, def, help, cmds, 0, 0, {}, check, form, m};
}
SettingSpec integer(std::string_view name, std::uint64_t S::*m, std::string_view def, double min,
                    double max, unsigned cmds, std::string_view help) {
  return {name, SettingType::kUint, def, help, cmds, min, max, {}, nullptr, {}, m};
}
SettingSpec number(std::string_view name, double S::*m, std::string_view def, double min,
                   double max, unsigned cmds, std::string_view help) {
  return {name, SettingType::kNumber, def, help, cmds, min, max, {}, nullptr, {}, m};
}
SettingSpec flag(std::string_view name, bool S::*m, std::string_view def, unsigned cmds,
                 std::string_view help) {
  return {name, SettingType::kBool, def, help, cmds, 0, 0, {}, nullptr, {}, m};
}
SettingSpec choice(std::string_view name, std::string S::*m, std::string_view def,
                   std::vector<std::string_view> choices, unsigned cmds, std::string_view help) {
  return {name, SettingType::kChoice, def, help, cmds, 0, 0, std::move(choices), nullptr, {}, m};
}
SettingSpec sha256(std::string_view name, std::string S::*m, unsigned cmds, std::string_view help) {
  return {name, SettingType::kSha256Hex, "", help, cmds, 0, 0, {}, nullptr, {}, m};
}

std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

/// The value's problem, empty when it fits the spec (then stored into `out`).
std::string apply(const SettingSpec& spec, const std::string& v, Settings& out) {
  switch (spec.type) {
    case SettingType::kString:
      if (spec.check) {
        if (std::string problem = spec.check(v); !problem.empty()) return problem;
      }
      out.*std::get<std::string S::*>(spec.member) = v;
      return {};
    case SettingType::kChoice:
      for (const auto c : spec.choices) {
        if (v == c) {
          out.*std::get<std::string S::*>(spec.member) = v;
          return {};
        }
      }
      break;
    case SettingType::kSha256Hex:
      if (v.empty() ||
          (v.size() == 64 && v.find_first_not_of("0123456789abcdef") == std::string::npos)) {
        out.*std::get<std::string S::*>(spec.member) = v;
        return {};
      }
      break;
    case SettingType::kBool:
      if (v == "true" || v == "1" || v == "false" || v == "0") {
        out.*std::get<bool S::*>(spec.member) = v == "true" || v == "1";
        return {};
      }
      break;
    case SettingType::kUint: {
      std::uint64_t x = 0;
      const auto r = std::from_chars(v.data(), v.data() + v.size(), x);
      if (!v.empty() && r.ec == std::errc() && r.ptr == v.data() + v.size() &&
          static_cast<double>(x) >= spec.min && static_cast<double>(x) <= spec.max) {
        out.*std::get<std::uint64_t S::*>(spec.member) = x;
        return {};
      }
      break;
    }
    case SettingType::kNumber: {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (!v.empty() && end == v.c_str() + v.size() && std::isfinite(x) && x >= spec.min &&
          x <= spec.max) {
        out.*std::get<double S::*>(spec.member) = x;
        return {};
      }
      break;
    }
  }
  return "must be " + describe_type(spec);
}

}  // namespace

std::optional<std::pair<std::string, unsigned short>> split_listen(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() ||
      port > 65535)
    return std::nullopt;
  std::string_view host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::pair{std::string(host), static_cast<unsigned short>(port)};
}

std::optional<std::vector<std::chrono::milliseconds>> parse_retry_schedule(std::string_view text) {
  std::vector<std::chrono::milliseconds> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    const std::string item(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    char* end = nullptr;
    const double seconds = std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !(seconds >= 0.001) ||
        !(seconds <= 7 * 86400.0))
      return std::nullopt;
    out.emplace_back(static_cast<std::int64_t>(seconds * 1000));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (out.size() > 30) return std::nullopt;
  return out;
}

const std::vector<SettingSpec>& setting_specs() {
  static const std::vector<SettingSpec> kSpecs{
      text("listen", &S::listen, "127.0.0.1:8080", kServe,
           "the address to listen on (port 0: any free port)", check_listen, "HOST:PORT"),
      text("data_dir", &S::data_dir, "./data", kAll,
           "data directory of the embedded default: SQLite database, master.key, demo files"),
      text("database_url", &S::database_url, "", kAll | kIssuerServe,
           "PostgreSQL URL: production storage instead of SQLite in data_dir"),
      text("redis_url", &S::redis_url, "", kServe,
           "Redis URL: shared nonces, idempotency keys and rate limits instead of the in-process "
           "cache"),
      text("artifacts_dir", &S::artifacts_dir, "./artifacts", kServe,
           "circuit artifacts: <dir>/<claim_type>/<version>/"),
      text("master_key_file", &S::master_key_file, "", kAll,
           "32-byte key sealing webhook secrets (empty: <data_dir>/master.key); the same for "
           "every instance"),
      flag("demo", &S::demo, "false", kServe,
           "set up a demo partner, holder and issuer trees under <data_dir>/demo"),
      flag("insecure_development_keys", &S::insecure_development_keys, "false", kServe,
           "DEVELOPMENT ONLY: load circuit keys from a development ceremony (anyone can forge "
           "proofs for them); refused with --database-url"),
      text("release_public_keys", &S::release_public_keys, "", kServe,
           "Ed25519 release keys: load a circuit version only when its manifest.sig verifies "
           "under one of them (docs/ceremony.md); empty: not checked (a warning in production "
           "mode)",
           check_release_keys, "comma-separated base64url keys"),
      choice("sqlite_synchronous", &S::sqlite_synchronous, "FULL", {"FULL", "NORMAL"}, kStorage,
             "SQLite durability: FULL fsyncs every commit"),
      integer("database_pool_size", &S::database_pool_size, "8", 1, 512, kStorage,
              "PostgreSQL connections per process"),
      flag("migrate", &S::migrate, "true", kServe | kWorker,
           "apply PostgreSQL migrations at start (false: run `proofgate migrate` first)"),
      integer("maintenance_interval_seconds", &S::maintenance_interval_seconds, "300", 10, 86400,
              kServe, "storage upkeep period (PostgreSQL partitions ahead, analytics view)"),
      integer("sweep_interval_seconds", &S::sweep_interval_seconds, "3600", 0, 604800, kServe,
              "how often serve sweeps rows nothing needs any more (expired requests and "
              "idempotency keys, old nonces, settled webhook rows); 0: never"),
      integer("sweep_request_keep_days", &S::sweep_request_keep_days, "7", 0, 3650, kServe | kAdmin,
              "days an expired proof request is kept (for support)"),
      integer("sweep_nonce_keep_days", &S::sweep_nonce_keep_days, "90", 1, 36500, kServe | kAdmin,
              "days a proof stays findable by GET /api/v1/status/{proof_id} on PostgreSQL (its "
              "nonce row is swept after, once no webhook row or answerable request needs it)"),
      integer("sweep_delivered_keep_days", &S::sweep_delivered_keep_days, "30", 0, 3650,
              kServe | kAdmin,
              "days a delivered webhook event and its attempts are kept (the admin's replay "
              "window)"),
      integer("sweep_dead_keep_days", &S::sweep_dead_keep_days, "90", 0, 3650, kServe | kAdmin,
              "days a dead webhook event (and its attempts) is kept after it was created"),
      integer("sweep_batch", &S::sweep_batch, "1000", 1, 100000, kServe | kAdmin,
              "rows of each kind one sweep transaction deletes at most"),
      integer(
          "sweep_max_rows", &S::sweep_max_rows, "100000", 1, 100000000, kServe | kAdmin,
          "a sweep run stops once it has deleted this many rows (after the batch in progress; the "
          "rest wait for the next run)"),
      integer("sweep_max_seconds", &S::sweep_max_seconds, "30", 1, 3600, kServe | kAdmin,
              "how long one sweep run goes on at most (it stops after the batch in progress)"),
      integer("readiness_probe_ms", &S::readiness_probe_ms, "250", 50, 60000, kServe,
              "how often storage and cache are probed for /readyz, which answers from the last "
              "probe without waiting behind requests"),
      integer("body_limit", &S::body_limit, "65536", 1024, 16 << 20, kServe,
              "largest request body in bytes"),
      integer("header_limit", &S::header_limit, "8192", 1024, 1 << 20, kServe,
              "largest request header in bytes"),
      integer("read_timeout_seconds", &S::read_timeout_seconds, "10", 1, 3600, kServe,
              "time to read one request, header and body"),
      integer("idle_timeout_seconds", &S::idle_timeout_seconds, "30", 1, 3600, kServe,
              "how long an idle keep-alive connection stays open"),
      integer("drain_timeout_seconds", &S::drain_timeout_seconds, "10", 0, 3600, kServe,
              "on SIGTERM, how long requests in flight may finish"),
      integer("workers", &S::workers, "0", 0, 256, kServe,
              "threads verifying requests (0: eight per core, at most 256)"),
      integer("max_connections", &S::max_connections, "4096", 16, 1000000, kServe,
              "open client connections at most"),
      integer("pool_queue_limit", &S::pool_queue_limit, "1024", 1, 1000000, kServe,
              "requests waiting for a verifying thread at most (beyond: 503 with Retry-After)"),
      integer("verify_batch_window_us", &S::verify_batch_window_us, "2000", 0, 100000, kServe,
              "how long (microseconds) a pairing check waits at most for concurrent verifies "
              "under the same key to check them in one batch; never while no other verify for that "
              "key is on its way (0: every proof alone; otherwise a batch also waits for its key's "
              "running check, gathering what arrives meanwhile); used only when workers outnumber "
              "the cores"),
      integer("verify_batch_max", &S::verify_batch_max, "32", 1, 256, kServe,
              "proofs checked in one batch at most (the batch is checked once it is full)"),
      number("rate_limit", &S::rate_limit, "100", 0, 1e9, kServe,
             "requests per second per partner (0: off)"),
      number("rate_burst", &S::rate_burst, "200", 1, 1e9, kServe, "burst per partner"),
      integer("auth_failures_per_minute", &S::auth_failures_per_minute, "60", 0, 1000000, kServe,
              "failed authentications allowed per source address per minute (0: off)"),
      integer("root_grace_seconds", &S::root_grace_seconds, "3600", 0, 86400, kServe,
              "how long a replaced issuer root stays valid (a revoked credential proves that "
              "long; warned above 3600)"),
      text("issuer_feeds", &S::issuer_feeds, "", kServe,
           "the issuers' signed root feeds to follow (docs/issuers.md)", check_issuer_feeds,
           "comma-separated ISSUER|URL|KEY[+KEY...]"),
      text("sandbox_issuer_feeds", &S::sandbox_issuer_feeds, "", kServe,
           "sandbox issuers' signed root feeds: their roots serve test-mode clients only "
           "(docs/issuers.md)",
           check_sandbox_issuer_feeds, "comma-separated ISSUER|URL|KEY[+KEY...]"),
      integer("feed_wait_seconds", &S::feed_wait_seconds, "25", 1, 30, kServe,
              "how long one long poll of a root feed waits for a new entry"),
      integer("request_ttl_seconds", &S::request_ttl_seconds, "300", 10, 3600, kServe,
              "default lifetime of a proof request"),
      sha256("admin_token_sha256", &S::admin_token_sha256, kServe,
             "SHA-256 (hex) of the admin token for /api/admin (proofgate admin new-admin-token); "
             "empty: no admin API"),
      choice("admin_token_role", &S::admin_token_role, "operator",
             {"viewer", "operator", "approver"}, kServe,
             "the role of the admin token (docs/admin.md, \"Roles\")"),
      text("public_url", &S::public_url, "http://127.0.0.1:8080", kServe,
           "the base URL people reach this server at (admin enrolment links; also "
           "`admin create-admin --public-url`; the OAuth2 access tokens' iss and aud)"),
      integer("oauth_token_ttl_seconds", &S::oauth_token_ttl_seconds, "600", 60, 3600, kServe,
              "lifetime of an OAuth2 access token from POST /oauth/token"),
      text("account_sms_dir", &S::account_sms_dir, "", kServe,
           "sandbox and demo only: citizens' sign-in codes written one file <E.164>.code each; "
           "used when set or with --demo (then empty: <data_dir>/sms); otherwise sign-in answers "
           "503 until an SMS gateway is plugged in (docs/citizens.md)"),
      integer("admin_password_memory_kib", &S::admin_password_memory_kib, "19456", 8, 1 << 22,
              kServe,
              "argon2id memory per admin password hash in KiB (2 passes, 1 lane); existing "
              "hashes keep their own cost"),
      integer("admin_session_idle_seconds", &S::admin_session_idle_seconds, "900", 60, 86400,
              kServe, "an admin session ends after this long without a request"),
      integer("admin_session_max_seconds", &S::admin_session_max_seconds, "28800", 300, 604800,
              kServe, "an admin session ends this long after sign-in, whatever happens"),
      integer("usage_min_count", &S::usage_min_count, "5", 1, 1000, kServe,
              "GET /api/admin/usage shows counts below this as \"<k\" (small-count suppression)"),
      sha256("metrics_token_sha256", &S::metrics_token_sha256, kServe,
             "SHA-256 (hex) of the bearer token /metrics asks for; empty: /metrics is open"),
      integer("approval_ttl_seconds", &S::approval_ttl_seconds, "86400", 60, 604800,
              kServe | kAdmin,
              "how long a change that needs a second admin (two-person rule) waits for approval"),
      integer("circuit_state_cache_ms", &S::circuit_state_cache_ms, "1000", 0, 60000, kServe,
              "how long the verify path caches a circuit version's state (a change made by "
              "another instance is seen within this)"),
      integer("circuit_upload_limit", &S::circuit_upload_limit, "134217728", 1 << 20, 1 << 30,
              kServe,
              "largest POST /api/admin/circuits body in bytes (a circuit version's files; with a "
              "credential only, read within 300 s)"),
      integer("circuit_reload_seconds", &S::circuit_reload_seconds, "5", 0, 3600, kServe,
              "how often serve loads versions uploaded through another instance from the "
              "artifacts directory (0: only at start and on enable)"),
      flag("worker", &S::worker, "true", kServe,
           "deliver webhooks in this process (false: run `proofgate worker`)"),
      flag("webhook_allow_loopback", &S::webhook_allow_loopback, "false", kWebhooks,
           "DEVELOPMENT/TESTS ONLY: allow webhook URLs on loopback, where plain http is allowed "
           "too (nowhere else)"),
      integer("webhook_timeout_ms", &S::webhook_timeout_ms, "5000", 100, 60000, kWebhooks,
              "time for one delivery attempt: connect, send, answer"),
      integer("webhook_concurrency", &S::webhook_concurrency, "8", 1, 256, kWebhooks,
              "webhook deliveries in flight per worker"),
      integer("webhook_per_client", &S::webhook_per_client, "2", 1, 256, kWebhooks,
              "webhook deliveries in flight per partner"),
      integer("webhook_poll_ms", &S::webhook_poll_ms, "250", 10, 60000, kWebhooks,
              "longest wait of the worker when nothing is due"),
      text("webhook_retry_schedule", &S::webhook_retry_schedule, "5,30,120,600,3600,14400,43200",
           kWebhooks, "the waits after each failed attempt; the last one failing makes it dead",
           check_retry_schedule, "1 to 30 comma-separated seconds"),
      text("chain_deployment", &S::chain_deployment, "", kServe,
           "the deployment file of `proofgate chain deploy`: \"mode\":\"onchain\" verifies "
           "answer with its verifiers' calldata (docs/onchain.md); empty: onchain is refused",
           check_chain_deployment, "a file path"),
      text("chain_rpc_url", &S::chain_rpc_url, "", kServe,
           "JSON-RPC URL (https, or http to a loopback host) of an Ethereum node chain_check asks "
           "with eth_call"),
      flag("chain_check", &S::chain_check, "false", kServe,
           "an onchain verify also asks the deployed verifier (eth_call) and is refused when it "
           "disagrees (CHAIN_DISAGREES) or cannot be asked or is on another chain than the "
           "deployment file's `chain_id` (CHAIN_UNAVAILABLE)"),
      integer("chain_check_timeout_ms", &S::chain_check_timeout_ms, "2000", 100, 60000, kServe,
              "time for one chain_check eth_call: connect, send, answer"),
      integer("chain_check_concurrency", &S::chain_check_concurrency, "8", 1, 1024, kServe,
              "chain_check calls running at once at most; an onchain verify beyond them is "
              "CHAIN_UNAVAILABLE at once"),
      choice("log_level", &S::log_level, "info", {"debug", "info", "warn", "error"}, kStorage,
             "lowest level of the JSON log lines written"),
      text("otlp_traces_endpoint", &S::otlp_traces_endpoint, "", kWebhooks,
           "OTLP/HTTP JSON collector URL spans are exported to (empty: no export; trace ids and "
           "traceparent headers still work)",
           check_otlp_endpoint, "http(s)://HOST:PORT/PATH, e.g. http://127.0.0.1:4318/v1/traces"),
      number("trace_sample_ratio", &S::trace_sample_ratio, "1", 0, 1, kWebhooks,
             "share of new traces exported (an incoming traceparent's sampled flag decides for "
             "its trace; error answers are always exported)"),
      integer("trace_queue_spans", &S::trace_queue_spans, "2048", 1, 1000000, kWebhooks,
              "spans waiting for export at most (beyond: dropped and counted)"),
  };
  return kSpecs;
}

std::string env_name(const SettingSpec& spec) {
  std::string out = "PROOFGATE_";
  for (const char c : spec.name)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

std::string flag_name(const SettingSpec& spec) {
  std::string out =
      spec.type == SettingType::kBool && spec.default_value == "true" ? "--no-" : "--";
  for (const char c : spec.name) out.push_back(c == '_' ? '-' : c);
  return out;
}

std::string describe_type(const SettingSpec& spec) {
  switch (spec.type) {
    case SettingType::kString:
      return std::string(spec.form);
    case SettingType::kUint:
      return "an integer from " + number_text(spec.min) + " to " + number_text(spec.max);
    case SettingType::kNumber:
      return "a number from " + number_text(spec.min) + " to " + number_text(spec.max);
    case SettingType::kBool:
      return "true or false";
    case SettingType::kChoice: {
      std::string out = "one of";
      for (std::size_t i = 0; i < spec.choices.size(); ++i)
        out += std::string(i ? ", " : " ") + std::string(spec.choices[i]);
      return out;
    }
    case SettingType::kSha256Hex:
      break;
  }
  return "a SHA-256 as 64 lowercase hex digits, or empty";
}

Settings resolve_settings(const RawSettings& flags,
                          const std::optional<std::filesystem::path>& toml_file) {
  RawSettings file_values;
  const auto& specs = setting_specs();
  const auto known = [&](std::string_view k) {
    for (const auto& s : specs)
      if (s.name == k) return true;
    return false;
  };
  if (toml_file) {
    toml::table table;
    try {
      table = toml::parse_file(toml_file->string());
    } catch (const toml::parse_error& e) {
      throw std::runtime_error(toml_file->string() + ": " + std::string(e.description()) +
                               " at line " + std::to_string(e.source().begin.line));
    }
    for (const auto& [key, node] : table) {
      const std::string k(key.str());
      if (!known(k)) throw std::runtime_error(toml_file->string() + ": unknown setting " + k);
      if (const auto* s = node.as_string()) {
        file_values[k] = s->get();
      } else if (const auto* i = node.as_integer()) {
        file_values[k] = std::to_string(i->get());
      } else if (const auto* f = node.as_floating_point()) {
        file_values[k] = number_text(f->get());
      } else if (const auto* b = node.as_boolean()) {
        file_values[k] = b->get() ? "true" : "false";
      } else {
        throw std::runtime_error(toml_file->string() + ": " + k +
                                 " must be a string, number or boolean");
      }
    }
  }
  for (const auto& [name, value] : flags) {
    if (!known(name)) throw std::runtime_error("unknown setting " + name);
  }
  Settings out;
  for (const auto& spec : specs) {
    const std::string name(spec.name);
    const std::string env = env_name(spec);
    std::string value, from;
    if (const auto it = flags.find(name); it != flags.end()) {
      value = it->second;
      from = flag_name(spec);
    } else if (const char* e = std::getenv(env.c_str()); e != nullptr) {
      value = e;
      from = env;
    } else if (const auto f = file_values.find(name); f != file_values.end()) {
      value = f->second;
      from = toml_file->string();
    } else {
      value = spec.default_value;
      from = "the default";
    }
    if (const std::string problem = apply(spec, value, out); !problem.empty()) {
      // Free text is never echoed: it may be a URL with a password in it.
      const bool echo = spec.type != SettingType::kString || spec.check != nullptr;
      throw std::runtime_error(name + ": " + problem + (echo ? ", got '" + value + "'" : "") +
                               " (from " + from + ")");
    }
  }
  if (const std::string problem = check_feed_sides(out); !problem.empty())
    throw std::runtime_error(problem);
  if (const std::string problem = check_chain(out); !problem.empty())
    throw std::runtime_error(problem);
  return out;
}

std::optional<std::filesystem::path> config_file(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::path(flag);
  if (const char* env = std::getenv("PROOFGATE_CONFIG"); env && *env)
    return std::filesystem::path(env);
  return std::nullopt;
}

Settings GivenFlags::resolve() const {
  return resolve_settings(values, config_file(config));
}

std::shared_ptr<GivenFlags> add_setting_flags(CLI::App& cmd, Command command) {
  auto given = std::make_shared<GivenFlags>();
  cmd.add_option("--config", given->config,
                 "TOML file with settings (flags and PROOFGATE_* variables override it) "
                 "[env PROOFGATE_CONFIG]");
  for (const auto& spec : setting_specs()) {
    if ((spec.commands & command) == 0) continue;
    const std::string name(spec.name);
    const std::string where = " [" + env_name(spec) + "; TOML " + name + "]";
    if (spec.type == SettingType::kBool) {
      const bool on_by_default = spec.default_value == "true";
      const std::string value = on_by_default ? "false" : "true";
      cmd.add_flag_function(
          flag_name(spec), [given, name, value](std::int64_t) { given->values[name] = value; },
          std::string(on_by_default ? "turn off: " : "") + std::string(spec.help) + where);
    } else {
      std::string help(spec.help);
      help += " (" + describe_type(spec);
      if (!spec.default_value.empty()) help += "; default " + std::string(spec.default_value);
      help += ")" + where;
      cmd.add_option_function<std::string>(
          flag_name(spec), [given, name](const std::string& v) { given->values[name] = v; }, help);
    }
  }
  return given;
}

std::string settings_markdown() {
  std::string out =
      "| Setting (TOML key) | Environment | Flag | Commands | Type | Default | What it does |\n"
      "| --- | --- | --- | --- | --- | --- | --- |\n";
  const auto code = [](std::string_view s) {
    return s.empty() ? std::string("(empty)") : "`" + std::string(s) + "`";
  };
  // A '|' in a cell would end it: Markdown tables take it escaped.
  const auto escape_cell = [](std::string_view text) {
    std::string escaped;
    for (const char c : text) {
      if (c == '|') escaped += "\\";
      escaped.push_back(c);
    }
    return escaped;
  };
  for (const auto& spec : setting_specs()) {
    std::string commands;
    for (const auto& [bit, word] :
         {std::pair{kServe, "serve"}, std::pair{kWorker, "worker"}, std::pair{kMigrate, "migrate"},
          std::pair{kAdmin, "admin"}, std::pair{kIssuerServe, "issuer serve"}}) {
      if (spec.commands & bit) commands += (commands.empty() ? "" : ", ") + std::string(word);
    }
    out += "| " + code(spec.name) + " | " + code(env_name(spec)) + " | " + code(flag_name(spec)) +
           " | " + commands + " | " + escape_cell(describe_type(spec)) + " | " +
           code(spec.default_value) + " | " + escape_cell(spec.help) + " |\n";
  }
  return out;
}

void add_settings_command(CLI::App& app, int& exit_code) {
  auto markdown = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "settings", "Print the table of every setting (flags, PROOFGATE_* variables, TOML keys)");
  cmd->add_flag("--markdown", *markdown, "as a Markdown table (the one in README.md)")->required();
  cmd->callback([&exit_code] {
    std::cout << settings_markdown();
    exit_code = 0;
  });
}

}  // namespace pg::cli
