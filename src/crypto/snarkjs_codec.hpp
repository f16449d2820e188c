// Strict decoding of snarkjs's JSON formats: verification_key.json, proof.json, public.json.
// Numbers are canonical decimal strings (no sign, no leading zeros, no exponent, no JSON numbers);
// coordinates are below p and scalars below r — never reduced, unlike snarkjs, which reduces a
// coordinate >= p silently; points are on their curves and G2 points in the order-r subgroup;
// the point at infinity is accepted only in its exact snarkjs encoding and refused wherever a
// verifier must not see it. Every refusal names the field as a JSON path.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/groth16.hpp"
#include "crypto/result.hpp"

namespace pg::crypto::snarkjs {

/// Parses JSON text with the limits used for all untrusted input (depth 32, valid UTF-8).
/// `what` names the document in the error ("proof", "vkey", "public").
Result<boost::json::value> parse_json(std::string_view text, const std::string& what);

/// A field element of Fr from a canonical decimal string below r.
Result<Fr> fr_from_decimal(const boost::json::value& v, const std::string& field);

/// The verification key; points checked (curve, subgroup), key-level checks are left to
/// PreparedVerifyingKey::prepare. Fields are named "<prefix>.vk_beta_2[0][1]" and so on.
Result<VerifyingKey> verifying_key_from_json(const boost::json::value& v,
                                             const std::string& prefix);

/// The proof: pi_a, pi_b, pi_c checked (curve, subgroup, not the identity).
Result<Proof> proof_from_json(const boost::json::value& v, const std::string& prefix);

/// The public signals, each below r.
Result<std::vector<Fr>> public_signals_from_json(const boost::json::value& v,
                                                 const std::string& prefix);

/// The three documents from their text (fields prefixed "vkey", "proof", "public").
Result<VerifyingKey> decode_verifying_key(std::string_view json);
Result<Proof> decode_proof(std::string_view json);
Result<std::vector<Fr>> decode_public_signals(std::string_view json);

/// A verification key prepared from its text, with key-level refusals named "vkey.<field>".
Result<std::shared_ptr<const PreparedVerifyingKey>> load_verifying_key(std::string_view json);

/// The canonical decimal string of an element of Fr or Fp (for encoders and tests).
std::string to_decimal(const Limbs& value);

}  // namespace pg::crypto::snarkjs
