// The HTTP edge without the service: the failed-authentication throttle, the closed metric label
// sets, and the server's bounded pool queue with a handler the test holds on the pool.
#include "http/server.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace pg::http {
namespace {

using namespace std::chrono_literals;
using Clock = AuthThrottle::Clock;

TEST(AuthThrottle, AllowsABurstThenAsksToWaitUntilATokenRefills) {
  AuthThrottle t(6);  // 6 per minute: one token every 10 s
  const auto t0 = Clock::now();
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(t.retry_after("192.0.2.1", t0), 0u) << i;
    t.record_failure("192.0.2.1", t0);
  }
  EXPECT_EQ(t.retry_after("192.0.2.1", t0), 10u);
  EXPECT_EQ(t.retry_after("192.0.2.1", t0 + 4s), 6u);
  EXPECT_EQ(t.retry_after("192.0.2.1", t0 + 10s), 0u);
  EXPECT_EQ(t.retry_after("192.0.2.2", t0), 0u) << "another address has its own bucket";
}

TEST(AuthThrottle, ZeroPerMinuteIsOff) {
  AuthThrottle t(0);
  const auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) t.record_failure("192.0.2.1", t0);
  EXPECT_EQ(t.retry_after("192.0.2.1", t0), 0u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(AuthThrottle, TheTableIsBoundedAndKeepsThrottledAddressesOverRefilledOnes) {
  AuthThrottle t(2, 4);  // 2 per minute: one token every 30 s
  const auto t0 = Clock::now();
  t.record_failure("198.51.100.1", t0);
  t.record_failure("198.51.100.1", t0);  // empty: throttled until t0 + 30 s
  for (const char* a : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) t.record_failure(a, t0);
  EXPECT_EQ(t.size(), 4u);
  // At t0 + 30 s the three one-failure buckets are full again; the throttled one holds 1 token.
  for (const char* a : {"203.0.113.1", "203.0.113.2", "203.0.113.3"}) t.record_failure(a, t0 + 30s);
  EXPECT_EQ(t.size(), 4u);
  t.record_failure("198.51.100.1", t0 + 30s);  // were it forgotten, this would leave 1 token
  EXPECT_EQ(t.retry_after("198.51.100.1", t0 + 30s), 30u);
  // Many new addresses at once: the least recently touched go, the table stays bounded.
  for (int i = 0; i < 1000; ++i) t.record_failure("10.0.0." + std::to_string(i % 250), t0 + 31s);
  EXPECT_EQ(t.size(), 4u);
}

TEST(AuthThrottle, KeysAnIpv6PeerByItsSlash64) {
  EXPECT_EQ(throttle_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(throttle_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(throttle_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(throttle_key("2001:db8:1:2::1"), throttle_key("2001:db8:1:2:ffff::9"));
}

TEST(MetricsLabels, ClientChosenValuesFallIntoClosedSets) {
  EXPECT_EQ(method_label("GET"), "GET");
  EXPECT_EQ(method_label("PATCH"), "PATCH");
  EXPECT_EQ(method_label("get"), "other");
  EXPECT_EQ(method_label("X-ANYTHING"), "other");
  EXPECT_EQ(route_label("/api/v1/status/{proof_id}"), "/api/v1/status/{proof_id}");
  EXPECT_EQ(route_label("/api/v1/status/abc"), "unmatched");
  EXPECT_EQ(claim_type_label("age_over_18"), "age_over_18");
  EXPECT_EQ(claim_type_label("age_over_18\"} 1\nfake"), "other");
  EXPECT_EQ(outcome_label("verified"), "verified");
  EXPECT_EQ(outcome_label("NONCE_REPLAY"), "NONCE_REPLAY");
  EXPECT_EQ(outcome_label("nonce_replay"), "other");
}

TEST(MetricsLabels, ManyDistinctClientValuesDoNotGrowTheExposition) {
  Metrics m;
  core::ServiceCounters counters;
  m.observe_request("unmatched", "M0", 405, 0.001);
  m.observe_verify("c0", "INVALID_REQUEST");
  const std::string one = m.render(counters);
  for (int i = 1; i < 5000; ++i) {
    const std::string v = std::to_string(i);
    m.observe_request("/x/" + v, "M" + v, 405, 0.001);
    m.observe_verify("c" + v, "INVALID_REQUEST");
  }
  const std::string text = m.render(counters);
  const auto lines = [](const std::string& t) { return std::count(t.begin(), t.end(), '\n'); };
  EXPECT_EQ(lines(text), lines(one)) << text;
  EXPECT_EQ(text.find("M1"), std::string::npos);
  EXPECT_EQ(text.find("/x/"), std::string::npos);
  EXPECT_EQ(text.find("c1"), std::string::npos);
  EXPECT_NE(
      text.find(
          R"(proofgate_http_requests_total{route="unmatched",method="other",status="405"} 5000)"),
      std::string::npos);
  EXPECT_NE(
      text.find(R"(proofgate_verify_total{claim_type="other",outcome="INVALID_REQUEST"} 5000)"),
      std::string::npos);
}

/// A server on a free port with a handler whose "/slow" requests wait on the pool until released.
class HeldServer {
 public:
  explicit HeldServer(ServerSettings settings) {
    settings.host = "127.0.0.1";
    settings.port = 0;
    Handler handler{[this](const HttpRequest& r) {
                      HttpReply reply;
                      reply.route = "/healthz";
                      if (r.target == "/slow") {
                        std::unique_lock lock(mu_);
                        ++entered_;
                        cv_.notify_all();
                        cv_.wait(lock, [this] { return released_; });
                      }
                      if (r.target.starts_with("/api/v1/account/sign-in/verify")) {
                        reply.status = 401;
                        reply.error_code = "WRONG_CODE";
                        reply.content_type = "application/problem+json";
                        reply.body = R"({"error_code":"WRONG_CODE"})";
                        return reply;
                      }
                      reply.body = r.target == "/peer" ? std::string(r.peer_address)
                                                       : std::string(R"({"status":"ok"})");
                      return reply;
                    },
                    [](std::string_view, std::string_view target) { return target == "/slow"; },
                    // Uploads: "Bearer good" is admitted; anything else refused before the body.
                    [this](const HttpRequest& r) -> std::optional<HttpReply> {
                      ++admissions_;
                      if (r.authorization == "Bearer good") return std::nullopt;
                      HttpReply refused;
                      refused.status = 401;
                      refused.error_code = "UNAUTHORIZED";
                      refused.content_type = "application/problem+json";
                      refused.body = R"({"error_code":"UNAUTHORIZED"})";
                      return refused;
                    }};
    std::promise<unsigned short> port;
    thread_ = std::thread([this, settings, handler, &port] {
      run_server(settings, handler, metrics, stopping_, [&port](const std::string& address) {
        port.set_value(
            static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1))));
      });
    });
    port_ = port.get_future().get();
  }
  ~HeldServer() {
    release();
    ::kill(::getpid(), SIGTERM);  // the server's signal_set takes it and shuts down
    thread_.join();
  }
  unsigned short port() const { return port_; }
  void wait_entered(int n) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 20s, [&] { return entered_ >= n; }));
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  Metrics metrics;
  std::atomic<int> admissions_{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool released_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  unsigned short port_ = 0;
};

