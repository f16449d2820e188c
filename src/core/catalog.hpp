// The circuit versions the server can verify: each artifacts/<claim_type>/<version>/ directory
// with a manifest.json (the contract between circuit and server) and its verification key,
// checked against the manifest's SHA-256 and prepared once at start-up.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/groth16.hpp"

namespace pg::core {

/// The claim types and the public-signal names the server knows how to check.
inline constexpr std::string_view kClaimTypes[] = {"age_over_18", "citizenship", "education",
                                                   "income_gte"};
bool is_claim_type(std::string_view s) noexcept;
/// Semantic version MAJOR.MINOR.PATCH (digits only, no leading zeros, each at most 9 digits).
bool is_semver(std::string_view s) noexcept;

struct Circuit {
  std::string claim_type;
  std::string version;
  std::vector<std::string> public_signals;  // names, in order
  std::uint32_t issuer_id = 0;
  std::string issuer_name;
  std::filesystem::path dir;
  std::map<std::string, std::string, std::less<>> sha256;  // artifact file -> hex digest
  std::shared_ptr<const crypto::PreparedVerifyingKey> key;
  std::size_t index_of(std::string_view signal) const noexcept;  // npos when absent
};

class CircuitCatalog {
 public:
  /// Loads every `<dir>/<claim_type>/<version>/manifest.json` (directories starting with '_' are
  /// build caches and skipped). A missing `dir` gives an empty catalog. Throws std::runtime_error
  /// naming the file and the problem when a circuit is unusable: unknown claim type or signal,
  /// a version directory that differs from the manifest, a key whose SHA-256 differs from the
  /// manifest's, a key refused by the verifier, or a key whose number of publics differs.
  static CircuitCatalog load(const std::filesystem::path& dir);

  const Circuit* find(std::string_view claim_type, std::string_view version) const noexcept;
  /// The circuits of a claim type, newest version first.
  std::vector<const Circuit*> versions(std::string_view claim_type) const;
  const std::vector<std::unique_ptr<Circuit>>& all() const noexcept { return circuits_; }
  bool empty() const noexcept { return circuits_.empty(); }

 private:
  std::vector<std::unique_ptr<Circuit>> circuits_;
};

}  // namespace pg::core
