// The JSON-RPC client's strict decoding against a loopback server that answers one canned reply:
// malformed quantities, data, envelopes and receipts are errors naming the method, and the
// requests carry the methods and parameters the node expects.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <string>
#include <thread>

#include "chain/rpc.hpp"
#include "chain/transaction.hpp"

namespace pg::chain {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Accepts one connection, reads the request (head and Content-Length body), answers `status`
/// with `body`, and keeps the request for the test.
class OneReplyNode {
 public:
  explicit OneReplyNode(std::string body, int status = 200)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, body = std::move(body), status] {
      boost::system::error_code ec;
      tcp::socket socket = acceptor_.accept(ec);
      if (ec) return;
      asio::streambuf buffer;
      const std::size_t head_size = asio::read_until(socket, buffer, "\r\n\r\n", ec);
      std::string all(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
      const std::string head = all.substr(0, head_size);
      std::size_t length = 0;
      if (const auto at = head.find("Content-Length: "); at != std::string::npos) {
        length = std::stoul(head.substr(at + 16));
      }
      if (all.size() - head_size < length) {
        asio::read(socket, buffer, asio::transfer_exactly(length - (all.size() - head_size)), ec);
        all.assign(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
      }
      request_ = all.substr(head_size);
      const std::string answer =
          "HTTP/1.1 " + std::to_string(status) +
          " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n\r\n" + body;
      asio::write(socket, asio::buffer(answer), ec);
      socket.shutdown(tcp::socket::shutdown_send, ec);
    });
  }
  ~OneReplyNode() { thread_.join(); }

