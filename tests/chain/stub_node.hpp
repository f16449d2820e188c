// A loopback JSON-RPC node for tests: every connection is one HTTP request, answered on its own
// thread by `answer(method, request)` with the JSON-RPC `result` or `error` member's text, so a
// test can hold one call (the handler waits) while others are answered.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pg::chain::testing {

class StubNode {
 public:
  /// What to answer: `"result":<text>` or, when `error` is set, `"error":<text>`.
  struct Reply {
    std::string json;
    bool error = false;
  };
  using Handler = std::function<Reply(const std::string& method, const boost::json::value& params)>;

  explicit StubNode(Handler answer)
      : answer_(std::move(answer)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        accepting_([this] { accept_loop(); }) {}

  ~StubNode() {
    stopping_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);  // ends the blocked accept
    accepting_.join();
    for (std::thread& t : connections_) t.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }
  /// The request bodies received so far.
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (true) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket = acceptor_.accept(ec);
      if (stopping_) return;
      if (ec) continue;
      connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(s); });
    }
  }

  void serve(boost::asio::ip::tcp::socket& socket) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    asio::streambuf buffer;
    const std::size_t head_size = asio::read_until(socket, buffer, "\r\n\r\n", ec);
    if (ec) return;
    std::string all(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    const std::string head = all.substr(0, head_size);
    std::size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      if (const auto at = head.find(name); at != std::string::npos)
        length = std::stoul(head.substr(at + 16));
    }
    if (all.size() - head_size < length) {
      asio::read(socket, buffer, asio::transfer_exactly(length - (all.size() - head_size)), ec);
      all.assign(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    }
    const std::string body = all.substr(head_size);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(body);
    }
    const boost::json::value request = boost::json::parse(body, ec);
    if (ec || !request.is_object()) return;
    const auto& o = request.as_object();
    const Reply reply = answer_(std::string(o.at("method").as_string()), o.at("params"));
    const std::string out = R"({"jsonrpc":"2.0","id":)" + boost::json::serialize(o.at("id")) +
                            (reply.error ? R"(,"error":)" : R"(,"result":)") + reply.json + "}";
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Content-Length: " +
        std::to_string(out.size()) + "\r\n\r\n" + out;
    asio::write(socket, asio::buffer(answer), ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  }

  Handler answer_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<std::thread> connections_;  // touched by the accepting thread only, then joined
  std::thread accepting_;                 // last: starts once the members above exist
};

}  // namespace pg::chain::testing
