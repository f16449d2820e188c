// net::exchange against a plain loopback server: body limits kept or discarded, the stop flag,
// the one deadline, and the sentences describe() gives.
#include "net/http_exchange.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// Accepts one connection, reads the request head, then writes `answer` (or nothing, holding the
/// connection until the client goes away, when `answer` is empty).
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, answer = std::move(answer)] {
      boost::system::error_code ec;
      tcp::socket socket = acceptor_.accept(ec);
      if (ec) return;
      accepted_ = true;
      asio::streambuf head;
      asio::read_until(socket, head, "\r\n\r\n", ec);
      if (!answer.empty()) {
        asio::write(socket, asio::buffer(answer), ec);
        socket.shutdown(tcp::socket::shutdown_send, ec);
      }
      char sink[256];
      while (!ec) socket.read_some(asio::buffer(sink), ec);  // until the client closes
    });
  }
  ~OneShotServer() { thread_.join(); }

  bool accepted() const { return accepted_.load(); }

  pg::net::Peer peer() const {
    const auto port = acceptor_.local_endpoint().port();
    return pg::net::Peer{"127.0.0.1", port, true, "127.0.0.1:" + std::to_string(port), {}};
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

std::string answer_with_body(std::size_t size) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size) +
         "\r\nRetry-After: 7\r\n\r\n" + std::string(size, 'x');
}

TEST(HttpExchange, KeepsABodyWithinTheLimit) {
  OneShotServer server(answer_with_body(1000));
  pg::net::Limits limits;
  limits.max_body = 1000;
  const auto a = pg::net::exchange(server.peer(), {"GET", "/x", {}, ""}, nullptr, limits);
  ASSERT_TRUE(a.answered) << pg::net::describe(a, server.peer(), limits.timeout);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, std::string(1000, 'x'));
  EXPECT_EQ(a.retry_after, "7");
}

TEST(HttpExchange, AKeptBodyOverTheLimitIsNoAnswer) {
  OneShotServer server(answer_with_body(1001));
  pg::net::Limits limits;
  limits.max_body = 1000;
  const auto a = pg::net::exchange(server.peer(), {"GET", "/x", {}, ""}, nullptr, limits);
  EXPECT_FALSE(a.answered);
  EXPECT_TRUE(a.body.empty());
  EXPECT_EQ(a.stage, pg::net::Stage::kRead);
  EXPECT_EQ(pg::net::describe(a, server.peer(), limits.timeout).rfind("invalid HTTP answer", 0),
            0u);
}

TEST(HttpExchange, ADiscardedBodyOverTheLimitKeepsTheStatus) {
  OneShotServer server(answer_with_body(200000));
  pg::net::Limits limits;
  limits.max_body = 1000;
  limits.keep_body = false;
  const auto a = pg::net::exchange(server.peer(), {"POST", "/x", {}, "{}"}, nullptr, limits);
  ASSERT_TRUE(a.answered) << pg::net::describe(a, server.peer(), limits.timeout);
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(a.body.empty());
}

TEST(HttpExchange, TheDeadlineCoversTheWholeExchange) {
  OneShotServer server("");  // never answers
  pg::net::Limits limits;
  limits.timeout = 300ms;
  const auto begin = std::chrono::steady_clock::now();
  const auto a = pg::net::exchange(server.peer(), {"GET", "/x", {}, ""}, nullptr, limits);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 300ms);
  EXPECT_FALSE(a.answered);
  EXPECT_TRUE(a.timed_out);
  EXPECT_EQ(pg::net::describe(a, server.peer(), limits.timeout),
            "timeout after 300 ms (waiting for the answer)");
}

TEST(HttpExchange, TheStopFlagAbandonsTheExchange) {
  OneShotServer server("");  // never answers
  std::atomic<bool> stop{false};
  pg::net::Limits limits;
  limits.timeout = 60s;
  limits.stop = &stop;
  std::thread stopper([&] {
    // Once the exchange is connected and waiting for the answer, ask it to stop.
    while (!server.accepted()) std::this_thread::yield();
    stop = true;
  });
  const auto begin = std::chrono::steady_clock::now();
  const auto a = pg::net::exchange(server.peer(), {"GET", "/x", {}, ""}, nullptr, limits);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 30s);
  EXPECT_FALSE(a.answered);
  EXPECT_TRUE(a.stopped);
  EXPECT_EQ(pg::net::describe(a, server.peer(), limits.timeout), "stopped");
}

TEST(HttpExchange, ARefusedConnectionIsNamed) {
  pg::net::Peer peer;
  {
    OneShotServer closing("HTTP/1.1 204 No Content\r\n\r\n");
    peer = closing.peer();
    (void)pg::net::exchange(peer, {"GET", "/", {}, ""}, nullptr, {});
  }  // the port is free again
  const auto a = pg::net::exchange(peer, {"GET", "/", {}, ""}, nullptr, {});
  EXPECT_FALSE(a.answered);
  EXPECT_EQ(a.stage, pg::net::Stage::kConnect);
  EXPECT_EQ(pg::net::describe(a, peer, 5000ms), "connection refused");
}

}  // namespace
