// Asks a deployed Groth16 verifier for its verdict with JSON-RPC eth_call (at "latest"), under a
// deadline: the server's `chain_check` (docs/onchain.md).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/json/array.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/result.hpp"
#include "webhooks/url.hpp"

namespace pg::chain {

class VerifierClient {
 public:
  /// A client of the node at `rpc_url` (http or https), or the reason the URL is refused.
  static crypto::Result<std::shared_ptr<VerifierClient>, std::string> make(
      std::string_view rpc_url, std::chrono::milliseconds timeout);

  /// The verifier at `to`'s answer to `calldata`: true or false (a revert counts as false), or
  /// why there is none: the node unreachable or too slow, an RPC error, no code at `to`, an
  /// answer that is not one ABI-encoded bool. Safe from many threads.
  crypto::Result<bool, std::string> call(std::string_view to, std::string_view calldata) const;

  /// The node's eth_chainId, or why there is none (same failures as call()).
  crypto::Result<std::uint64_t, std::string> chain_id() const;

 private:
  VerifierClient() = default;
  struct RpcBody {
    std::string text;
  };
  /// The body of the node's 200 answer to one JSON-RPC request, or why there is none.
  crypto::Result<RpcBody, std::string> rpc(std::string_view method,
                                           boost::json::array params) const;
  webhooks::WebhookUrl url_;
  std::chrono::milliseconds timeout_{0};
  std::unique_ptr<boost::asio::ssl::context> tls_;
};

/// The verdict in an eth_call JSON-RPC answer body (verifier_client.hpp's rules), for tests.
crypto::Result<bool, std::string> verdict_of_rpc_answer(std::string_view body);

/// The chain id in an eth_chainId JSON-RPC answer body, for tests.
crypto::Result<std::uint64_t, std::string> chain_id_of_rpc_answer(std::string_view body);

}  // namespace pg::chain
