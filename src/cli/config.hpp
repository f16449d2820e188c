// Every setting of the proofgate processes, declared once (setting_specs()): name, type, default,
// range or allowed values, help and the commands that take it. From that table come the flags
// (--name, or --no-name for a switch that is on by default), the PROOFGATE_<NAME> variables, the
// TOML keys, --help and the README table (`proofgate settings --markdown`). Values resolve flag >
// environment > TOML file > default into the typed Settings. Only the cli reads configuration.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pg::cli {

/// Every setting, typed. Defaults, ranges and help are in setting_specs() only.
struct Settings {
  // Where the process listens and keeps its state.
  std::string listen;
  std::string data_dir;
  std::string database_url;
  std::string redis_url;
  std::string artifacts_dir;
  std::string master_key_file;
  bool demo = false;
  bool insecure_development_keys = false;
  std::string release_public_keys;
  std::string sqlite_synchronous;
  std::uint64_t database_pool_size = 0;
  bool migrate = true;
  std::uint64_t maintenance_interval_seconds = 0;
  // The sweeps of rows nothing needs any more (cli/sweeper.hpp, docs/scaling.md).
  std::uint64_t sweep_interval_seconds = 0;
  std::uint64_t sweep_request_keep_days = 0, sweep_nonce_keep_days = 0;
  std::uint64_t sweep_delivered_keep_days = 0, sweep_dead_keep_days = 0;
  std::uint64_t sweep_batch = 0, sweep_max_rows = 0, sweep_max_seconds = 0;
  std::uint64_t readiness_probe_ms = 0;
  // The HTTP server.
  std::uint64_t body_limit = 0;
  std::uint64_t header_limit = 0;
  std::uint64_t read_timeout_seconds = 0;
  std::uint64_t idle_timeout_seconds = 0;
  std::uint64_t drain_timeout_seconds = 0;
  std::uint64_t workers = 0;
  std::uint64_t max_connections = 0;
  std::uint64_t pool_queue_limit = 0;
  std::uint64_t verify_batch_window_us = 0;  // batching of pairing checks (core/pairing_batcher)
  std::uint64_t verify_batch_max = 0;
  // Partners and admins.
  double rate_limit = 0;
  double rate_burst = 0;
  std::uint64_t auth_failures_per_minute = 0;
  std::uint64_t root_grace_seconds = 0;
  std::string issuer_feeds;
  std::string sandbox_issuer_feeds;  // sandbox issuers' feeds: roots for test clients only
  std::uint64_t feed_wait_seconds = 0;
  std::uint64_t request_ttl_seconds = 0;
  std::string admin_token_sha256;
  std::string admin_token_role;
  std::string public_url;
  std::uint64_t oauth_token_ttl_seconds = 0;
  std::string account_sms_dir;
  std::uint64_t admin_password_memory_kib = 0;
  std::uint64_t admin_session_idle_seconds = 0;
  std::uint64_t admin_session_max_seconds = 0;
  std::uint64_t usage_min_count = 0;
  std::string metrics_token_sha256;
  std::uint64_t approval_ttl_seconds = 0;
  std::uint64_t circuit_state_cache_ms = 0;
  std::uint64_t circuit_upload_limit = 0;
  std::uint64_t circuit_reload_seconds = 0;
  // Webhooks.
  bool worker = true;
  bool webhook_allow_loopback = false;
  std::uint64_t webhook_timeout_ms = 0;
  std::uint64_t webhook_concurrency = 0;
  std::uint64_t webhook_per_client = 0;
  std::uint64_t webhook_poll_ms = 0;
  std::string webhook_retry_schedule;
  // The on-chain mode (docs/onchain.md).
  std::string chain_deployment;
  std::string chain_rpc_url;
  bool chain_check = false;
  std::uint64_t chain_check_timeout_ms = 0;
  std::uint64_t chain_check_concurrency = 0;
  // Logs and traces.
  std::string log_level;
  std::string otlp_traces_endpoint;
  double trace_sample_ratio = 1;
  std::uint64_t trace_queue_spans = 0;
};

enum class SettingType {
  kString,     // any text (a `check` may refine it)
  kUint,       // a decimal integer in [min, max]
  kNumber,     // a decimal number in [min, max]
  kBool,       // true | false | 1 | 0
  kChoice,     // one of `choices`, exactly
  kSha256Hex,  // 64 lowercase hex digits, or empty (unset)
};

/// The commands a setting is a flag of (a bit set).
enum Command : unsigned { kServe = 1, kWorker = 2, kMigrate = 4, kAdmin = 8, kIssuerServe = 16 };

struct SettingSpec {
  std::string_view name;  // the TOML key; flag and variable derive from it
  SettingType type;
  std::string_view default_value;  // as text, as a flag would give it
  std::string_view help;
  unsigned commands = kServe;
  double min = 0, max = 0;                 // kUint, kNumber
  std::vector<std::string_view> choices;   // kChoice
  std::string (*check)(std::string_view);  // kString: an error text, empty when fine; may be null
  std::string_view form;                   // kString: what the text is, in words ("HOST:PORT")
  std::variant<std::string Settings::*, std::uint64_t Settings::*, double Settings::*,
               bool Settings::*>
      member;
};

/// The table, in the order of --help and the README.
const std::vector<SettingSpec>& setting_specs();
/// PROOFGATE_<NAME in upper case>.
std::string env_name(const SettingSpec& spec);
/// --name-with-dashes, or --no-name for a switch that is on by default.
std::string flag_name(const SettingSpec& spec);

/// What a value must be, in words ("an integer from 1 to 512"): errors, --help and the README.
std::string describe_type(const SettingSpec& spec);

/// `listen` as host (brackets of an IPv6 literal removed) and port; nullopt unless HOST:PORT
/// with a port from 0 to 65535.
std::optional<std::pair<std::string, unsigned short>> split_listen(std::string_view listen);

/// `webhook_retry_schedule` as waits; nullopt unless 1 to 30 comma-separated seconds, each from
/// 0.001 to 7 days.
std::optional<std::vector<std::chrono::milliseconds>> parse_retry_schedule(std::string_view text);

/// Raw values by setting name (e.g. "listen", "data_dir"), as given, before they are checked.
using RawSettings = std::map<std::string, std::string>;

/// Resolves every setting: `flags` (given on the command line) first, then PROOFGATE_<NAME>,
/// then `toml_file` (when given; its top-level keys are setting names), then the defaults; checks
/// and converts each. Throws std::runtime_error with one line naming the setting, the problem and
/// where the value came from (flag, variable, file); or the file and the key for an unreadable or
/// malformed file, an unknown key or a value that is not a string, number or boolean.
Settings resolve_settings(const RawSettings& flags,
                          const std::optional<std::filesystem::path>& toml_file);

/// The TOML file to read: `flag` when given, else $PROOFGATE_CONFIG, else none.
std::optional<std::filesystem::path> config_file(const std::string& flag);

/// What the command line gave a command: the settings' flags and --config.
struct GivenFlags {
  RawSettings values;
  std::string config;
  /// resolve_settings(values, config_file(config)).
  Settings resolve() const;
};

/// Adds --config and a flag for every setting whose `commands` include `command` to `cmd`; the
/// flags given land in the returned object when CLI11 parses.
std::shared_ptr<GivenFlags> add_setting_flags(CLI::App& cmd, Command command);

/// The settings table in Markdown (the README's table is this text, checked by a test).
std::string settings_markdown();

/// `proofgate settings --markdown`.
void add_settings_command(CLI::App& app, int& exit_code);

}  // namespace pg::cli
