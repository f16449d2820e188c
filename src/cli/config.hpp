// Settings of `proofgate serve` from flags, the environment (PROOFGATE_*) and an optional TOML
// file, in that order of precedence, then the defaults. Only main and the commands read them.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace pg::cli {

/// Raw values by setting name (e.g. "listen", "data_dir"), before they are checked.
using RawSettings = std::map<std::string, std::string>;

/// The setting names `serve` knows, with their defaults (empty = unset).
const RawSettings& serve_defaults();

/// Resolves every known setting: `flags` (given on the command line) first, then the variable
/// PROOFGATE_<NAME in upper case>, then `toml_file` (when given; its top-level keys are the
/// setting names), then the defaults. Throws std::runtime_error naming the file, the key and the
/// problem for an unreadable or malformed file, an unknown key or a value of the wrong type.
RawSettings resolve_settings(const RawSettings& flags,
                             const std::optional<std::filesystem::path>& toml_file);

/// The TOML file to read: `flag` when given, else $PROOFGATE_CONFIG, else none.
std::optional<std::filesystem::path> config_file(const std::string& flag);

/// Typed readers: throw std::runtime_error naming the setting when the value is malformed.
std::uint64_t setting_uint(const RawSettings& s, const std::string& name, std::uint64_t min,
                           std::uint64_t max);
double setting_double(const RawSettings& s, const std::string& name, double min, double max);
bool setting_bool(const RawSettings& s, const std::string& name);

}  // namespace pg::cli
