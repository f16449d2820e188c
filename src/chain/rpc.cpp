// JSON-RPC 2.0 over net::exchange, and strict decoding of the Ethereum node's answers
// (ethereum.org/developers/docs/apis/json-rpc: quantities are "0x" + shortest hex, data is
// "0x" + an even number of hex digits).
#include "chain/rpc.hpp"

#include <algorithm>
#include <boost/asio/ssl/context.hpp>
#include <boost/json.hpp>
#include <limits>
#include <thread>

#include "chain/rpc_url.hpp"
#include "chain/transaction.hpp"
#include "net/http_exchange.hpp"
#include "webhooks/url.hpp"

namespace pg::chain {
namespace json = boost::json;

struct RpcClient::Target {
  net::Peer peer;
  std::string target;
  std::unique_ptr<boost::asio::ssl::context> tls;
};

namespace {

Error bad(std::string_view method, const std::string& message) {
  return {std::string(method), message};
}

Result<std::uint64_t> quantity(const json::value& v, std::string_view method,
                               const std::string& field) {
  const auto* s = v.if_string();
  const auto q = s ? quantity_to_u64(*s) : std::nullopt;
  if (!q) return bad(method, field + " is not a quantity below 2^64: " + json::serialize(v));
  return *q;
}

Result<Word> quantity_word(const json::value& v, std::string_view method,
                           const std::string& field) {
  const auto* s = v.if_string();
  if (s == nullptr || s->size() < 3 || s->size() > 66 || !s->starts_with("0x") ||
      (s->size() > 3 && (*s)[2] == '0')) {
    return bad(method, field + " is not a quantity below 2^256: " + json::serialize(v));
  }
  std::string digits(s->begin() + 2, s->end());
  if (digits.size() % 2 != 0) digits.insert(digits.begin(), '0');
  const auto bytes = from_hex(digits);
  if (!bytes) return bad(method, field + " is not a quantity: " + json::serialize(v));
  Word w{};
  std::copy(bytes->begin(), bytes->end(), w.end() - static_cast<std::ptrdiff_t>(bytes->size()));
  return w;
}

Result<Bytes> data(const json::value& v, std::string_view method, const std::string& field) {
  const auto* s = v.if_string();
  auto b = s && s->starts_with("0x") ? from_hex(*s) : std::nullopt;
  if (!b) return bad(method, field + " is not 0x-prefixed hex data");
  return std::move(*b);
}

Result<Hash32> hash(const json::value& v, std::string_view method, const std::string& field) {
  auto b = data(v, method, field);
  if (!b) return b.error();
  if (b->size() != 32) return bad(method, field + " is not 32 bytes");
  Hash32 h{};
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

Result<Address> address(const json::value& v, std::string_view method, const std::string& field) {
  const auto* s = v.if_string();
  if (s == nullptr) return bad(method, field + " is not an address");
  auto a = parse_address(*s, field);
  if (!a) return bad(method, a.error().to_string());
  return *a;
}

const json::value* member(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  return o ? o->if_contains(key) : nullptr;
}

Result<Log> decode_log(const json::value& v, std::string_view method, const std::string& field) {
  const json::value* addr = member(v, "address");
  const json::value* topics = member(v, "topics");
  const json::value* payload = member(v, "data");
  const json::value* block = member(v, "blockNumber");
  const json::value* tx = member(v, "transactionHash");
  if (!addr || !topics || !topics->is_array() || !payload || !block || !tx) {
    return bad(method, field + " lacks address, topics, data, blockNumber or transactionHash");
  }
  Log log;
  auto a = address(*addr, method, field + ".address");
  if (!a) return a.error();
  log.address = *a;
  for (std::size_t i = 0; i < topics->as_array().size(); ++i) {
    auto t = hash(topics->as_array()[i], method, field + ".topics[" + std::to_string(i) + "]");
    if (!t) return t.error();
    log.topics.push_back(*t);
  }
  auto d = data(*payload, method, field + ".data");
  if (!d) return d.error();
  log.data = std::move(*d);
  auto n = quantity(*block, method, field + ".blockNumber");
  if (!n) return n.error();
  log.block_number = *n;
  auto h = hash(*tx, method, field + ".transactionHash");
  if (!h) return h.error();
  log.transaction_hash = *h;
  return log;
}

json::object call_object(const CallRequest& c) {
  json::object o;
  if (c.from) o["from"] = to_hex(c.from->bytes);
  if (c.to) o["to"] = to_hex(c.to->bytes);
  o["data"] = to_hex(c.data);
  if (std::any_of(c.value.begin(), c.value.end(), [](std::uint8_t b) { return b != 0; })) {
    const auto first =
        std::find_if(c.value.begin(), c.value.end(), [](std::uint8_t b) { return b != 0; });
    std::string digits = to_hex(std::span(first, c.value.end()), false);
    if (digits[0] == '0') digits.erase(0, 1);
    o["value"] = "0x" + digits;
  }
  return o;
}

/// A node's answer to eth_call/eth_estimateGas for a revert carries the reason in `message`
/// and sometimes the raw revert data in `data`.
std::string describe_rpc_error(const json::value& e) {
  std::string out = "RPC error";
  if (const auto* code = member(e, "code"); code && code->is_int64())
    out += " " + std::to_string(code->as_int64());
  if (const auto* message = member(e, "message"); message && message->is_string()) {
    out += ": " + std::string(message->as_string());
  }
  if (const auto* d = member(e, "data"); d && d->is_string() && d->as_string().size() <= 1024) {
    out += " (data " + std::string(d->as_string()) + ")";
  }
  return out;
}

}  // namespace

RpcClient::RpcClient(std::string url, std::unique_ptr<Target> target, RpcSettings settings)
    : url_(std::move(url)), target_(std::move(target)), settings_(std::move(settings)) {}
RpcClient::RpcClient(RpcClient&& o) noexcept
    : url_(std::move(o.url_)),
      target_(std::move(o.target_)),
      settings_(std::move(o.settings_)),
      next_id_(o.next_id_.load()) {}
RpcClient& RpcClient::operator=(RpcClient&& o) noexcept {
  url_ = std::move(o.url_);
  target_ = std::move(o.target_);
  settings_ = std::move(o.settings_);
  next_id_ = o.next_id_.load();
  return *this;
}
RpcClient::~RpcClient() = default;

Result<RpcClient> RpcClient::open(std::string_view url, RpcSettings settings) {
  if (auto problem = rpc_url_problem(url)) return Error{"RPC URL", std::move(*problem)};
  auto parsed = webhooks::parse_webhook_url(url);
  if (auto* problem = std::get_if<std::string>(&parsed)) return Error{"RPC URL", *problem};
  auto& u = std::get<webhooks::WebhookUrl>(parsed);
  auto target = std::make_unique<Target>();
  target->peer = net::Peer{u.host, u.port, u.host_is_ip, u.host_header(), {}};
  target->target = u.target;
  if (u.scheme == "https") {
    auto made = net::client_tls_context(settings.ca_file);
    if (auto* problem = std::get_if<std::string>(&made)) return Error{"RPC URL", *problem};
    target->tls = std::move(std::get<std::unique_ptr<boost::asio::ssl::context>>(made));
  }
  return RpcClient(u.scheme + "://" + u.host_header(), std::move(target), std::move(settings));
}

Result<json::value> RpcClient::request(std::string_view method, json::array params) {
  const std::uint64_t id = next_id_++;
  json::object body{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  const net::Request req{
      "POST",
      target_->target,
      {{"Content-Type", "application/json"}, {"User-Agent", "proofgate-chain/1"}},
      json::serialize(body)};
  net::Limits limits;
  limits.timeout = settings_.timeout;
  limits.max_body = settings_.max_body;
  const net::Answer answer = net::exchange(target_->peer, req, target_->tls.get(), limits);
  if (!answer.answered) {
    return bad(method, net::describe(answer, target_->peer, settings_.timeout) + " (" + url_ + ")");
  }
  boost::system::error_code ec;
  json::value reply = json::parse(answer.body, ec);
  if (answer.status < 200 || answer.status > 299) {
    if (!ec && member(reply, "error"))
      return bad(method, describe_rpc_error(*member(reply, "error")));
    return bad(method, "HTTP " + std::to_string(answer.status) + " from " + url_);
  }
  if (ec || !reply.is_object()) return bad(method, "the answer is not a JSON-RPC object");
  const json::value* version = member(reply, "jsonrpc");
  const json::value* got_id = member(reply, "id");
  if (!version || *version != "2.0" || !got_id || !got_id->is_number() ||
      got_id->to_number<double>() != static_cast<double>(id)) {
    return bad(method, "the answer is not a JSON-RPC 2.0 answer to this request");
  }
  if (const json::value* e = member(reply, "error")) return bad(method, describe_rpc_error(*e));
  const json::value* result = member(reply, "result");
  if (!result) return bad(method, "the answer has neither result nor error");
  return *result;
}

Result<std::uint64_t> RpcClient::chain_id() {
  auto r = request("eth_chainId", {});
  if (!r) return r.error();
  return quantity(*r, "eth_chainId", "result");
}

Result<std::uint64_t> RpcClient::block_number() {
  auto r = request("eth_blockNumber", {});
  if (!r) return r.error();
  return quantity(*r, "eth_blockNumber", "result");
}

Result<std::uint64_t> RpcClient::transaction_count(const Address& account) {
  auto r = request("eth_getTransactionCount", {to_hex(account.bytes), "pending"});
  if (!r) return r.error();
  return quantity(*r, "eth_getTransactionCount", "result");
}

Result<Word> RpcClient::balance(const Address& account) {
  auto r = request("eth_getBalance", {to_hex(account.bytes), "latest"});
  if (!r) return r.error();
  return quantity_word(*r, "eth_getBalance", "result");
}

Result<std::uint64_t> RpcClient::estimate_gas(const CallRequest& c) {
  auto r = request("eth_estimateGas", {call_object(c)});
  if (!r) return r.error();
  return quantity(*r, "eth_estimateGas", "result");
}

Result<std::uint64_t> RpcClient::max_priority_fee_per_gas() {
  auto r = request("eth_maxPriorityFeePerGas", {});
  if (!r) return r.error();
  return quantity(*r, "eth_maxPriorityFeePerGas", "result");
}

Result<Block> RpcClient::latest_block() {
  constexpr std::string_view kMethod = "eth_getBlockByNumber";
  auto r = request(kMethod, {"latest", false});
  if (!r) return r.error();
  const json::value* number = member(*r, "number");
  const json::value* timestamp = member(*r, "timestamp");
  if (!number || !timestamp) return bad(kMethod, "result is not a block");
  Block b;
  auto n = quantity(*number, kMethod, "result.number");
  if (!n) return n.error();
  b.number = *n;
  auto t = quantity(*timestamp, kMethod, "result.timestamp");
  if (!t) return t.error();
  b.timestamp = *t;
  if (const json::value* fee = member(*r, "baseFeePerGas"); fee && !fee->is_null()) {
    auto f = quantity(*fee, kMethod, "result.baseFeePerGas");
    if (!f) return f.error();
    b.base_fee_per_gas = *f;
  }
  return b;
}

Result<Hash32> RpcClient::send_raw_transaction(const Bytes& raw) {
  auto r = request("eth_sendRawTransaction", {to_hex(raw)});
  if (!r) return r.error();
  auto h = hash(*r, "eth_sendRawTransaction", "result");
  if (!h) return h;
  if (*h != transaction_hash(raw)) {
    return bad("eth_sendRawTransaction", "the node reports hash " + to_hex(*h) +
                                             " for transaction " + to_hex(transaction_hash(raw)));
  }
  return h;
}

Result<std::optional<Receipt>> RpcClient::transaction_receipt(const Hash32& tx) {
  constexpr std::string_view kMethod = "eth_getTransactionReceipt";
  auto r = request(kMethod, {to_hex(tx)});
  if (!r) return r.error();
  if (r->is_null()) return std::optional<Receipt>{};
  const json::value* status = member(*r, "status");
  const json::value* block = member(*r, "blockNumber");
  const json::value* gas = member(*r, "gasUsed");
  const json::value* hash_value = member(*r, "transactionHash");
  const json::value* logs = member(*r, "logs");
  if (!status || !block || !gas || !hash_value || !logs || !logs->is_array()) {
    return bad(kMethod, "result lacks status, blockNumber, gasUsed, transactionHash or logs");
  }
  Receipt receipt;
  auto h = hash(*hash_value, kMethod, "result.transactionHash");
  if (!h) return h.error();
  if (*h != tx) return bad(kMethod, "the receipt is for another transaction");
  receipt.transaction_hash = *h;
  auto s = quantity(*status, kMethod, "result.status");
  if (!s) return s.error();
  if (*s > 1) return bad(kMethod, "result.status is neither 0x0 nor 0x1");
  receipt.success = *s == 1;
  auto n = quantity(*block, kMethod, "result.blockNumber");
  if (!n) return n.error();
  receipt.block_number = *n;
  auto g = quantity(*gas, kMethod, "result.gasUsed");
  if (!g) return g.error();
  receipt.gas_used = *g;
  if (const json::value* created = member(*r, "contractAddress"); created && !created->is_null()) {
    auto a = address(*created, kMethod, "result.contractAddress");
    if (!a) return a.error();
    receipt.contract_address = *a;
  }
  for (std::size_t i = 0; i < logs->as_array().size(); ++i) {
    auto log = decode_log(logs->as_array()[i], kMethod, "result.logs[" + std::to_string(i) + "]");
    if (!log) return log.error();
    receipt.logs.push_back(std::move(*log));
  }
  return std::optional<Receipt>(std::move(receipt));
}

Result<Receipt> RpcClient::wait_for_receipt(const Hash32& tx, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  auto pause = std::chrono::milliseconds(50);
  for (;;) {
    auto r = transaction_receipt(tx);
    if (!r) return r.error();
    if (r->has_value()) return std::move(**r);
    if (std::chrono::steady_clock::now() + pause > until) {
      return bad("eth_getTransactionReceipt", "transaction " + to_hex(tx) + " not mined within " +
                                                  std::to_string(deadline.count()) + " ms");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

Result<Bytes> RpcClient::call(const CallRequest& c) {
  auto r = request("eth_call", {call_object(c), "latest"});
  if (!r) return r.error();
  return data(*r, "eth_call", "result");
}

Result<Bytes> RpcClient::code(const Address& account) {
  auto r = request("eth_getCode", {to_hex(account.bytes), "latest"});
  if (!r) return r.error();
  return data(*r, "eth_getCode", "result");
}

Result<std::vector<Log>> RpcClient::logs(const LogFilter& f) {
  json::object filter;
  if (f.address) filter["address"] = to_hex(f.address->bytes);
  json::array topics;
  for (const auto& t : f.topics)
    topics.push_back(t ? json::value(to_hex(*t)) : json::value(nullptr));
  filter["topics"] = std::move(topics);
  filter["fromBlock"] = u64_to_quantity(f.from_block);
  filter["toBlock"] =
      f.to_block ? json::value(u64_to_quantity(*f.to_block)) : json::value("latest");
  auto r = request("eth_getLogs", {filter});
  if (!r) return r.error();
  if (!r->is_array()) return bad("eth_getLogs", "result is not an array");
  std::vector<Log> out;
  for (std::size_t i = 0; i < r->as_array().size(); ++i) {
    auto log = decode_log(r->as_array()[i], "eth_getLogs", "result[" + std::to_string(i) + "]");
    if (!log) return log.error();
    out.push_back(std::move(*log));
  }
  return out;
}

Result<std::uint64_t> parse_gwei(std::string_view text, std::string_view flag) {
  const auto bad_value = [&] {
    return Error{std::string(flag), "a positive number of gwei with at most 9 decimals, not \"" +
                                        std::string(text) + "\""};
  };
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if ((whole.empty() && frac.empty()) || frac.size() > 9 || whole.size() > 10) return bad_value();
  std::uint64_t wei = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9') return bad_value();
    wei = wei * 10 + static_cast<std::uint64_t>(c - '0');
  }
  std::string digits(frac);
  digits.resize(9, '0');
  for (const char c : digits) {
    if (c < '0' || c > '9') return bad_value();
    wei = wei * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (wei == 0) return bad_value();
  return wei;
}

Result<std::uint64_t> NonceCounter::next(RpcClient& rpc, const Address& account) {
  if (!next_) {
    auto pending = rpc.transaction_count(account);
    if (!pending) return pending.error();
    next_ = *pending;
  }
  return *next_;
}

void NonceCounter::used() noexcept {
  if (next_) ++*next_;
}

Result<std::uint64_t> max_fee_per_gas(std::uint64_t base_fee, std::uint64_t tip, std::uint64_t cap,
                                      std::string_view label) {
  // The node's suggestion is not trusted: the sum in checked arithmetic, then within the cap.
  std::uint64_t twice = 0;
  std::uint64_t sum = 0;
  if (__builtin_mul_overflow(base_fee, std::uint64_t{2}, &twice) ||
      __builtin_add_overflow(twice, tip, &sum)) {
    return Error{std::string(label), "the fee cap 2 x base fee " + std::to_string(base_fee) +
                                         " + tip " + std::to_string(tip) +
                                         " wei per gas does not fit in 64 bits; nothing signed"};
  }
  const auto refused = [&](const std::string& what, std::uint64_t amount) {
    return Error{std::string(label), "the node suggests " + what + " " + std::to_string(amount) +
                                         " wei per gas, above the cap of " + std::to_string(cap) +
                                         " wei (--max-fee-gwei); nothing signed"};
  };
  if (tip > cap) return refused("a priority fee (tip) of", tip);
  if (sum > cap) {
    return refused("a fee cap of 2 x base fee " + std::to_string(base_fee) + " + tip " +
                       std::to_string(tip) + " =",
                   sum);
  }
  return sum;
}

Result<Receipt> send_and_wait(RpcClient& rpc, const PrivateKey& key, std::uint64_t chain_id,
                              const Send& send, std::chrono::milliseconds wait,
                              NonceCounter& nonces) {
  const auto fail = [&](const Error& e) { return Error{send.label, e.to_string()}; };
  Eip1559Transaction tx;
  tx.chain_id = chain_id;
  tx.to = send.to;
  tx.data = send.data;
  tx.value = send.value;
  auto nonce = nonces.next(rpc, key.address());
  if (!nonce) return fail(nonce.error());
  tx.nonce = *nonce;
  if (send.gas_limit) {
    tx.gas_limit = *send.gas_limit;
  } else {
    auto gas = rpc.estimate_gas({key.address(), send.to, send.data, send.value});
    if (!gas) return fail(gas.error());
    if (*gas > std::numeric_limits<std::uint64_t>::max() - *gas / 5)
      return Error{send.label, "eth_estimateGas: " + std::to_string(*gas) +
                                   " gas leaves no room for the 20 % margin"};
    tx.gas_limit = *gas + *gas / 5;
  }
  auto block = rpc.latest_block();
  if (!block) return fail(block.error());
  if (!block->base_fee_per_gas) return Error{send.label, "the chain has no EIP-1559 base fee"};
  auto tip = rpc.max_priority_fee_per_gas();
  if (!tip) return fail(tip.error());
  auto fee_cap =
      max_fee_per_gas(*block->base_fee_per_gas, *tip, send.max_fee_per_gas_cap, send.label);
  if (!fee_cap) return fee_cap.error();
  tx.max_priority_fee_per_gas = *tip;
  tx.max_fee_per_gas = *fee_cap;
  auto sent = rpc.send_raw_transaction(tx.sign(key));
  if (!sent) return fail(sent.error());
  nonces.used();
  auto receipt = rpc.wait_for_receipt(*sent, wait);
  if (!receipt) return fail(receipt.error());
  if (!receipt->success) {
    return Error{send.label, "transaction " + to_hex(*sent) + " reverted (status 0, block " +
                                 std::to_string(receipt->block_number) + ")"};
  }
  return receipt;
}

Result<std::vector<AbiValue>> call_view(RpcClient& rpc, const Address& to,
                                        std::string_view signature,
                                        const std::vector<AbiValue>& args,
                                        std::string_view returns) {
  auto data = encode_call(signature, args);
  if (!data) return data.error();
  auto answer = rpc.call({std::nullopt, to, std::move(*data), {}});
  if (!answer) return answer.error();
  return decode(returns, *answer, std::string(signature) + " result");
}

}  // namespace pg::chain
