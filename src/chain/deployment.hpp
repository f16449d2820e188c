// The deployment file written by `proofgate chain deploy` and read by the server
// (chain_deployment), `chain publish-roots` and `chain status` (docs/onchain.md):
// {"chain_id", "circuit_registry", "root_registry", "timelock", "safe", "deployed_block",
//  "verifiers": [{"claim_type", "version", "address", "public_inputs", "vkey_sha256"}]}.
// Addresses are EIP-55 checksummed on output and accepted in either case on input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chain/abi.hpp"
#include "chain/error.hpp"

namespace pg::chain {

struct DeployedVerifier {
  std::string claim_type;
  std::string version;
  Address address;
  std::uint64_t public_inputs = 0;
  std::string vkey_sha256;  // lowercase hex of the verification_key.json bytes
};

struct Deployment {
  std::uint64_t chain_id = 0;
  Address circuit_registry;
  Address root_registry;
  Address timelock;
  Address safe;
  std::uint64_t deployed_block = 0;  // the block of the first transaction of the deployment
  std::vector<DeployedVerifier> verifiers;
};

/// The file's text: pretty-printed JSON, a newline at the end.
std::string deployment_to_json(const Deployment& d);

/// Parses the file's text strictly: every member present with its type, addresses valid (a wrong
/// mixed-case checksum refused), chain_id positive, vkey_sha256 64 lowercase hex digits. Errors
/// name the member ("verifiers[2].address").
Result<Deployment> parse_deployment(std::string_view text);

/// `vkey_json` (the verification_key.json bytes a verifier is generated from) against
/// `vkey_sha256`, the digest checked on an earlier read and recorded in the deployment file: a
/// mismatch (the file changed in between) is refused, the error naming the claim type and
/// version, so the recorded digest always describes the bytes compiled.
Result<Ok> check_vkey_digest(std::string_view claim_type, std::string_view version,
                             std::string_view vkey_json, std::string_view vkey_sha256);

/// Reads and parses `path`; errors name the path.
Result<Deployment> read_deployment_file(const std::string& path);

/// Writes `path` atomically with mode 0644 and refuses to replace an existing file: the text
/// goes to a temporary file in the same directory, is flushed to disk, and is linked to `path`
/// (link fails when `path` exists, so two deploys cannot both win).
Result<Ok> write_deployment_file(const std::string& path, const Deployment& d);

}  // namespace pg::chain
