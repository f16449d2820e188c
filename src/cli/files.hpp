// Reading the input files named on the command line, with errors that name the file.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace pg::cli {

/// The whole file, or nullopt (and `error` set) when it cannot be read, is not a regular file or
/// a pipe, or holds more than `max_bytes` (read in chunks, so /dev/zero is refused, not slurped).
inline std::optional<std::string> read_file(const std::string& path, std::string& error,
                                            std::size_t max_bytes = 16u << 20) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "cannot read " + path + ": it is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::string data;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    data.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      error = path + " is larger than " + std::to_string(max_bytes) + " bytes";
      return std::nullopt;
    }
  }
  if (in.bad()) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  return data;
}

}  // namespace pg::cli
