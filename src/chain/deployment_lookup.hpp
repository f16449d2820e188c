// The verifier a deployment file lists for one circuit version ("mode":"onchain", chain_check).
#pragma once

#include <string_view>

#include "chain/deployment.hpp"

namespace pg::chain {

/// The verifier deployed for `claim_type` `version`, or null.
inline const DeployedVerifier* find_verifier(const Deployment& d, std::string_view claim_type,
                                             std::string_view version) noexcept {
  for (const auto& v : d.verifiers) {
    if (v.claim_type == claim_type && v.version == version) return &v;
  }
  return nullptr;
}

}  // namespace pg::chain
