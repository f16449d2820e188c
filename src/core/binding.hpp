// The request binding and the partner scope (docs/protocol.md): how a proof is tied to one proof
// request and how a holder's nullifier is made partner-specific. Computed the same way by the
// wallet (clients/wallet/src/protocol.mjs) and checked here against shared vectors.
#pragma once

#include <string_view>

#include "crypto/bn254.hpp"

namespace pg::core {

/// The values a proof request binds: what the partner's QR code carries.
struct RequestBinding {
  std::string_view nonce;            // base64url, from the server
  std::string_view verifier_domain;  // the partner's registered domain, lowercase
  std::string_view claim_type;       // age_over_18 | citizenship | education | income_gte
  std::string_view circuit_version;  // semver of the circuit, e.g. 1.0.0
};

/// A text as a field element, domain-separated by `label`: the first 31 bytes (big-endian) of
/// SHA-256("proofgate.v1." || label || 0x00 || text). Always below 2^248 < r; no reduction.
crypto::Fr field_from_text(std::string_view label, std::string_view text);

/// binding = Poseidon(tag("binding"), F("nonce", nonce), F("verifier_domain", domain),
///                    F("claim_type", claim_type), F("circuit_version", circuit_version)),
/// with F = field_from_text and tag(x) = F("tag", x).
crypto::Fr request_binding(const RequestBinding& request);

/// scope = Poseidon(tag("scope"), F("verifier_domain", verifier_domain)): the public input from
/// which a circuit derives the nullifier Poseidon(holder secret, scope) — one stable pseudonym
/// per holder per partner, unlinkable across partners.
crypto::Fr partner_scope(std::string_view verifier_domain);

}  // namespace pg::core
