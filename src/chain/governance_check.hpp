// What `chain deploy` (before sending anything) and `chain status` check of the governance the
// registries are handed to: an OpenZeppelin TimelockController whose proposer and canceller is the
// Safe, administered by nobody else, with at least the required delay; and a Safe of at least two
// signatures out of at least that many owners.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/rpc.hpp"

namespace pg::chain {

struct GovernanceFacts {
  std::uint64_t min_delay = 0;  // getMinDelay(), saturated at 2^64-1
  std::uint64_t threshold = 0;  // getThreshold()
  std::vector<Address> owners;  // getOwners()
};

struct GovernanceReport {
  GovernanceFacts facts;
  std::vector<std::string> problems;  // empty: the governance is as required
};

/// Reads the timelock's roles and delay and the Safe's threshold and owners. `outsiders` (the
/// deployer; the Safe's owners are added) must hold none of PROPOSER_ROLE, CANCELLER_ROLE and
/// DEFAULT_ADMIN_ROLE. A view call that fails or answers malformed data is a problem naming it.
Result<GovernanceReport> check_governance(RpcClient& rpc, const Address& safe,
                                          const Address& timelock,
                                          const std::vector<Address>& outsiders,
                                          std::uint64_t min_delay_seconds);

}  // namespace pg::chain
