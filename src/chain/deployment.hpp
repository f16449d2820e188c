// The deployment file `proofgate chain deploy` writes and the server reads (`chain_deployment`):
// the chain, the registries and one Groth16 verifier contract per (claim type, version). Parsed
// strictly: every member known, of its type, addresses EIP-55 (either case accepted).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.hpp"

namespace pg::chain {

/// `text` as a 20-byte address, "0x" + 40 hex digits with the EIP-55 mixed-case checksum, or
/// nullopt with the reason in `why`. All-lowercase and all-uppercase hex are accepted (no
/// checksum to check); mixed case must be the right checksum.
std::optional<std::string> parse_address(std::string_view text, std::string* why = nullptr);
/// The EIP-55 checksummed form of 40 lowercase hex digits (no "0x").
std::string checksum_address(std::string_view lower_hex40);

struct DeployedVerifier {
  std::string claim_type;
  std::string version;
  std::string address;  // EIP-55
  std::uint64_t public_inputs = 0;
  std::string vkey_sha256;  // hex of the verification_key.json bytes it was generated from
};

struct Deployment {
  std::uint64_t chain_id = 0;
  std::string circuit_registry, root_registry, timelock, safe;  // EIP-55
  std::uint64_t deployed_block = 0;
  std::vector<DeployedVerifier> verifiers;

  /// The verifier deployed for that version, or null.
  const DeployedVerifier* find(std::string_view claim_type, std::string_view version) const;
};

/// A deployment file's text, or one sentence naming the member at fault ("verifiers[1].address:
/// …"). Unknown members, a missing member, a duplicate (claim_type, version) are refused.
crypto::Result<Deployment, std::string> parse_deployment(std::string_view text);

}  // namespace pg::chain
