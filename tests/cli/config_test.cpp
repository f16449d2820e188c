// The settings table of the proofgate processes: precedence flag > PROOFGATE_* > TOML file >
// default for every type, the refusals naming the setting and the source of the value, the flags
// derived for each command, and README.md's table being the one the binary prints.
#include "cli/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace pg::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHashA =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr std::string_view kHashB =
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
constexpr std::string_view kHashC =
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest()
      : file_(fs::temp_directory_path() / ("pg-config-" + std::to_string(::getpid()) + ".toml")) {
    clear_env();
  }
  ~ConfigTest() override {
    fs::remove(file_);
    clear_env();
  }
  static void clear_env() {
    for (const auto& spec : setting_specs()) ::unsetenv(env_name(spec).c_str());
    ::unsetenv("PROOFGATE_CONFIG");
  }
  void write(const std::string& text) { std::ofstream(file_) << text; }
  /// The error resolve_settings throws, or "" when it does not.
  std::string error_of(const RawSettings& flags, bool with_file) {
    try {
      (void)resolve_settings(flags, with_file ? std::optional(file_) : std::nullopt);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  fs::path file_;
};

TEST_F(ConfigTest, defaults_apply_with_nothing_given) {
  const Settings s = resolve_settings({}, std::nullopt);
  EXPECT_EQ(s.listen, "127.0.0.1:8080");
  EXPECT_EQ(s.data_dir, "./data");
  EXPECT_EQ(s.sqlite_synchronous, "FULL");
  EXPECT_EQ(s.body_limit, 65536u);
  EXPECT_EQ(s.rate_limit, 100.0);
  EXPECT_TRUE(s.worker);
  EXPECT_TRUE(s.migrate);
  EXPECT_FALSE(s.demo);
  EXPECT_EQ(s.admin_token_sha256, "");
  EXPECT_EQ(s.log_level, "info");
  // The settings other features are built on, declared with these names and defaults.
  EXPECT_EQ(s.max_connections, 4096u);
  EXPECT_EQ(s.pool_queue_limit, 1024u);
  EXPECT_EQ(s.auth_failures_per_minute, 60u);
  EXPECT_EQ(s.metrics_token_sha256, "");
  EXPECT_FALSE(s.insecure_development_keys);
}

// One setting of each type, each given by all four sources in turn: the flag wins, then the
// variable, then the file, then the default.
TEST_F(ConfigTest, flag_beats_environment_beats_file_beats_default_for_every_type) {
  struct Case {
    std::string name, flag, env, file_toml, fallback;
    std::function<std::string(const Settings&)> get;
  };
  const auto num = [](double d) {
    std::ostringstream o;
    o << d;
    return o.str();
  };
  const std::vector<Case> cases{
      {"listen", "127.0.0.1:3333", "127.0.0.1:2222", "\"127.0.0.1:1111\"", "127.0.0.1:8080",
       [](const Settings& s) { return s.listen; }},
      {"body_limit", "3000", "2000", "1500", "65536",
       [](const Settings& s) { return std::to_string(s.body_limit); }},
      {"rate_limit", "3.5", "2.5", "1.5", "100",
       [&](const Settings& s) { return num(s.rate_limit); }},
      {"demo", "true", "1", "false", "false",
       [](const Settings& s) { return std::string(s.demo ? "true" : "false"); }},
      {"worker", "false", "0", "true", "true",
       [](const Settings& s) { return std::string(s.worker ? "true" : "false"); }},
      {"sqlite_synchronous", "NORMAL", "FULL", "\"NORMAL\"", "FULL",
       [](const Settings& s) { return s.sqlite_synchronous; }},
      {"metrics_token_sha256", std::string(kHashA), std::string(kHashB),
       "\"" + std::string(kHashC) + "\"", "",
       [](const Settings& s) { return s.metrics_token_sha256; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string env = "PROOFGATE_" + [&] {
      std::string u;
      for (const char ch : c.name) u.push_back(static_cast<char>(std::toupper(ch)));
      return u;
    }();
    write(c.name + " = " + c.file_toml + "\n");
    ::setenv(env.c_str(), c.env.c_str(), 1);
    const auto expect_bool_or_text = [&](const std::string& want) {
      return want == "1" ? "true" : want == "0" ? "false" : want;
    };
    EXPECT_EQ(c.get(resolve_settings({{c.name, c.flag}}, file_)), c.flag);
    EXPECT_EQ(c.get(resolve_settings({}, file_)), expect_bool_or_text(c.env));
    ::unsetenv(env.c_str());
    const std::string from_file =
        c.file_toml.front() == '"' ? c.file_toml.substr(1, c.file_toml.size() - 2) : c.file_toml;
    EXPECT_EQ(c.get(resolve_settings({}, file_)), from_file);
    EXPECT_EQ(c.get(resolve_settings({}, std::nullopt)), c.fallback);
  }
}

TEST_F(ConfigTest, errors_name_the_setting_the_problem_and_the_source) {
  ::setenv("PROOFGATE_BODY_LIMIT", "5", 1);
  EXPECT_EQ(error_of({}, false),
            "body_limit: must be an integer from 1024 to 16777216, got '5' (from "
            "PROOFGATE_BODY_LIMIT)");
  ::unsetenv("PROOFGATE_BODY_LIMIT");
  EXPECT_EQ(error_of({{"max_connections", "15"}}, false),
            "max_connections: must be an integer from 16 to 1000000, got '15' (from "
            "--max-connections)");
  write("pool_queue_limit = 0\n");
  EXPECT_EQ(error_of({}, true),
            "pool_queue_limit: must be an integer from 1 to 1000000, got '0' "
            "(from " +
                file_.string() + ")");
  // Each type refuses what it is not, naming the setting.
  const std::vector<std::pair<std::string, std::string>> bad{
      {"workers", "-1"},
      {"workers", "1x"},
      {"workers", ""},
      {"workers", "99999999999999999999999"},
      {"auth_failures_per_minute", "1000001"},
      {"rate_limit", "nan"},
      {"rate_limit", "1e10"},
      {"rate_burst", "0.5"},
      {"demo", "yes"},
      {"demo", ""},
      {"sqlite_synchronous", "full"},
      {"log_level", "verbose"},
      {"admin_token_sha256", std::string(63, 'a')},
      {"metrics_token_sha256", std::string(64, 'A')},
      {"listen", "8080"},
      {"listen", "127.0.0.1:65536"},
      {"webhook_retry_schedule", "5,,30"},
      {"webhook_retry_schedule", "0"},
  };
  for (const auto& [name, value] : bad) {
    SCOPED_TRACE(name + "=" + value);
    const std::string e = error_of({{name, value}}, false);
    EXPECT_EQ(e.rfind(name + ": must be ", 0), 0u) << e;
  }
  // Free text is never echoed: a URL may hold a password. (No free-text setting refuses a
  // value today; the rule is in resolve_settings.)
  EXPECT_EQ(error_of({{"database_url", "postgresql://u:secret@h/db"}}, false), "");
}

TEST_F(ConfigTest, chain_settings_are_checked_together_and_the_rpc_url_is_never_echoed) {
  // chain_check needs the node and the deployment.
  EXPECT_EQ(error_of({{"chain_check", "true"}}, false),
            "chain_check: true needs chain_rpc_url (the node to ask)");
  EXPECT_EQ(error_of({{"chain_check", "true"}, {"chain_rpc_url", "http://127.0.0.1:8545"}}, false),
            "chain_check: true needs chain_deployment (the verifiers to ask)");
  // A provider's URL may hold its access key: the refusal does not repeat it.
  const std::string e = error_of({{"chain_rpc_url", "ftp://node.example/v3/SECRETKEY"}}, false);
  EXPECT_EQ(e.rfind("chain_rpc_url: ", 0), 0u) << e;
  EXPECT_EQ(e.find("SECRETKEY"), std::string::npos) << e;
  // Plain http only to a loopback node; elsewhere https (the verdicts travel over it).
  const std::string plain =
      error_of({{"chain_rpc_url", "http://node.example/v3/SECRETKEY"}}, false);
  EXPECT_EQ(plain,
            "chain_rpc_url: http:// is accepted only for a loopback host (127.0.0.0/8, ::1, "
            "localhost); use https:// for any other node");
  for (const char* ok : {"https://node.example/v3/KEY", "http://localhost:8545",
                         "http://127.0.0.1:8545", "http://[::1]:8545"}) {
    EXPECT_EQ(error_of({{"chain_rpc_url", ok}}, false), "") << ok;
  }
  // The deployment file is read strictly, the refusal naming the file's member.
  write(R"({"chain_id": 31337})");
  std::string bad = error_of({{"chain_deployment", file_.string()}}, false);
  EXPECT_EQ(bad.rfind("chain_deployment: the deployment file: ", 0), 0u) << bad;
  EXPECT_NE(bad.find("circuit_registry"), std::string::npos) << bad;
  EXPECT_NE(bad.find("(from --chain-deployment)"), std::string::npos) << bad;
  bad = error_of({{"chain_deployment", "/nonexistent/deployment.json"}}, false);
  EXPECT_EQ(bad.rfind("chain_deployment: the deployment file: ", 0), 0u) << bad;
  const Settings s = resolve_settings({}, std::nullopt);
  EXPECT_FALSE(s.chain_check);
  EXPECT_EQ(s.chain_check_timeout_ms, 2000u);
  EXPECT_EQ(s.chain_check_concurrency, 8u);
  EXPECT_TRUE(s.chain_deployment.empty());
  // chain_check_concurrency: 1 to 1024.
  for (const char* value : {"0", "1025"}) {
    EXPECT_EQ(error_of({{"chain_check_concurrency", value}}, false),
              std::string("chain_check_concurrency: must be an integer from 1 to 1024, got '") +
                  value + "' (from --chain-check-concurrency)");
  }
  EXPECT_EQ(error_of({{"chain_check_concurrency", "1024"}}, false), "");
}

TEST_F(ConfigTest, root_grace_seconds_has_a_maximum_of_a_day) {
  // docs/issuers.md: 0 to 86400; a longer grace would let a revoked credential prove for days.
  EXPECT_EQ(error_of({{"root_grace_seconds", "86401"}}, false),
            "root_grace_seconds: must be an integer from 0 to 86400, got '86401' (from "
            "--root-grace-seconds)");
  ::setenv("PROOFGATE_ROOT_GRACE_SECONDS", "604800", 1);
  EXPECT_EQ(error_of({}, false),
            "root_grace_seconds: must be an integer from 0 to 86400, got '604800' (from "
            "PROOFGATE_ROOT_GRACE_SECONDS)");
  ::unsetenv("PROOFGATE_ROOT_GRACE_SECONDS");
  write("root_grace_seconds = 100000\n");
  EXPECT_EQ(error_of({}, true),
            "root_grace_seconds: must be an integer from 0 to 86400, got '100000' (from " +
                file_.string() + ")");
  EXPECT_EQ(
      error_of({{"root_grace_seconds", "-1"}}, false).rfind("root_grace_seconds: must be ", 0), 0u);
  // The bounds themselves are taken.
  EXPECT_EQ(resolve_settings({{"root_grace_seconds", "86400"}}, std::nullopt).root_grace_seconds,
            86400u);
  EXPECT_EQ(resolve_settings({{"root_grace_seconds", "0"}}, std::nullopt).root_grace_seconds, 0u);
}

TEST_F(ConfigTest, tracing_settings_default_to_no_export_every_trace_and_2048_spans) {
  const Settings s = resolve_settings({}, std::nullopt);
  EXPECT_EQ(s.otlp_traces_endpoint, "");
  EXPECT_EQ(s.trace_sample_ratio, 1.0);
  EXPECT_EQ(s.trace_queue_spans, 2048u);
  const Settings t = resolve_settings({{"otlp_traces_endpoint", "http://127.0.0.1:4318/v1/traces"},
                                       {"trace_sample_ratio", "0.25"},
                                       {"trace_queue_spans", "10"}},
                                      std::nullopt);
  EXPECT_EQ(t.otlp_traces_endpoint, "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(t.trace_sample_ratio, 0.25);
  EXPECT_EQ(t.trace_queue_spans, 10u);
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"trace_sample_ratio", "1.5"},
           {"trace_sample_ratio", "-0.1"},
           {"trace_queue_spans", "0"},
           {"otlp_traces_endpoint", "127.0.0.1:4318"},
           {"otlp_traces_endpoint", "grpc://collector:4317"},
           {"otlp_traces_endpoint", "http:///v1/traces"}}) {
    SCOPED_TRACE(name + "=" + value);
    const std::string e = error_of({{name, value}}, false);
    EXPECT_EQ(e.rfind(name + ": ", 0), 0u) << e;
  }
}

TEST_F(ConfigTest, refuses_unknown_keys_malformed_files_and_wrong_types) {
  write("lisen = \"x\"\n");
  EXPECT_EQ(error_of({}, true), file_.string() + ": unknown setting lisen");
  write("listen = \n");
  EXPECT_NE(error_of({}, true).find(file_.string() + ": "), std::string::npos);
  write("listen = [1, 2]\n");
  EXPECT_EQ(error_of({}, true), file_.string() + ": listen must be a string, number or boolean");
  EXPECT_THROW(resolve_settings({}, fs::path("/nonexistent/proofgate.toml")), std::runtime_error);
  EXPECT_EQ(error_of({{"nonsense", "1"}}, false), "unknown setting nonsense");
}

TEST_F(ConfigTest, config_file_comes_from_the_flag_then_the_variable) {
  EXPECT_EQ(config_file(""), std::nullopt);
  ::setenv("PROOFGATE_CONFIG", "/etc/pg.toml", 1);
  EXPECT_EQ(config_file(""), fs::path("/etc/pg.toml"));
  EXPECT_EQ(config_file("/x.toml"), fs::path("/x.toml"));
}

TEST_F(ConfigTest, every_setting_has_one_flag_variable_and_key_and_a_valid_default) {
  std::set<std::string> names, flags;
  for (const auto& spec : setting_specs()) {
    SCOPED_TRACE(std::string(spec.name));
    EXPECT_TRUE(names.insert(std::string(spec.name)).second);
    EXPECT_TRUE(flags.insert(flag_name(spec)).second);
    EXPECT_FALSE(spec.help.empty());
    EXPECT_NE(spec.commands & kServe, 0u);  // serve takes every setting
  }
  EXPECT_EQ(flag_name(*std::find_if(setting_specs().begin(), setting_specs().end(),
                                    [](const auto& s) { return s.name == "worker"; })),
            "--no-worker");
  // Every default passes its own checks: resolve_settings would throw otherwise.
  EXPECT_NO_THROW(resolve_settings({}, std::nullopt));
}

TEST_F(ConfigTest, command_flags_come_from_the_table) {
  CLI::App app;
  CLI::App* serve = app.add_subcommand("serve");
  auto given = add_setting_flags(*serve, kServe);
  CLI::App* worker = app.add_subcommand("worker");
  (void)add_setting_flags(*worker, kWorker);
  std::vector<std::string> args{"proofgate",   "serve",      "--listen",     "127.0.0.1:9",
                                "--no-worker", "--demo",     "--rate-limit", "4",
                                "--config",    "/tmp/x.toml"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(
      given->values,
      (RawSettings{
          {"listen", "127.0.0.1:9"}, {"worker", "false"}, {"demo", "true"}, {"rate_limit", "4"}}));
  EXPECT_EQ(given->config, "/tmp/x.toml");
  // The worker takes the webhook and storage settings, not the server's.
  EXPECT_NE(worker->get_option_no_throw("--webhook-timeout-ms"), nullptr);
  EXPECT_NE(worker->get_option_no_throw("--database-url"), nullptr);
  EXPECT_EQ(worker->get_option_no_throw("--listen"), nullptr);
}

TEST_F(ConfigTest, issuer_serve_takes_the_database_url_only) {
  CLI::App app;
  CLI::App* serve = app.add_subcommand("serve");
  auto given = add_setting_flags(*serve, kIssuerServe);
  std::vector<std::string> args{"proofgate", "serve", "--database-url", "postgresql://db/x"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(given->values, (RawSettings{{"database_url", "postgresql://db/x"}}));
  // The verifier's other settings are not the issuer node's (it has its own --listen, --data-dir).
  for (const auto& spec : setting_specs()) {
    EXPECT_EQ((spec.commands & kIssuerServe) != 0, spec.name == "database_url") << spec.name;
  }
}

TEST_F(ConfigTest, readme_settings_table_is_the_one_the_binary_prints) {
  std::ifstream in(fs::path(PROOFGATE_SOURCE_DIR) / "README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::string begin = "<!-- settings-table: begin (proofgate settings --markdown) -->\n";
  const std::string end = "<!-- settings-table: end -->";
  const auto b = readme.find(begin);
  const auto e = readme.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(readme.substr(b + begin.size(), e - b - begin.size()), settings_markdown())
      << "README.md's settings table is out of date: replace it with the output of "
         "`proofgate settings --markdown`";
}

}  // namespace
}  // namespace pg::cli
