// The on-chain mode's part of `proofgate serve` (docs/onchain.md): the deployment file read once
// at start, and the chain_check hook that asks the deployed verifier with eth_call.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "chain/deployment.hpp"
#include "chain/verifier_client.hpp"
#include "cli/config.hpp"
#include "core/service.hpp"

namespace pg::cli {

struct OnchainWiring {
  std::unique_ptr<chain::Deployment> deployment;  // null: chain_deployment is not set
  std::shared_ptr<chain::VerifierClient> client;  // null: chain_check is off
  /// For core::ServiceSettings::chain_check; empty when chain_check is off.
  std::function<std::optional<core::ApiError>(const core::VerifyInput&, bool)> chain_check;
};

/// Reads chain_deployment and sets up chain_check; throws std::runtime_error naming the setting.
OnchainWiring onchain_wiring(const Settings& s);

}  // namespace pg::cli
