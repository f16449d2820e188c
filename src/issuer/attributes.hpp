// From an authority's record to the credential an issuer node appends: the attribute rules of
// docs/issuers.md ("From record to credential"), in the leaf order of docs/protocol.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/bn254.hpp"
#include "crypto/result.hpp"
#include "issuer/authority.hpp"

namespace pg::issuer {

/// What goes into a credential leaf Poseidon(issuer_id, schema_id, commitment, attributes...,
/// expiry), except the holder's commitment.
struct CredentialAttributes {
  std::uint32_t issuer_id = 0, schema_id = 0;
  std::string schema;  // "identity" | "education" | "income"
  std::vector<std::pair<std::string, std::uint64_t>> attributes;  // in the leaf's order
  std::uint64_t expiry = 0;                                       // yyyymmdd AD
};

/// The credential an issuer makes from the authority's record on Nepal date `today` (yyyymmdd AD).
/// Error: one sentence naming what is wrong with the record (or with `today`).
crypto::Result<CredentialAttributes, std::string> credential_attributes(const AuthorityRecord& r,
                                                                        std::uint32_t today);

/// The credential's leaf Poseidon(issuer_id, schema_id, holder_commitment, attributes...,
/// expiry) (docs/protocol.md); nullopt when there are more inputs than Poseidon takes.
std::optional<crypto::Fr> credential_leaf(const CredentialAttributes& credential,
                                          const crypto::Fr& holder_commitment);

}  // namespace pg::issuer
