// The Solidity Groth16 verifier generator: from a snarkjs verification_key.json, a contract that
// checks a proof for that key with one pairing-precompile call, the key's points and their
// negations as literals, every public input checked < r and every proof coordinate checked < p.
#pragma once

#include <string>
#include <string_view>

#include "crypto/result.hpp"

namespace pg::chain {

/// The contract name used when none is given.
inline constexpr std::string_view kDefaultVerifierName = "Groth16Verifier";

/// True for a name usable as a Solidity contract name: [A-Za-z_][A-Za-z0-9_]*, at most 64
/// characters, and not a Solidity keyword, reserved word or elementary type name.
bool is_solidity_identifier(std::string_view name) noexcept;

struct VerifierOptions {
  std::string contract_name{kDefaultVerifierName};
  /// The SPDX licence identifier written in the first line ([A-Za-z0-9.+-]+).
  std::string spdx_license = "UNLICENSED";
};

/// The contract's Solidity source for the verification key `vkey_json` (the file's bytes; its
/// SHA-256 is written in a comment). The key gets the checks of the native verifier
/// (snarkjs::load_verifying_key: points on their curves and in their subgroups, no insecure key),
/// and must have at least one public input (the ABI has a pubSignals array). Refusals name the
/// field: "vkey.<field>", "name" or "license". Deterministic: the same inputs give the same bytes.
crypto::Result<std::string> solidity_verifier(std::string_view vkey_json,
                                              const VerifierOptions& options);

}  // namespace pg::chain
