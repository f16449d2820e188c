// Asks a deployed Groth16 verifier for its verdict with JSON-RPC eth_call (at "latest"), under a
// deadline: the server's `chain_check` (docs/onchain.md). Over the commands' RpcClient.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "chain/rpc.hpp"
#include "crypto/result.hpp"

namespace pg::chain {

class VerifierClient {
 public:
  /// A client of the node at `rpc_url` (http or https), or the reason the URL is refused.
  static crypto::Result<std::shared_ptr<VerifierClient>, std::string> make(
      std::string_view rpc_url, std::chrono::milliseconds timeout);

  /// The verifier at `to`'s answer to `calldata` (an eth_call offering 30,000,000 gas): true or
  /// false, or why there is none: the node unreachable or too slow, any RPC error (a revert
  /// included: the verifier reverts only for lack of gas), no code at `to`, an answer that is
  /// not one ABI-encoded bool. Safe from many threads.
  crypto::Result<bool, std::string> call(std::string_view to, std::string_view calldata) const;

  /// The node's eth_chainId, or why there is none (same failures as call()).
  crypto::Result<std::uint64_t, std::string> chain_id() const;

 private:
  explicit VerifierClient(RpcClient rpc) : rpc_(std::move(rpc)) {}
  mutable RpcClient rpc_;  // its requests are safe from many threads
};

/// The verdict in the outcome of an eth_call (RpcClient::request's), for tests: a result that is
/// one ABI-encoded bool; every RPC error is no verdict.
crypto::Result<bool, std::string> verdict_of_eth_call(const Result<boost::json::value>& outcome);

}  // namespace pg::chain
