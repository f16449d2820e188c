// The artifacts port on a directory: <dir>/<claim_type>/<version>/{manifest.json, ...}, as
// scripts/build-circuits.mjs writes it. Directories whose names start with '_' are build caches,
// those starting with '.' uploads being written (stage: <dir>/.upload-<uuid>/, fsynced, then one
// rename into place that never replaces an existing version).
#pragma once

#include <filesystem>

#include "core/artifacts.hpp"

namespace pg::artifacts {

class FilesystemArtifacts final : public core::ArtifactSource, public core::ArtifactInstaller {
 public:
  /// A missing `dir` lists no versions.
  explicit FilesystemArtifacts(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::vector<std::pair<std::string, std::string>> versions() const override;
  std::optional<std::string> read(std::string_view claim_type, std::string_view version,
                                  std::string_view file, std::size_t limit) const override;
  std::string describe(std::string_view claim_type, std::string_view version,
                       std::string_view file) const override;

  bool has_version(std::string_view claim_type, std::string_view version) const override;
  std::unique_ptr<core::StagedVersion> stage(
      std::string_view claim_type, std::string_view version,
      const std::map<std::string, std::string, std::less<>>& files) override;

  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace pg::artifacts
