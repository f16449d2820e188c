// The call a partner's contract (or wallet) makes to a deployed Groth16 verifier:
// verifyProof(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[N] pubSignals), ABI-encoded in
// snarkjs's layout (zkey exportsoliditycalldata): B's Fp2 coordinates as [c1, c0].
#pragma once

#include <array>
#include <string>
#include <vector>

#include "crypto/groth16.hpp"

namespace pg::chain {

struct VerifierCall {
  std::string function;  // "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])"
  std::string selector;  // "0x" + 8 hex digits: the first 4 bytes of keccak256(function)
  std::string calldata;  // "0x" + selector + the arguments, 32 bytes each (all are static)
  // The arguments as canonical decimals, in calldata order.
  std::array<std::string, 2> a;
  std::array<std::array<std::string, 2>, 2> b;
  std::array<std::string, 2> c;
  std::vector<std::string> pub_signals;
};

/// The verifyProof call for an (already decoded and checked) proof and its public signals.
VerifierCall encode_verify_call(const crypto::Proof& proof, const std::vector<crypto::Fr>& publics);

}  // namespace pg::chain