/// Sends `target` with Connection: close (from the loopback address `from`) and returns everything
/// the server sends back.
std::string get(unsigned short port, const std::string& target, const char* from = "127.0.0.1",
                const std::string& method = "GET") {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.open(boost::asio::ip::tcp::v4());
  s.bind({boost::asio::ip::make_address(from), 0});
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const std::string req = method + " " + target +
                          " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  std::string out;
  boost::system::error_code ec;
  boost::asio::read(s, boost::asio::dynamic_buffer(out), ec);
  return out;
}

TEST(Server, MetricsRenderOnTheWorkerPool) {
  // Rendering locks the metrics and reads the outbox: on the I/O thread it froze every connection.
  EXPECT_TRUE(Api::needs_pool("GET", "/metrics"));
  EXPECT_FALSE(Api::needs_pool("GET", "/healthz"));
  // /readyz answers from the readiness probe's last result on the I/O thread, so an instance
  // whose pool is full still answers its balancer (the next test: such routes are answered).
  EXPECT_FALSE(Api::needs_pool("GET", "/readyz"));
}

TEST(Server, HandlersSeeThePeersAddressForPerAddressLimits) {
  // The issuer node's holder routes rate-limit by it: left empty, every holder shared one bucket.
  HeldServer server(ServerSettings{});
  for (const char* from : {"127.0.0.2", "127.0.0.3"}) {
    const std::string answer = get(server.port(), "/peer", from);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 ")) << answer;
    EXPECT_TRUE(answer.ends_with(std::string("\r\n\r\n") + from)) << answer;
  }
}

TEST(Server, WrongSignInCodesCountInTheAddressThrottle) {
  // Guessing codes over many numbers from one address: each WRONG_CODE answer is a failure.
  ServerSettings settings;
  settings.auth_failures_per_minute = 3;
  HeldServer server(settings);
  const std::string verify = "/api/v1/account/sign-in/verify";
  for (int i = 0; i < 3; ++i) {
    const std::string answer = get(server.port(), verify, "127.0.0.4", "POST");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 401 ")) << answer;
  }
  const std::string throttled = get(server.port(), verify, "127.0.0.4", "POST");
  EXPECT_TRUE(throttled.starts_with("HTTP/1.1 429 ")) << throttled;
  EXPECT_NE(throttled.find("too many failed authentications"), std::string::npos) << throttled;
  // Another address is not affected.
  EXPECT_TRUE(get(server.port(), verify, "127.0.0.5", "POST").starts_with("HTTP/1.1 401 "));
}

