// eth_call to a deployed verifier over the project's one outbound HTTP exchange (net/).
#include "chain/verifier_client.hpp"

#include <boost/json.hpp>

#include "chain/hex.hpp"
#include "net/http_exchange.hpp"

namespace pg::chain {

namespace json = boost::json;

namespace {
// An eth_call answer is a few hundred bytes; an error's revert data may be longer.
constexpr std::size_t kMaxAnswer = 64 * 1024;
}  // namespace

crypto::Result<bool, std::string> verdict_of_rpc_answer(std::string_view body) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::string("the node's answer is not a JSON-RPC object");
  const json::object& o = v.get_object();
  if (const json::value* error = o.if_contains("error")) {
    std::string message;
    if (error->is_object()) {
      if (const json::value* m = error->get_object().if_contains("message"); m && m->is_string())
        message = m->get_string();
    }
    // A verifier that reverts on bad input refuses the proof.
    if (message.find("revert") != std::string::npos) return false;
    return "eth_call: RPC error: " + (message.empty() ? json::serialize(*error) : message);
  }
  const json::value* result = o.if_contains("result");
  if (!result || !result->is_string()) return std::string("eth_call: the answer has no result");
  const std::string_view hex = result->get_string();
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

crypto::Result<std::uint64_t, std::string> chain_id_of_rpc_answer(std::string_view body) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::string("the node's answer is not a JSON-RPC object");
  const json::object& o = v.get_object();
  if (const json::value* error = o.if_contains("error"))
    return "eth_chainId: RPC error: " + json::serialize(*error);
  const json::value* result = o.if_contains("result");
  if (!result || !result->is_string()) return std::string("eth_chainId: the answer has no result");
  const auto id = quantity_to_u64(result->get_string());
  if (!id) return std::string("eth_chainId: the result is not a quantity");
  return *id;
}

crypto::Result<std::shared_ptr<VerifierClient>, std::string> VerifierClient::make(
    std::string_view rpc_url, std::chrono::milliseconds timeout) {
  auto parsed = webhooks::parse_webhook_url(rpc_url);
  if (auto* e = std::get_if<std::string>(&parsed)) return *e;
  std::shared_ptr<VerifierClient> client(new VerifierClient());
  client->url_ = std::get<webhooks::WebhookUrl>(parsed);
  client->timeout_ = timeout;
  if (client->url_.scheme == "https") {
    auto made = net::client_tls_context();
    if (auto* problem = std::get_if<std::string>(&made)) return *problem;
    client->tls_ = std::move(std::get<std::unique_ptr<boost::asio::ssl::context>>(made));
  }
  return client;
}

crypto::Result<VerifierClient::RpcBody, std::string> VerifierClient::rpc(std::string_view method,
                                                                         json::array params) const {
  const json::object body{
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}};
  const net::Peer peer{url_.host, url_.port, url_.host_is_ip, url_.host_header(), {}};
  const net::Request req{
      "POST",
      url_.target,
      {{"Content-Type", "application/json"}, {"User-Agent", "proofgate-chain/1"}},
      json::serialize(body)};
  net::Limits limits;
  limits.timeout = timeout_;
  limits.max_body = kMaxAnswer;
  const net::Answer answer = net::exchange(peer, req, tls_.get(), limits);
  if (!answer.answered) return std::string(method) + ": " + net::describe(answer, peer, timeout_);
  if (answer.status != 200)
    return std::string(method) + ": the node answered HTTP " + std::to_string(answer.status);
  return RpcBody{answer.body};
}

crypto::Result<bool, std::string> VerifierClient::call(std::string_view to,
                                                       std::string_view calldata) const {
  auto body = rpc("eth_call", json::array{json::object{{"to", to}, {"data", calldata}}, "latest"});
  if (!body) return body.error();
  return verdict_of_rpc_answer(body->text);
}

crypto::Result<std::uint64_t, std::string> VerifierClient::chain_id() const {
  auto body = rpc("eth_chainId", json::array{});
  if (!body) return body.error();
  return chain_id_of_rpc_answer(body->text);
}

}  // namespace pg::chain
