// See onchain_wiring.hpp.
#include "cli/onchain_wiring.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>

#include "chain/calldata.hpp"
#include "chain/deployment_lookup.hpp"
#include "log/log.hpp"

namespace pg::cli {

namespace {
core::ApiError chain_unavailable() {
  core::ApiError e{core::ErrorCode::kChainUnavailable, "",
                   "the chain's verifier could not be asked; nothing was recorded"};
  e.retry_after_s = 5;
  return e;
}

// Whether the node is on the deployment file's chain: asked until it says so once, and again
// after any failed call (the URL may now reach another node). A verifier's address means
// nothing on another chain.
bool on_the_deployments_chain(const chain::Deployment& deployment,
                              const chain::VerifierClient& client, std::atomic<bool>& matched) {
  if (matched.load(std::memory_order_acquire)) return true;
  const auto id = client.chain_id();
  if (!id) {
    log::warn("chain_check: the node's chain id could not be asked", {{"error", id.error()}});
    return false;
  }
  if (*id != deployment.chain_id) {
    log::error("chain_check: the node is on another chain than the deployment file's",
               {{"node_chain_id", *id}, {"chain_id", deployment.chain_id}});
    return false;
  }
  matched.store(true, std::memory_order_release);
  return true;
}

std::optional<core::ApiError> ask_chain(const chain::Deployment& deployment,
                                        const chain::VerifierClient& client,
                                        std::atomic<bool>& chain_matched,
                                        const core::VerifyInput& in, bool server_accepts) {
  const chain::DeployedVerifier* v =
      chain::find_verifier(deployment, in.claim_type, in.circuit_version);
  if (!v) {  // the API refused the verify with ONCHAIN_UNAVAILABLE before it got here
    return core::ApiError{
        core::ErrorCode::kOnchainUnavailable, "mode",
        "no verifier is deployed for " + in.claim_type + " " + in.circuit_version};
  }
  if (!on_the_deployments_chain(deployment, client, chain_matched)) return chain_unavailable();
  const std::string address = v->address.to_checksum();
  const auto verdict =
      client.call(address, chain::encode_verify_call(in.proof, in.publics).calldata);
  if (!verdict) {
    log::warn("chain_check: the chain's verifier could not be asked",
              {{"claim_type", in.claim_type},
               {"circuit_version", in.circuit_version},
               {"verifier", address},
               {"error", verdict.error()}});
    chain_matched.store(false, std::memory_order_release);
    return chain_unavailable();
  }
  if (*verdict != server_accepts) {
    // An alert (docs/onchain.md): the contract and the server disagree on the same proof.
    log::error("chain_check: the chain's verifier disagrees with the server",
               {{"claim_type", in.claim_type},
                {"circuit_version", in.circuit_version},
                {"verifier", address},
                {"chain_id", deployment.chain_id},
                {"server", server_accepts ? "valid" : "invalid"},
                {"chain", *verdict ? "valid" : "invalid"}});
    return core::ApiError{core::ErrorCode::kChainDisagrees, "",
                          std::string("the deployed verifier answered ") +
                              (*verdict ? "true" : "false") +
                              " where this server found the proof " +
                              (server_accepts ? "valid" : "invalid") + "; nothing was recorded"};
  }
  return std::nullopt;
}
}  // namespace

OnchainWiring onchain_wiring(const Settings& s) {
  OnchainWiring w;
  if (!s.chain_deployment.empty()) {
    auto parsed = chain::read_deployment_file(s.chain_deployment);
    if (!parsed) throw std::runtime_error("chain_deployment: " + parsed.error().to_string());
    w.deployment = std::make_unique<chain::Deployment>(std::move(*parsed));
    log::info("on-chain verifiers loaded", {{"chain_id", w.deployment->chain_id},
                                            {"verifiers", w.deployment->verifiers.size()}});
  }
  if (s.chain_check) {
    if (!w.deployment) throw std::runtime_error("chain_check: true needs chain_deployment");
    auto client = chain::VerifierClient::make(s.chain_rpc_url,
                                              std::chrono::milliseconds(s.chain_check_timeout_ms));
    if (!client) throw std::runtime_error("chain_rpc_url: " + client.error());
    w.client = *client;
    const chain::Deployment* deployment = w.deployment.get();
    auto matched = std::make_shared<std::atomic<bool>>(false);
    w.chain_check = [deployment, client = w.client, matched](const core::VerifyInput& in,
                                                             bool server_accepts) {
      return ask_chain(*deployment, *client, *matched, in, server_accepts);
    };
  }
  return w;
}

}  // namespace pg::cli
