// A credential's attributes as an issuer makes them from its authority's record
// (docs/issuers.md, "From record to credential").
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crypto/result.hpp"
#include "issuer/authority.hpp"

namespace pg::issuer {

struct CredentialAttributes {
  std::uint32_t issuer_id = 0, schema_id = 0;
  std::string schema;  // "identity" | "education" | "income"
  std::vector<std::pair<std::string, std::uint64_t>> attributes;  // in the leaf's order
  std::uint64_t expiry = 0;                                       // yyyymmdd AD
};

/// The credential an issuer makes from the authority's record on Nepal date `today` (yyyymmdd AD).
crypto::Result<CredentialAttributes, std::string> credential_attributes(const AuthorityRecord& r,
                                                                        std::uint32_t today);

}  // namespace pg::issuer
