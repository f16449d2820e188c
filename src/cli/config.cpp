// Flag > environment > TOML file > default resolution (see config.hpp); TOML via toml++.
#include "cli/config.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <stdexcept>

namespace pg::cli {

const RawSettings& serve_defaults() {
  static const RawSettings kDefaults{
      {"listen", "127.0.0.1:8080"},
      {"data_dir", "./data"},
      {"database_url", ""},
      {"redis_url", ""},
      {"artifacts_dir", "./artifacts"},
      {"demo", "false"},
      {"insecure_development_keys", "false"},
      {"sqlite_synchronous", "FULL"},
      {"body_limit", "65536"},
      {"header_limit", "8192"},
      {"read_timeout_seconds", "10"},
      {"idle_timeout_seconds", "30"},
      {"drain_timeout_seconds", "10"},
      {"workers", "0"},
      {"max_connections", "4096"},
      {"pool_queue_limit", "1024"},
      {"auth_failures_per_minute", "60"},
      {"metrics_token_sha256", ""},
      {"rate_limit", "100"},
      {"rate_burst", "200"},
      {"root_grace_seconds", "3600"},
      {"request_ttl_seconds", "300"},
      {"admin_token_sha256", ""},
      {"master_key_file", ""},
      {"database_pool_size", "8"},
      {"migrate", "true"},
      {"maintenance_interval_seconds", "300"},
      {"worker", "true"},
      {"webhook_allow_loopback", "false"},
      {"webhook_timeout_ms", "5000"},
      {"webhook_concurrency", "8"},
      {"webhook_per_client", "2"},
      {"webhook_poll_ms", "250"},
      {"webhook_retry_schedule", "5,30,120,600,3600,14400,43200"},
  };
  return kDefaults;
}

RawSettings resolve_settings(const RawSettings& flags,
                             const std::optional<std::filesystem::path>& toml_file) {
  RawSettings file_values;
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
      if (!serve_defaults().contains(k))
        throw std::runtime_error(toml_file->string() + ": unknown setting " + k);
      if (const auto* s = node.as_string()) {
        file_values[k] = s->get();
      } else if (const auto* i = node.as_integer()) {
        file_values[k] = std::to_string(i->get());
      } else if (const auto* f = node.as_floating_point()) {
        file_values[k] = std::to_string(f->get());
      } else if (const auto* b = node.as_boolean()) {
        file_values[k] = b->get() ? "true" : "false";
      } else {
        throw std::runtime_error(toml_file->string() + ": " + k +
                                 " must be a string, number or boolean");
      }
    }
  }
  RawSettings out;
  for (const auto& [name, def] : serve_defaults()) {
    std::string env_name = "PROOFGATE_";
    for (const char c : name)
      env_name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (const auto it = flags.find(name); it != flags.end()) {
      out[name] = it->second;
    } else if (const char* env = std::getenv(env_name.c_str()); env != nullptr) {
      out[name] = env;
    } else if (const auto f = file_values.find(name); f != file_values.end()) {
      out[name] = f->second;
    } else {
      out[name] = def;
    }
  }
  return out;
}

std::optional<std::filesystem::path> config_file(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::path(flag);
  if (const char* env = std::getenv("PROOFGATE_CONFIG"); env && *env)
    return std::filesystem::path(env);
  return std::nullopt;
}

std::uint64_t setting_uint(const RawSettings& s, const std::string& name, std::uint64_t min,
                           std::uint64_t max) {
  const std::string& v = s.at(name);
  std::uint64_t x = 0;
  if (v.empty() || v.size() > 19) throw std::runtime_error(name + ": must be an integer");
  for (const char c : v) {
    if (c < '0' || c > '9')
      throw std::runtime_error(name + ": must be a non-negative integer, got '" + v + "'");
    x = x * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (x < min || x > max) {
    throw std::runtime_error(name + ": must be between " + std::to_string(min) + " and " +
                             std::to_string(max));
  }
  return x;
}

double setting_double(const RawSettings& s, const std::string& name, double min, double max) {
  const std::string& v = s.at(name);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !(x >= min && x <= max)) {
    throw std::runtime_error(name + ": must be a number between " + std::to_string(min) + " and " +
                             std::to_string(max));
  }
  return x;
}

bool setting_bool(const RawSettings& s, const std::string& name) {
  const std::string& v = s.at(name);
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0" || v.empty()) return false;
  throw std::runtime_error(name + ": must be true or false, got '" + v + "'");
}

}  // namespace pg::cli
