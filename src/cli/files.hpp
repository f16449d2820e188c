// Reading the input files named on the command line, with errors that name the file.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace pg::cli {

/// The whole file, or nullopt (and `error` set) when it cannot be read or exceeds `max_bytes`.
inline std::optional<std::string> read_file(const std::string& path, std::string& error,
                                            std::size_t max_bytes = 64u << 20) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  if (data.size() > max_bytes) {
    error = path + " is larger than " + std::to_string(max_bytes) + " bytes";
    return std::nullopt;
  }
  return data;
}

}  // namespace pg::cli
