// The publisher's chain port over JSON-RPC.
#include "chain/rpc_chain_port.hpp"

namespace pg::chain {

Result<std::unique_ptr<RpcChainPort>> RpcChainPort::open(const std::string& rpc_url,
                                                         const std::string& key_file,
                                                         std::chrono::milliseconds timeout,
                                                         std::uint64_t max_fee_per_gas) {
  auto key = PrivateKey::from_file(key_file);
  if (!key) return Error{"--key-file", key.error().to_string()};
  RpcSettings settings;
  settings.timeout = timeout;
  auto rpc = RpcClient::open(rpc_url, settings);
  if (!rpc) return Error{"--rpc-url", rpc.error().message};
  auto id = rpc->chain_id();
  if (!id) return Error{"--rpc-url", id.error().to_string()};
  return std::unique_ptr<RpcChainPort>(
      new RpcChainPort(std::move(*rpc), std::move(*key), *id, timeout, max_fee_per_gas));
}

Result<Bytes> RpcChainPort::call(const Address& to, const Bytes& data) {
  CallRequest req;
  req.from = key_.address();
  req.to = to;
  req.data = data;
  return rpc_.call(req);
}

Result<Hash32> RpcChainPort::transact(const Address& to, const Bytes& data) {
  Send send;
  send.to = to;
  send.data = data;
  send.label = "transaction to " + to.to_checksum();
  send.max_fee_per_gas_cap = max_fee_;
  auto receipt = send_and_wait(rpc_, key_, chain_id_, send, timeout_, nonces_);
  if (!receipt) return receipt.error();
  return receipt->transaction_hash;
}

Result<std::size_t> RpcChainPort::count_logs(const Address& emitter,
                                             const std::vector<Hash32>& topics,
                                             std::uint64_t from_block) {
  LogFilter filter;
  filter.address = emitter;
  for (const Hash32& t : topics) filter.topics.emplace_back(t);
  filter.from_block = from_block;
  auto logs = rpc_.logs(filter);
  if (!logs) return logs.error();
  return logs->size();
}

}  // namespace pg::chain
