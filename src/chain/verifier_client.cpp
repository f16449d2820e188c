// eth_call to a deployed verifier through RpcClient (rpc.hpp).
#include "chain/verifier_client.hpp"

#include <boost/json.hpp>

namespace pg::chain {

namespace json = boost::json;

namespace {
// An eth_call answer is a few hundred bytes; an error's revert data may be longer.
constexpr std::size_t kMaxAnswer = 64 * 1024;
// The gas the eth_call offers the verifier: a block's worth, far above a pairing check's, so a
// node's smaller default cap cannot trip the verifier's gas guard (its only revert).
constexpr std::string_view kCallGas = "0x1c9c380";  // 30,000,000
}  // namespace

crypto::Result<bool, std::string> verdict_of_eth_call(const Result<json::value>& outcome) {
  // The verifier answers false for every bad input and reverts only when given too little gas;
  // an RPC error (whatever its text says, "execution reverted" included) is no verdict.
  if (!outcome) return outcome.error().to_string();
  const json::value& result = *outcome;
  if (!result.is_string()) return std::string("eth_call: the result is not a string");
  const std::string_view hex = result.get_string();
  if (hex == "0x") return std::string("eth_call: empty result (no contract at the address?)");
  if (hex.size() != 66 || !hex.starts_with("0x"))
    return "eth_call: the result is not one 32-byte word (" + std::to_string(hex.size()) +
           " characters)";
  const std::string_view word = hex.substr(2);
  if (word.substr(0, 63).find_first_not_of('0') != std::string_view::npos ||
      (word[63] != '0' && word[63] != '1'))
    return std::string("eth_call: the result is not an ABI-encoded bool");
  return word[63] == '1';
}

crypto::Result<std::shared_ptr<VerifierClient>, std::string> VerifierClient::make(
    std::string_view rpc_url, std::chrono::milliseconds timeout) {
  RpcSettings settings;
  settings.timeout = timeout;
  settings.max_body = kMaxAnswer;
  auto rpc = RpcClient::open(rpc_url, std::move(settings));
  if (!rpc) return rpc.error().message;
  return std::shared_ptr<VerifierClient>(new VerifierClient(std::move(*rpc)));
}

crypto::Result<bool, std::string> VerifierClient::call(std::string_view to,
                                                       std::string_view calldata) const {
  return verdict_of_eth_call(rpc_.request(
      "eth_call",
      json::array{json::object{{"to", to}, {"gas", kCallGas}, {"data", calldata}}, "latest"}));
}

crypto::Result<std::uint64_t, std::string> VerifierClient::chain_id() const {
  auto id = rpc_.chain_id();
  if (!id) return id.error().to_string();
  return *id;
}

}  // namespace pg::chain