  RpcClient client() const {
    return RpcClient::open("http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()))
        .value();
  }
  /// The request body; read it after the call returned.
  const std::string& request() const { return request_; }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::string request_;
};

std::string reply(const std::string& result) {
  return R"({"jsonrpc":"2.0","id":1,"result":)" + result + "}";
}

const Address kAccount = parse_address("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "a").value();

TEST(RpcStrict, ReadsAQuantityAndSendsTheRightRequest) {
  OneReplyNode node(reply(R"("0x1a")"));
  auto rpc = node.client();
  const auto n = rpc.transaction_count(kAccount);
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(*n, 26u);
  EXPECT_NE(node.request().find(R"("method":"eth_getTransactionCount")"), std::string::npos);
  EXPECT_NE(node.request().find(R"(["0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266","pending"])"),
            std::string::npos)
      << node.request();
}

TEST(RpcStrict, RefusesMalformedQuantities) {
  for (const char* bad :
       {R"("0x07")", R"("7")", R"(7)", R"("0x")", R"("0x10000000000000000")", "null"}) {
    OneReplyNode node(reply(bad));
    auto rpc = node.client();
    const auto id = rpc.chain_id();
    ASSERT_FALSE(id) << bad;
    EXPECT_EQ(id.error().what, "eth_chainId");
    EXPECT_NE(id.error().message.find("not a quantity"), std::string::npos) << id.error().message;
  }
}

TEST(RpcStrict, RefusesABadEnvelope) {
  for (const char* bad :
       {R"({"jsonrpc":"2.0","id":2,"result":"0x1"})", R"({"id":1,"result":"0x1"})",
        R"({"jsonrpc":"2.0","id":1})", "[1]", "not json"}) {
    OneReplyNode node(bad);
    auto rpc = node.client();
    const auto id = rpc.chain_id();
    ASSERT_FALSE(id) << bad;
    EXPECT_EQ(id.error().what, "eth_chainId") << bad;
  }
}

TEST(RpcStrict, AnRpcErrorOrHttpErrorNamesTheMethod) {
  {
    OneReplyNode node(
        R"({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"nonce too low"}})");
    auto rpc = node.client();
    const auto sent = rpc.send_raw_transaction(Bytes{0x02, 0xc0});
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().what, "eth_sendRawTransaction");
    EXPECT_EQ(sent.error().message, "RPC error -32000: nonce too low");
  }
  {
    OneReplyNode node("upstream down", 502);
    auto rpc = node.client();
    const auto block = rpc.latest_block();
    ASSERT_FALSE(block);
    EXPECT_EQ(block.error().what, "eth_getBlockByNumber");
    EXPECT_NE(block.error().message.find("HTTP 502"), std::string::npos);
  }
}

TEST(RpcStrict, RefusesBadDataAndAHashThatIsNotTheTransactions) {
  {
    OneReplyNode node(reply(R"("0xabc")"));
    auto rpc = node.client();
    EXPECT_FALSE(rpc.code(kAccount));
  }
  {
    OneReplyNode node(reply(R"("abcd")"));
    auto rpc = node.client();
    EXPECT_FALSE(rpc.call({std::nullopt, kAccount, {}, {}}));
  }
  {
    OneReplyNode node(reply("\"0x" + std::string(64, '1') + "\""));
    auto rpc = node.client();
    const auto sent = rpc.send_raw_transaction(Bytes{0x02, 0xc0});
    ASSERT_FALSE(sent);
    EXPECT_NE(sent.error().message.find("reports hash"), std::string::npos);
  }
}

TEST(RpcStrict, ReadsReceiptsStrictly) {
  const Hash32 tx = keccak256("tx");
  const std::string hash = "\"" + to_hex(tx) + "\"";
  const auto receipt_with = [&](const std::string& status, const std::string& tx_hash) {
    return reply(
        R"({"status":")" + status + R"(","blockNumber":"0x5","gasUsed":"0x5208",)" +
        R"("transactionHash":)" + tx_hash +
        R"(,"contractAddress":null,"logs":[{"address":"0x5fbdb2315678afecb367f032d93f642f64180aa3",)" +
        R"("topics":[)" + hash + R"(],"data":"0x01","blockNumber":"0x5","transactionHash":)" +
        hash + "}]}");
  };
  {
    OneReplyNode node(receipt_with("0x1", hash));
    auto rpc = node.client();
    const auto r = rpc.transaction_receipt(tx);
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_TRUE(r->has_value());
    EXPECT_TRUE((*r)->success);
    EXPECT_EQ((*r)->gas_used, 21000u);
    ASSERT_EQ((*r)->logs.size(), 1u);
    EXPECT_EQ((*r)->logs[0].topics.at(0), tx);
    EXPECT_FALSE((*r)->contract_address.has_value());
  }
  {
    OneReplyNode node(reply("null"));
    auto rpc = node.client();
    const auto r = rpc.transaction_receipt(tx);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
  }
  {
    OneReplyNode node(receipt_with("0x2", hash));
    auto rpc = node.client();
    EXPECT_FALSE(rpc.transaction_receipt(tx));
  }
  {
    OneReplyNode node(receipt_with("0x1", "\"" + to_hex(keccak256("other")) + "\""));
    auto rpc = node.client();
    const auto r = rpc.transaction_receipt(tx);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("another transaction"), std::string::npos);
  }
}

}  // namespace
}  // namespace pg::chain

namespace pg::chain {
namespace {

TEST(RpcStrict, TheUrlItShowsHasNoPathOrQueryWhereProvidersPutKeys) {
  const auto rpc = RpcClient::open("https://node.example:8545/v3/SECRETKEY?token=SECRET2");
  ASSERT_TRUE(rpc) << rpc.error().to_string();
  EXPECT_EQ(rpc->url(), "https://node.example:8545");
  const auto plain = RpcClient::open("http://127.0.0.1:1/key/SECRET");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->url(), "http://127.0.0.1:1");
  // and an error names the node without the key
  RpcSettings quick;
  quick.timeout = std::chrono::milliseconds(1000);
  auto refused = RpcClient::open("http://127.0.0.1:1/key/SECRET", quick);
  ASSERT_TRUE(refused);
  const auto id = refused->chain_id();
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().to_string().find("SECRET"), std::string::npos) << id.error().to_string();
}

}  // namespace
}  // namespace pg::chain
