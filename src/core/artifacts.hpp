// The artifacts port: where circuit versions' files (manifest.json, verification_key.json,
// circuit.wasm, circuit.zkey) come from. The catalog reads manifests and keys through it at start;
// GET /artifacts serves files through it. src/artifacts/ holds the filesystem adapter.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pg::core {

/// A file exists but cannot be read, or is larger than the limit asked for.
class ArtifactError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ArtifactSource {
 public:
  virtual ~ArtifactSource() = default;
  /// Every (claim type, version) pair that holds a manifest.json, sorted; build caches (names
  /// starting with '_') are not versions.
  virtual std::vector<std::pair<std::string, std::string>> versions() const = 0;
  /// The bytes of `file` of that version; nullopt when there is no such file. Throws
  /// ArtifactError naming the file when it cannot be read or is larger than `limit` bytes.
  virtual std::optional<std::string> read(std::string_view claim_type, std::string_view version,
                                          std::string_view file, std::size_t limit) const = 0;
  /// Where `file` of that version lives, for messages (a path, a URL).
  virtual std::string describe(std::string_view claim_type, std::string_view version,
                               std::string_view file) const = 0;
};

/// A version's files written aside (ArtifactInstaller::stage), not yet visible to versions() or
/// read(). Destroying it without commit() removes them.
class StagedVersion {
 public:
  virtual ~StagedVersion() = default;
  /// Makes the version visible in one step. Throws ArtifactError when it cannot (the version
  /// exists already, the disk fails); the staged files are removed then too.
  virtual void commit() = 0;
};

/// Where uploaded versions are written (the filesystem adapter, like the source).
class ArtifactInstaller {
 public:
  virtual ~ArtifactInstaller() = default;
  virtual bool has_version(std::string_view claim_type, std::string_view version) const = 0;
  /// Writes `files` (file name -> bytes) aside for claim_type/version, durably. Throws
  /// ArtifactError when they cannot be written.
  virtual std::unique_ptr<StagedVersion> stage(
      std::string_view claim_type, std::string_view version,
      const std::map<std::string, std::string, std::less<>>& files) = 0;
};

}  // namespace pg::core
