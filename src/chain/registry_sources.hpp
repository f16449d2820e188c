// The registry contracts' Solidity sources (contracts/*.sol), built into the binary so that
// `proofgate chain deploy` compiles exactly the sources of its own release.
#pragma once

#include <span>
#include <string_view>

namespace pg::chain {

struct EmbeddedSource {
  std::string_view path;     // as in the repository: "contracts/CircuitRegistry.sol"
  std::string_view content;  // the file's bytes
};

/// Every contracts/*.sol of the repository, sorted by path.
std::span<const EmbeddedSource> registry_sources() noexcept;

}  // namespace pg::chain
