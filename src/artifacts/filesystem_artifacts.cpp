// Reading circuit artifacts from a directory (see filesystem_artifacts.hpp).
#include "artifacts/filesystem_artifacts.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace pg::artifacts {

namespace fs = std::filesystem;

namespace {
/// A path segment that stays inside its directory: no separators, not "." or "..", not empty.
bool is_segment(std::string_view s) noexcept {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> FilesystemArtifacts::versions() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& claim : fs::directory_iterator(dir_)) {
    const std::string name = claim.path().filename().string();
    if (!claim.is_directory() || name.starts_with("_")) continue;
    for (const auto& version : fs::directory_iterator(claim.path())) {
      if (version.is_directory() && fs::exists(version.path() / "manifest.json")) {
        out.emplace_back(name, version.path().filename().string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> FilesystemArtifacts::read(std::string_view claim_type,
                                                     std::string_view version,
                                                     std::string_view file,
                                                     std::size_t limit) const {
  if (!is_segment(claim_type) || !is_segment(version) || !is_segment(file)) return std::nullopt;
  const fs::path p = dir_ / std::string(claim_type) / std::string(version) / std::string(file);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  const auto size = fs::file_size(p, ec);
  if (ec) throw core::ArtifactError(p.string() + ": " + ec.message());
  if (size > limit) {
    throw core::ArtifactError(p.string() + ": larger than " + std::to_string(limit) + " bytes");
  }
  std::ifstream in(p, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw core::ArtifactError(p.string() + ": cannot read");
  return text;
}

std::string FilesystemArtifacts::describe(std::string_view claim_type, std::string_view version,
                                          std::string_view file) const {
  return (dir_ / std::string(claim_type) / std::string(version) / std::string(file)).string();
}

}  // namespace pg::artifacts
