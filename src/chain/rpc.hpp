// A JSON-RPC 2.0 client for an Ethereum node over net::exchange (http or https, one deadline per
// request), with strict decoding of every result, and the "sign, send, wait for the receipt" step
// the deploy and publish commands share.
#pragma once

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/abi.hpp"
#include "chain/error.hpp"
#include "chain/keccak.hpp"
#include "chain/signer.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pg::chain {

struct RpcSettings {
  std::chrono::milliseconds timeout{15000};  // each request, connect to last byte
  std::size_t max_body = 32 * 1024 * 1024;   // eth_getLogs and eth_getCode answers can be large
  std::string ca_file;                       // https: empty = the system's CAs
};

struct Log {
  Address address;
  std::vector<Hash32> topics;
  Bytes data;
  std::uint64_t block_number = 0;
  Hash32 transaction_hash{};
};

struct Receipt {
  Hash32 transaction_hash{};
  bool success = false;  // status 1
  std::uint64_t block_number = 0;
  std::uint64_t gas_used = 0;
  std::optional<Address> contract_address;
  std::vector<Log> logs;
};

struct Block {
  std::uint64_t number = 0;
  std::uint64_t timestamp = 0;
  std::optional<std::uint64_t> base_fee_per_gas;  // absent before London
};

/// The fields of eth_call and eth_estimateGas.
struct CallRequest {
  std::optional<Address> from;
  std::optional<Address> to;  // none: contract creation
  Bytes data;
  Word value{};
};

struct LogFilter {
  std::optional<Address> address;
  std::vector<std::optional<Hash32>> topics;  // position i: topic i must equal it (none: any)
  std::uint64_t from_block = 0;
  std::optional<std::uint64_t> to_block;  // none: latest
};

class RpcClient {
 public:
  /// A client for an https:// node URL, or an http:// one on a loopback host (rpc_url_problem);
  /// the error names the URL's problem.
  static Result<RpcClient> open(std::string_view url, RpcSettings settings = {});

  RpcClient(RpcClient&&) noexcept;
  RpcClient& operator=(RpcClient&&) noexcept;
  ~RpcClient();

  /// One request. A transport failure, a non-2xx answer, a malformed envelope or an RPC error
  /// come back as an Error whose `what` is the method. Safe from many threads at once.
  Result<boost::json::value> request(std::string_view method, boost::json::array params);

  Result<std::uint64_t> chain_id();
  Result<std::uint64_t> block_number();
  /// eth_getTransactionCount at "pending": the next nonce.
  Result<std::uint64_t> transaction_count(const Address& account);
  Result<Word> balance(const Address& account);
  Result<std::uint64_t> estimate_gas(const CallRequest& call);
  Result<std::uint64_t> max_priority_fee_per_gas();
  Result<Block> latest_block();
  Result<Hash32> send_raw_transaction(const Bytes& raw);
  /// nullopt while the transaction is not mined.
  Result<std::optional<Receipt>> transaction_receipt(const Hash32& hash);
  /// Polls for the receipt until `deadline` has passed.
  Result<Receipt> wait_for_receipt(const Hash32& hash, std::chrono::milliseconds deadline);
  /// eth_call at "latest"; a revert is an Error naming eth_call with the node's message.
  Result<Bytes> call(const CallRequest& call);
  Result<Bytes> code(const Address& account);
  Result<std::vector<Log>> logs(const LogFilter& filter);

  /// The node as scheme://host[:port]: never the path or query, where providers put access keys,
  /// so it can be printed and logged.
  const std::string& url() const noexcept { return url_; }

 private:
  struct Target;
  RpcClient(std::string url, std::unique_ptr<Target> target, RpcSettings settings);

  std::string url_;
  std::unique_ptr<Target> target_;
  RpcSettings settings_;
  std::atomic<std::uint64_t> next_id_{1};
};

/// What send_and_wait sends.
struct Send {
  std::optional<Address> to;  // none: contract creation
  Bytes data;
  Word value{};
  std::optional<std::uint64_t> gas_limit;  // none: eth_estimateGas + 20 %
  std::string label;  // what the transaction does, for errors ("deploy CircuitRegistry")
  /// The highest fee cap (and tip) per gas, in wei, signed: a node suggesting more is refused.
  std::uint64_t max_fee_per_gas_cap = 500'000'000'000;  // 500 gwei
};

/// The nonces one run signs with: the first read from the node (eth_getTransactionCount at
/// "pending") before the run's first transaction, each next one counted here, so a run never
/// signs a nonce again that its own transaction still waits on. The run's KeyLock keeps other runs
/// with the key from taking nonces meanwhile.
class NonceCounter {
 public:
  /// The nonce for the next transaction of `account`: read from the node the first time only.
  Result<std::uint64_t> next(RpcClient& rpc, const Address& account);
  /// The transaction signed with next()'s nonce reached the node: the one after it is next.
  void used() noexcept;

 private:
  std::optional<std::uint64_t> next_;
};

/// The fee cap per gas an EIP-1559 transaction signs: 2 * base_fee + tip, in checked 64-bit
/// arithmetic. An Error naming `label` when the sum does not fit in 64 bits (a node's absurd base
/// fee), or when the tip or the sum is above `cap` (--max-fee-gwei); nothing is signed then.
Result<std::uint64_t> max_fee_per_gas(std::uint64_t base_fee, std::uint64_t tip, std::uint64_t cap,
                                      std::string_view label);

/// eth_call of a view function at `to`, its answer decoded strictly as the tuple `returns`
/// (for example "(address,bool)"); an error names the signature.
Result<std::vector<AbiValue>> call_view(RpcClient& rpc, const Address& to,
                                        std::string_view signature,
                                        const std::vector<AbiValue>& args,
                                        std::string_view returns);

/// A --max-fee-gwei value ("500", "0.000001": at most 9 decimals) in wei; above 0 and within 64
/// bits, or an Error naming `flag`.
Result<std::uint64_t> parse_gwei(std::string_view text, std::string_view flag);

/// Builds an EIP-1559 transaction from `key` (nonce from `nonces`, tip from
/// eth_maxPriorityFeePerGas, fee cap max_fee_per_gas(base fee, tip, send.max_fee_per_gas_cap) or
/// refused before signing), signs, sends and waits up to `wait` for
/// its receipt. A reverted receipt (status 0) is an Error naming the label and the tx hash.
Result<Receipt> send_and_wait(RpcClient& rpc, const PrivateKey& key, std::uint64_t chain_id,
                              const Send& send, std::chrono::milliseconds wait,
                              NonceCounter& nonces);

}  // namespace pg::chain
