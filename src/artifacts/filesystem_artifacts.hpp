// The artifacts port on a directory: <dir>/<claim_type>/<version>/{manifest.json, ...}, as
// scripts/build-circuits.mjs writes it. Directories whose names start with '_' are build caches.
#pragma once

#include <filesystem>

#include "core/artifacts.hpp"

namespace pg::artifacts {

class FilesystemArtifacts final : public core::ArtifactSource {
 public:
  /// A missing `dir` lists no versions.
  explicit FilesystemArtifacts(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::vector<std::pair<std::string, std::string>> versions() const override;
  std::optional<std::string> read(std::string_view claim_type, std::string_view version,
                                  std::string_view file, std::size_t limit) const override;
  std::string describe(std::string_view claim_type, std::string_view version,
                       std::string_view file) const override;

  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace pg::artifacts
