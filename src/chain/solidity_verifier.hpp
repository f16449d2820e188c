// The Solidity Groth16 verifier generator: from a snarkjs verification_key.json, a contract that
// checks a proof for that key with one pairing-precompile call, the key's points and their
// negations as literals, every public input checked < r and every proof coordinate checked < p.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.hpp"

namespace pg::chain {

/// The contract name used when none is given.
inline constexpr std::string_view kDefaultVerifierName = "Groth16Verifier";

/// True for a name usable as a Solidity contract name: [A-Za-z_][A-Za-z0-9_]*, at most 64
/// characters, and not a Solidity keyword, reserved word or elementary type name.
bool is_solidity_identifier(std::string_view name) noexcept;

/// A public input whose values are usually below 2^bits: the contract adds precomputed multiples
/// of its IC point with ecAdd (one call per nonzero 4-bit digit, about 300 gas each) instead of one
/// ecMul (6,000 gas); a value >= 2^bits takes the ecMul path. Correct for every value either way.
struct SmallInput {
  std::size_t index = 0;  ///< position in pubSignals, from 0
  unsigned bits = 0;      ///< 1..kMaxSmallInputBits
};

/// The widest table: 12 windows cost at most about 5,500 gas (12 ecAdds and their lookups), under
/// the 6,350 of an ecMul and its ecAdd; wider tables could cost more than the ecMul they replace.
inline constexpr unsigned kMaxSmallInputBits = 48;

/// EIP-170's limit on a contract's runtime code, in bytes.
inline constexpr std::size_t kMaxCodeSize = 24576;

/// An upper bound on the runtime code of the contract for `public_inputs` inputs with these small
/// inputs (solc 0.8, optimizer on, 200 runs): 1,300 + 130 per input + 40 per small input + 92
/// per table point. Measured sizes are 2–4 % below it (income_gte: 22,414 bytes, bound 23,122).
std::size_t estimated_code_size(std::size_t public_inputs,
                                std::span<const SmallInput> small_inputs) noexcept;

/// The small inputs of the project's circuits by public signal name (the widths their circuits
/// range-check, circuits/lib/credential.circom), in this order of preference: today (DATE_BITS,
/// 25: dates to 3355-12-31), min_level (LEVEL_BITS, 8), fiscal_year (a Bikram Sambat year, 12),
/// threshold (24 of its 64 bits: NPR 16,777,215; a larger threshold takes the ecMul path). An
/// input whose table would take the contract's estimated code over kMaxCodeSize is left out (it
/// uses ecMul), so the result always fits. Other names get no table.
std::vector<SmallInput> small_inputs_for(std::span<const std::string> public_signal_names);

struct VerifierOptions {
  std::string contract_name{kDefaultVerifierName};
  /// The SPDX licence identifier written in the first line ([A-Za-z0-9.+-]+).
  std::string spdx_license = "UNLICENSED";
  /// Inputs summed from tables (distinct indexes below the key's input count; the contract's
  /// estimated_code_size within kMaxCodeSize); the others use ecMul.
  std::vector<SmallInput> small_inputs;
};

/// The contract's Solidity source for the verification key `vkey_json` (the file's bytes; its
/// SHA-256 is written in a comment). The key gets the checks of the native verifier
/// (snarkjs::load_verifying_key: points on their curves and in their subgroups, no insecure key),
/// and must have at least one public input (the ABI has a pubSignals array). Refusals name the
/// field: "vkey.<field>", "name", "license" or "small_inputs". Deterministic: the same inputs give
/// the same bytes.
crypto::Result<std::string> solidity_verifier(std::string_view vkey_json,
                                              const VerifierOptions& options);

}  // namespace pg::chain
