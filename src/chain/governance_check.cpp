// The governance checks of chain deploy and chain status (view calls only).
#include "chain/governance_check.hpp"

#include <algorithm>

namespace pg::chain {
namespace {

Word role(std::string_view name) {
  const Hash32 h = keccak256(name);
  Word w{};
  std::copy(h.begin(), h.end(), w.begin());
  return w;
}

std::uint64_t saturated(const AbiValue& v) {
  return v.as_u64().value_or(UINT64_MAX);
}

}  // namespace

Result<GovernanceReport> check_governance(RpcClient& rpc, const Address& safe,
                                          const Address& timelock,
                                          const std::vector<Address>& outsiders,
                                          std::uint64_t min_delay_seconds) {
  GovernanceReport out;
  auto& problems = out.problems;
  const std::string tl = "timelock " + timelock.to_checksum();
  const std::string sf = "safe " + safe.to_checksum();

  if (auto delay = call_view(rpc, timelock, "getMinDelay()", {}, "(uint256)"); !delay) {
    problems.push_back(tl + ": getMinDelay(): " + delay.error().to_string());
  } else {
    out.facts.min_delay = saturated(delay->at(0));
    if (out.facts.min_delay < min_delay_seconds) {
      problems.push_back(tl + ": getMinDelay() is " + std::to_string(out.facts.min_delay) +
                         " s, below --min-delay-seconds " + std::to_string(min_delay_seconds));
    }
  }
  if (auto threshold = call_view(rpc, safe, "getThreshold()", {}, "(uint256)"); !threshold) {
    problems.push_back(sf + ": getThreshold(): " + threshold.error().to_string());
  } else {
    out.facts.threshold = saturated(threshold->at(0));
    if (out.facts.threshold < 2) {
      problems.push_back(sf + ": getThreshold() is " + std::to_string(out.facts.threshold) +
                         "; at least 2 signatures are required");
    }
  }
  if (auto owners = call_view(rpc, safe, "getOwners()", {}, "(address[])"); !owners) {
    problems.push_back(sf + ": getOwners(): " + owners.error().to_string());
  } else {
    for (const auto& o : owners->at(0).items) out.facts.owners.push_back(o.as_address());
    if (out.facts.owners.size() < out.facts.threshold) {
      problems.push_back(sf + ": " + std::to_string(out.facts.owners.size()) +
                         " owners, fewer than the threshold " +
                         std::to_string(out.facts.threshold));
    }
  }

  const auto has_role = [&](const Word& r, const Address& who,
                            const std::string& role_name) -> std::optional<bool> {
    auto answer = call_view(rpc, timelock, "hasRole(bytes32,address)",
                            {AbiValue::bytes32(r), AbiValue::address(who)}, "(bool)");
    if (!answer) {
      problems.push_back(tl + ": hasRole(" + role_name + ", " + who.to_checksum() +
                         "): " + answer.error().to_string());
      return std::nullopt;
    }
    return answer->at(0).as_bool();
  };
  const Word proposer = role("PROPOSER_ROLE");
  const Word canceller = role("CANCELLER_ROLE");
  const Word admin{};  // DEFAULT_ADMIN_ROLE = 0x00
  for (const auto& [r, name] :
       {std::pair{proposer, "PROPOSER_ROLE"}, std::pair{canceller, "CANCELLER_ROLE"}}) {
    if (auto held = has_role(r, safe, name); held && !*held)
      problems.push_back(tl + ": the safe " + safe.to_checksum() + " does not hold " + name);
  }
  std::vector<Address> others = outsiders;
  for (const auto& o : out.facts.owners) {
    if (std::find(others.begin(), others.end(), o) == others.end()) others.push_back(o);
  }
  for (const Address& who : others) {
    if (who == safe || who == timelock) continue;
    for (const auto& [r, name] :
         {std::pair{proposer, "PROPOSER_ROLE"}, std::pair{canceller, "CANCELLER_ROLE"},
          std::pair{admin, "DEFAULT_ADMIN_ROLE"}}) {
      if (auto held = has_role(r, who, name); held && *held)
        problems.push_back(tl + ": " + who.to_checksum() + " holds " + name +
                           " (only the safe may propose or cancel, and only the timelock "
                           "administer itself)");
    }
  }
  return out;
}

}  // namespace pg::chain
