// The publisher's chain port over a node's JSON-RPC (chain/rpc.hpp): reads by eth_call, and
// EIP-1559 transactions signed with the owner's key file and waited for.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "chain/root_publisher.hpp"
#include "chain/rpc.hpp"
#include "chain/signer.hpp"

namespace pg::chain {

class RpcChainPort final : public ChainPort {
 public:
  /// Opens the node (and reads its chain id) and loads the key (mode 0600 or stricter); errors
  /// name the flag (--rpc-url, --key-file) and never the key.
  static Result<std::unique_ptr<RpcChainPort>> open(const std::string& rpc_url,
                                                    const std::string& key_file,
                                                    std::chrono::milliseconds timeout,
                                                    std::uint64_t max_fee_per_gas);

  Address sender() const override { return key_.address(); }
  std::uint64_t chain_id() const override { return chain_id_; }
  Result<Bytes> call(const Address& to, const Bytes& data) override;
  Result<Hash32> transact(const Address& to, const Bytes& data) override;
  Result<std::size_t> count_logs(const Address& emitter, const std::vector<Hash32>& topics,
                                 std::uint64_t from_block) override;

 private:
  RpcChainPort(RpcClient rpc, PrivateKey key, std::uint64_t chain_id,
               std::chrono::milliseconds timeout, std::uint64_t max_fee_per_gas)
      : rpc_(std::move(rpc)),
        key_(std::move(key)),
        chain_id_(chain_id),
        timeout_(timeout),
        max_fee_(max_fee_per_gas) {}

  RpcClient rpc_;
  PrivateKey key_;
  std::uint64_t chain_id_;
  std::chrono::milliseconds timeout_;
  std::uint64_t max_fee_;  // wei per gas, fee cap and tip (--max-fee-gwei)
  NonceCounter nonces_;    // read once per run, then counted
};

}  // namespace pg::chain