TEST(Server, AFullPoolQueueIsAnswered503WithRetryAfterFromTheIoThread) {
  ServerSettings settings;
  settings.workers = 1;
  settings.pool_queue_limit = 1;
  HeldServer server(settings);
  auto first = std::async(std::launch::async, [&] { return get(server.port(), "/slow"); });
  server.wait_entered(1);  // the only worker is held
  auto second = std::async(std::launch::async, [&] { return get(server.port(), "/slow"); });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (server.metrics.pool_queue_depth.load() < 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the second request never queued";
    std::this_thread::yield();
  }
  const std::string shed = get(server.port(), "/slow");
  EXPECT_TRUE(shed.starts_with("HTTP/1.1 503 ")) << shed;
  EXPECT_NE(shed.find("Retry-After: 1\r\n"), std::string::npos) << shed;
  EXPECT_NE(shed.find(R"("error_code":"NOT_READY")"), std::string::npos) << shed;
  EXPECT_EQ(server.metrics.requests_shed.load(), 1u);
  // Requests that need no worker are still answered on the I/O thread.
  EXPECT_TRUE(get(server.port(), "/fast").starts_with("HTTP/1.1 200 "));
  server.release();
  EXPECT_TRUE(first.get().starts_with("HTTP/1.1 200 "));
  EXPECT_TRUE(second.get().starts_with("HTTP/1.1 200 "));
}

/// POST /api/admin/circuits with `headers` and a Content-Length of `length`; sends the body (of
/// 'x') only when `send_body`. Returns everything the server answers.
std::string post_upload(unsigned short port, const std::string& headers, std::size_t length,
                        bool send_body) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string req = "POST /api/admin/circuits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  req += headers;
  req += "Content-Length: " + std::to_string(length) + "\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  if (send_body) boost::asio::write(s, boost::asio::buffer(std::string(length, 'x')));
  std::string out;
  boost::system::error_code ec;
  boost::asio::read(s, boost::asio::dynamic_buffer(out), ec);
  return out;
}

TEST(Server, AnUploadGetsItsLargerLimitOnlyOnceTheHandlerAdmitsItsCredential) {
  ServerSettings settings;
  settings.body_limit = 64 * 1024;
  settings.upload_body_limit = 1 << 20;
  HeldServer server(settings);
  // Refused from the header alone: nothing of the (never sent) body is waited for.
  const std::string wrong =
      post_upload(server.port(), "Authorization: Bearer bad\r\n", 900000, false);
  EXPECT_TRUE(wrong.starts_with("HTTP/1.1 401 ")) << wrong;
  EXPECT_EQ(server.admissions_.load(), 1);
  // Without a credential the handler is not asked, and body_limit holds.
  const std::string anonymous = post_upload(server.port(), "", 900000, false);
  EXPECT_TRUE(anonymous.starts_with("HTTP/1.1 413 ")) << anonymous;
  EXPECT_EQ(server.admissions_.load(), 1);
  // A body within body_limit is read first whatever the credential (the handler answers).
  const std::string small = post_upload(server.port(), "Authorization: Bearer bad\r\n", 100, true);
  EXPECT_TRUE(small.starts_with("HTTP/1.1 200 ")) << small;
  EXPECT_EQ(server.admissions_.load(), 1);
  // Admitted: a body above body_limit is read and handled; above upload_body_limit it is not.
  const std::string admitted =
      post_upload(server.port(), "Authorization: Bearer good\r\n", 300000, true);
  EXPECT_TRUE(admitted.starts_with("HTTP/1.1 200 ")) << admitted;
  const std::string too_big =
      post_upload(server.port(), "Authorization: Bearer good\r\n", (1 << 20) + 1, false);
  EXPECT_TRUE(too_big.starts_with("HTTP/1.1 413 ")) << too_big;
}

TEST(Server, AdmittedUploadsInFlightAreCappedAndTheSlotIsFreedByTheAnswer) {
  ServerSettings settings;
  settings.max_uploads = 1;
  HeldServer server(settings);
  // An admitted upload (above body_limit) whose body has not arrived holds the only slot.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket held(ioc);
  held.connect({boost::asio::ip::make_address("127.0.0.1"), server.port()});
  const std::string head =
      "POST /api/admin/circuits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n"
      "Connection: close\r\nContent-Length: 70000\r\n\r\n";
  boost::asio::write(held, boost::asio::buffer(head));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (server.admissions_.load() < 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the first upload was never admitted";
    std::this_thread::yield();
  }
  std::string busy;
  while (!busy.starts_with("HTTP/1.1 503 ")) {  // the slot is taken once the admission returns
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << busy;
    busy = post_upload(server.port(), "Authorization: Bearer good\r\n", 70000, false);
  }
  EXPECT_NE(busy.find("Retry-After: 5\r\n"), std::string::npos) << busy;
  // The held upload completes; its answer frees the slot.
  boost::asio::write(held, boost::asio::buffer(std::string(70000, 'x')));
  std::string out;
  boost::system::error_code ec;
  boost::asio::read(held, boost::asio::dynamic_buffer(out), ec);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 ")) << out;
  EXPECT_TRUE(post_upload(server.port(), "Authorization: Bearer good\r\n", 70000, true)
                  .starts_with("HTTP/1.1 200 "));
}

}  // namespace
}  // namespace pg::http
