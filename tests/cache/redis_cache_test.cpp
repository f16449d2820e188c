// RedisCache against a real redis-server (scripts/redis-test-server.sh), started once for this
// binary by a GoogleTest environment: the shared cache suite, state shared between instances,
// races, key prefixes, databases, ACL users, URL parsing, and failing closed while the server is
// killed or hangs, then recovering once it is back. Fails, never skips, without redis-server.
#include "cache/redis/redis_cache.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cache_suite.hpp"

namespace pg::cache {
namespace {

namespace fs = std::filesystem;
using test::CacheSuite;  // INSTANTIATE_TEST_SUITE_P takes the suite's bare name
using test::ms;
using test::race;
using Clock = std::chrono::steady_clock;

const std::string kScript = PROOFGATE_SOURCE_DIR "/scripts/redis-test-server.sh";

/// Runs `command` with sh; its output (stdout and stderr), trimmed. Throws with the exit status
/// and the output on failure.
std::string run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  const int status = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (status != 0) {
    throw std::runtime_error(command + ": exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ": " +
                             out);
  }
  return out;
}

bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const std::size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z' ||
         line[paren + 2] == 'X';
}

/// The redis-server of this test binary, in a directory of its own; stopped (by the script's
/// watchdog) even if this process dies.
class RedisServer {
 public:
  void start() {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("proofgate-redis-test-" + std::to_string(getpid()) + "-" + std::to_string(random()));
    const std::string url = launch("");
    const std::string prefix = "redis://127.0.0.1:";
    if (url.rfind(prefix, 0) != 0)
      throw std::runtime_error("unexpected URL from the script: " + url);
    port_ = std::stoi(url.substr(prefix.size()));
    url_ = url;
  }
  void stop() {
    if (!dir_.empty()) run("bash '" + kScript + "' stop '" + dir_.string() + "'");
    dir_.clear();
  }
  /// SIGKILL, and waits until the process is gone.
  void kill9() {
    const pid_t p = pid();
    ::kill(p, SIGKILL);
    for (int i = 0; i < 500 && !process_gone(p); ++i) std::this_thread::sleep_for(ms(10));
    if (!process_gone(p)) throw std::runtime_error("redis-server survived SIGKILL");
  }
  /// Starts the server again on the same port and directory (with no data).
  void restart() { launch(" --port " + std::to_string(port_)); }
  bool running() { return !process_gone(pid()); }
  void freeze() { ::kill(pid(), SIGSTOP); }
  void thaw() { ::kill(pid(), SIGCONT); }

  /// The server's URL; throws (failing the test) when the server did not start.
  const std::string& url() const {
    if (url_.empty()) throw std::runtime_error("redis-server is not running: " + start_error_);
    return url_;
  }
  int port() const {
    url();
    return port_;
  }
  void set_start_error(std::string e) { start_error_ = std::move(e); }

 private:
  std::string launch(const std::string& extra) {
    return run("bash '" + kScript + "' start '" + dir_.string() + "'" + extra + " --owner " +
               std::to_string(getpid()));
  }
  pid_t pid() {
    std::ifstream f(dir_ / "redis.pid");
    pid_t p = 0;
    if (!(f >> p) || p <= 0) throw std::runtime_error("no pidfile in " + dir_.string());
    return p;
  }

  fs::path dir_;
  std::string url_;
  int port_ = 0;
  std::string start_error_ = "the test environment did not start it";
};

RedisServer& server() {
  static RedisServer s;
  return s;
}

class RedisEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    try {
      server().start();
    } catch (const std::exception& e) {
      // Not fatal here, which would skip every test: each test that needs the server fails
      // with this message instead.
      server().set_start_error(e.what());
      ADD_FAILURE() << "could not start redis-server with " << kScript << ": " << e.what();
    }
  }
  void TearDown() override { server().stop(); }
};

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new RedisEnvironment);

/// Settings on the test server with a key prefix no other test uses.
RedisSettings fresh_settings() {
  static std::atomic<int> counter{0};
  RedisSettings s;
  s.url = server().url();
  s.key_prefix = "pg:test" + std::to_string(counter++) + ":";
  return s;
}

/// A direct hiredis connection, to look at what RedisCache stored.
class Raw {
 public:
  explicit Raw(int db = 0) : c_(redisConnect("127.0.0.1", server().port())) {
    if (!c_ || c_->err) throw std::runtime_error("raw connection failed");
    if (db != 0) command({"SELECT", std::to_string(db)});
  }
  ~Raw() { redisFree(c_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  /// The reply as an integer (or -1 for a nil, or the string length for a string).
  long long command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c_, static_cast<int>(args.size()), argv.data(), lens.data()));
    if (!r) throw std::runtime_error("raw command failed");
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer
                  : r->type == REDIS_REPLY_NIL   ? -1
                                                 : static_cast<long long>(r->len);
    const bool error = r->type == REDIS_REPLY_ERROR;
    const std::string text = r->str ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    if (error) throw std::runtime_error("raw command refused: " + text);
    return v;
  }

 private:
  redisContext* c_;
};

/// A loopback port nothing listens on.
int unused_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

long long millis_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// --- one suite, two backends: RedisCache here, MemoryCache in memory_cache_test.cpp ---

INSTANTIATE_TEST_SUITE_P(Redis, CacheSuite,
                         ::testing::Values(test::CacheBackendFactory{
                             "redis",
                             [] { return std::make_unique<RedisCache>(fresh_settings()); }}),
                         test::backend_name);

// --- what only a shared cache does ---

TEST(RedisCache, two_instances_share_nonces) {
  const RedisSettings s = fresh_settings();
  RedisCache a(s), b(s);
  EXPECT_TRUE(a.add("nonce:c1:n1", ms(60000)));
  EXPECT_FALSE(b.add("nonce:c1:n1", ms(60000)));
  EXPECT_FALSE(a.add("nonce:c1:n1", ms(60000)));
  b.remove("nonce:c1:n1");
  EXPECT_TRUE(a.add("nonce:c1:n1", ms(60000)));
}

TEST(RedisCache, ttl_expiry_is_seen_by_every_instance) {
  const RedisSettings s = fresh_settings();
  RedisCache a(s), b(s);
  EXPECT_TRUE(a.add("idem:c1:k", ms(150)));
  EXPECT_FALSE(b.add("idem:c1:k", ms(150)));
  std::this_thread::sleep_for(ms(250));
  EXPECT_TRUE(b.add("idem:c1:k", ms(60000)));
  EXPECT_FALSE(a.add("idem:c1:k", ms(60000)));
}

TEST(RedisCache, racing_adds_on_two_instances_succeed_exactly_once) {
  RedisSettings s = fresh_settings();
  s.pool_size = 4;  // fewer connections than threads: callers also wait for a free one
  RedisCache a(s), b(s);
  constexpr int kThreadsPerInstance = 16, kKeys = 25;
  std::atomic<int> wins[kKeys] = {};
  race(2 * kThreadsPerInstance, [&](int t) {
    RedisCache& cache = t % 2 == 0 ? a : b;
    for (int k = 0; k < kKeys; ++k) {
      if (cache.add("nonce:c1:" + std::to_string(k), ms(60000))) wins[k]++;
    }
  });
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(wins[k].load(), 1) << "key " << k;
}

TEST(RedisCache, token_bucket_is_shared_across_instances) {
  const RedisSettings s = fresh_settings();
  RedisCache a(s), b(s);
  for (int i = 0; i < 5; ++i) {
    RedisCache& cache = i % 2 == 0 ? a : b;
    EXPECT_TRUE(cache.take_token("rate:c1", 0.5, 5.0).allowed) << "token " << i;
  }
  for (RedisCache* cache : {&a, &b}) {
    const core::RateDecision d = cache->take_token("rate:c1", 0.5, 5.0);
    EXPECT_FALSE(d.allowed);
    EXPECT_GT(d.retry_after_seconds, 1.0);  // two seconds a token, less what trickled in
    EXPECT_LE(d.retry_after_seconds, 2.0);
  }
}

TEST(RedisCache, racing_takes_on_two_instances_never_exceed_the_burst) {
  const RedisSettings s = fresh_settings();
  RedisCache a(s), b(s);
  std::atomic<int> allowed{0};
  race(32, [&](int t) {
    RedisCache& cache = t % 2 == 0 ? a : b;
    for (int i = 0; i < 4; ++i) {
      if (cache.take_token("rate:c1", 0.001, 20.0).allowed) allowed++;
    }
  });
  EXPECT_EQ(allowed.load(), 20);
}

TEST(RedisCache, key_prefix_isolates_deployments) {
  RedisSettings s1 = fresh_settings(), s2 = fresh_settings();
  RedisCache a(s1), b(s2);
  EXPECT_TRUE(a.add("nonce:c1:n1", ms(60000)));
  EXPECT_TRUE(b.add("nonce:c1:n1", ms(60000)));
  EXPECT_TRUE(a.take_token("rate:c1", 0.01, 1.0).allowed);
  EXPECT_TRUE(b.take_token("rate:c1", 0.01, 1.0).allowed);
  EXPECT_FALSE(a.take_token("rate:c1", 0.01, 1.0).allowed);
}

TEST(RedisCache, keys_are_stored_under_the_prefix_with_their_ttl) {
  const RedisSettings s = fresh_settings();
  RedisCache cache(s);
  ASSERT_TRUE(cache.add("nonce:c1:n1", ms(10000)));
  Raw raw;
  const std::string key = s.key_prefix + "key:nonce:c1:n1";
  EXPECT_EQ(raw.command({"EXISTS", key}), 1);
  const long long pttl = raw.command({"PTTL", key});
  EXPECT_GT(pttl, 9000);
  EXPECT_LE(pttl, 10000);
  EXPECT_EQ(raw.command({"EXISTS", "nonce:c1:n1"}), 0);
  cache.remove("nonce:c1:n1");
  EXPECT_EQ(raw.command({"EXISTS", key}), 0);
}

TEST(RedisCache, a_ttl_below_one_millisecond_counts_as_one) {
  RedisCache cache(fresh_settings());
  EXPECT_TRUE(cache.add("k", ms(0)));
  std::this_thread::sleep_for(ms(20));
  EXPECT_TRUE(cache.add("k", ms(-5)));
}

TEST(RedisCache, a_bucket_expires_once_it_would_be_full_again) {
  const RedisSettings s = fresh_settings();
  RedisCache cache(s);
  Raw raw;
  const std::string key = s.key_prefix + "bucket:rate:c1";
  ASSERT_TRUE(cache.take_token("rate:c1", 10.0, 3.0).allowed);  // one token short: 100 ms to full
  long long pttl = raw.command({"PTTL", key});
  EXPECT_GT(pttl, 50);
  EXPECT_LE(pttl, 101);
  ASSERT_TRUE(cache.take_token("rate:c1", 10.0, 3.0).allowed);  // two short: about 200 ms
  pttl = raw.command({"PTTL", key});
  EXPECT_GT(pttl, 150);
  EXPECT_LE(pttl, 201);
  std::this_thread::sleep_for(ms(300));
  EXPECT_EQ(raw.command({"EXISTS", key}), 0);
}

TEST(RedisCache, take_token_loads_the_script_again_after_a_script_flush) {
  RedisCache cache(fresh_settings());
  EXPECT_TRUE(cache.take_token("rate:c1", 0.01, 2.0).allowed);
  Raw raw;
  raw.command({"SCRIPT", "FLUSH"});
  EXPECT_TRUE(cache.take_token("rate:c1", 0.01, 2.0).allowed);
  EXPECT_FALSE(cache.take_token("rate:c1", 0.01, 2.0).allowed);
}

TEST(RedisCache, take_token_refuses_a_rate_that_is_not_positive) {
  RedisCache cache(fresh_settings());
  EXPECT_THROW(cache.take_token("b", 0.0, 5.0), std::invalid_argument);
  EXPECT_THROW(cache.take_token("b", -1.0, 5.0), std::invalid_argument);
  EXPECT_THROW(cache.take_token("b", std::nan(""), 5.0), std::invalid_argument);
  EXPECT_THROW(cache.take_token("b", 1.0, -1.0), std::invalid_argument);
}

TEST(RedisCache, uses_the_database_named_in_the_url) {
  RedisSettings s1 = fresh_settings();
  s1.url += "/1";
  RedisSettings s2 = s1;
  s2.url = server().url() + "/2";
  RedisCache a(s1), b(s2);
  EXPECT_TRUE(a.add("nonce:c1:n1", ms(60000)));
  EXPECT_TRUE(b.add("nonce:c1:n1", ms(60000)));
  Raw db1(1);
  EXPECT_EQ(db1.command({"EXISTS", s1.key_prefix + "key:nonce:c1:n1"}), 1);
  Raw db0;
  EXPECT_EQ(db0.command({"EXISTS", s1.key_prefix + "key:nonce:c1:n1"}), 0);
}

TEST(RedisCache, authenticates_as_an_acl_user_and_refuses_a_wrong_password) {
  Raw raw;
  raw.command({"ACL", "SETUSER", "pgtest", "on", ">s3cret:@/", "allkeys", "allcommands"});
  RedisSettings s = fresh_settings();
  s.url = "redis://pgtest:s3cret%3A%40%2F@127.0.0.1:" + std::to_string(server().port());
  {
    RedisCache cache(s);
    EXPECT_TRUE(cache.add("k", ms(60000)));
    EXPECT_TRUE(cache.ping());
  }
  s.url = "redis://pgtest:not-the-password@127.0.0.1:" + std::to_string(server().port());
  const std::string e = error_of([&] { RedisCache cache(s); });
  EXPECT_NE(e.find("AUTH refused"), std::string::npos) << e;
  EXPECT_EQ(e.find("not-the-password"), std::string::npos) << e;
  EXPECT_THROW(RedisCache{s}, CacheError);
  raw.command({"ACL", "DELUSER", "pgtest"});
}

TEST(RedisCache, construction_fails_when_nothing_listens) {
  RedisSettings s = fresh_settings();
  const int port = unused_port();
  s.url = "redis://127.0.0.1:" + std::to_string(port);
  EXPECT_THROW(RedisCache{s}, CacheError);
  const std::string e = error_of([&] { RedisCache cache(s); });
  EXPECT_NE(e.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e;
  EXPECT_NE(e.find("cannot connect"), std::string::npos) << e;
}

TEST(RedisCache, a_server_that_resets_connections_is_an_error_not_a_crash) {
  RedisSettings s = fresh_settings();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread resetter([fd] {
    const int c = accept(fd, nullptr, nullptr);
    if (c < 0) return;
    const linger reset{1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(c);
  });
  s.url = "redis://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  EXPECT_THROW(RedisCache{s}, CacheError);
  resetter.join();
  close(fd);
}

TEST(RedisCache, settings_out_of_range_are_refused) {
  RedisSettings s = fresh_settings();
  s.pool_size = 0;
  EXPECT_THROW(RedisCache{s}, std::invalid_argument);
  s = fresh_settings();
  s.command_timeout = ms(0);
  EXPECT_THROW(RedisCache{s}, std::invalid_argument);
}

// --- failing closed ---

/// Brings the server back at the end of a test even when an assertion stopped it early.
struct RestartAtExit {
  ~RestartAtExit() {
    try {
      if (!server().running()) server().restart();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not restart redis-server: " << e.what();
    }
  }
};
struct ThawAtExit {
  ~ThawAtExit() {
    try {
      server().thaw();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not resume redis-server: " << e.what();
    }
  }
};

TEST(RedisCache, fails_closed_while_the_server_is_down_and_recovers_once_it_is_back) {
  RedisSettings s = fresh_settings();
  s.pool_size = 4;
  s.command_timeout = ms(300);
  s.connect_timeout = ms(300);
  RedisCache a(s), b(s);
  // Pooled connections on both instances, left stale by the kill.
  race(8, [&](int t) { (t % 2 == 0 ? a : b).add("warm:" + std::to_string(t), ms(60000)); });
  ASSERT_TRUE(a.add("nonce:c1:before", ms(60000)));
  {
    RestartAtExit restart;
    server().kill9();

    const auto t0 = Clock::now();
    const std::string e = error_of([&] { a.add("nonce:c1:during", ms(60000)); });
    EXPECT_LT(millis_since(t0), 300 + 200);
    EXPECT_NE(e.find("redis 127.0.0.1:" + std::to_string(server().port())), std::string::npos) << e;
    EXPECT_THROW(a.add("nonce:c1:during", ms(60000)), CacheError);
    EXPECT_THROW(b.add("nonce:c1:during", ms(60000)), CacheError);
    EXPECT_THROW(b.add("nonce:c1:before", ms(60000)), CacheError);
    const auto t1 = Clock::now();
    EXPECT_THROW(a.take_token("rate:c1", 1.0, 5.0), CacheError);
    EXPECT_LT(millis_since(t1), 300 + 200);
    EXPECT_FALSE(a.ping());
    EXPECT_FALSE(b.ping());
    EXPECT_NO_THROW(a.remove("nonce:c1:before"));
    // Many callers at once: each one fails, none hangs or succeeds.
    std::atomic<int> failed{0};
    race(16, [&](int t) {
      try {
        (t % 2 == 0 ? a : b).add("nonce:c1:storm", ms(60000));
      } catch (const CacheError&) {
        failed++;
      }
    });
    EXPECT_EQ(failed.load(), 16);

    server().restart();
  }
  EXPECT_TRUE(a.ping());
  EXPECT_TRUE(b.ping());
  EXPECT_TRUE(a.add("nonce:c1:after", ms(60000)));
  EXPECT_FALSE(b.add("nonce:c1:after", ms(60000)));
  EXPECT_TRUE(b.take_token("rate:c1", 0.01, 1.0).allowed);
  EXPECT_FALSE(a.take_token("rate:c1", 0.01, 1.0).allowed);
}

TEST(RedisCache, fails_closed_within_the_command_timeout_while_the_server_hangs) {
  RedisSettings s = fresh_settings();
  s.command_timeout = ms(300);
  s.connect_timeout = ms(300);
  RedisCache cache(s);
  ASSERT_TRUE(cache.ping());
  {
    ThawAtExit thaw;
    server().freeze();
    auto t0 = Clock::now();
    const std::string e = error_of([&] { cache.add("nonce:c1:frozen", ms(60000)); });
    long long took = millis_since(t0);
    EXPECT_GE(took, 250);
    EXPECT_LT(took, 300 + 500);
    EXPECT_NE(e.find("no answer within 300 ms"), std::string::npos) << e;

    t0 = Clock::now();
    EXPECT_THROW(cache.take_token("rate:c1", 1.0, 5.0), CacheError);
    took = millis_since(t0);
    EXPECT_LT(took, 300 + 500);
    EXPECT_FALSE(cache.ping());
  }
  EXPECT_TRUE(cache.ping());
  EXPECT_TRUE(cache.add("nonce:c1:thawed", ms(60000)));
  EXPECT_TRUE(cache.take_token("rate:c1", 1.0, 5.0).allowed);
}

TEST(RedisCache, waits_at_most_the_command_timeout_for_a_free_connection) {
  RedisSettings s = fresh_settings();
  s.pool_size = 1;
  s.command_timeout = ms(300);
  s.connect_timeout = ms(300);
  RedisCache cache(s);
  ASSERT_TRUE(cache.ping());
  ThawAtExit thaw;
  server().freeze();
  std::atomic<int> failed{0};
  const auto t0 = Clock::now();
  race(4, [&](int) {
    try {
      cache.add("nonce:c1:queued", ms(60000));
    } catch (const CacheError&) {
      failed++;
    }
  });
  EXPECT_EQ(failed.load(), 4);
  // Each caller waits for the slot at most once, then uses at most one timeout itself.
  EXPECT_LT(millis_since(t0), 4 * 300 + 600);
}

// --- URLs ---

TEST(RedisUrl, parses_the_documented_forms) {
  RedisEndpoint e = parse_redis_url("redis://127.0.0.1:6380");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.db, 0u);
  EXPECT_TRUE(e.password.empty());

  e = parse_redis_url("redis://cache.internal");
  EXPECT_EQ(e.host, "cache.internal");
  EXPECT_EQ(e.port, 6379);

  e = parse_redis_url("redis://:s%40cr%3At@redis-1:7000/3");
  EXPECT_EQ(e.host, "redis-1");
  EXPECT_EQ(e.password, "s@cr:t");
  EXPECT_TRUE(e.username.empty());
  EXPECT_EQ(e.db, 3u);

  e = parse_redis_url("REDIS://proofgate:pw@[::1]:7001/2");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 7001);
  EXPECT_EQ(e.username, "proofgate");
  EXPECT_EQ(e.password, "pw");
  EXPECT_EQ(e.redacted(), "redis://proofgate@[::1]:7001/2");

  EXPECT_EQ(parse_redis_url("redis://h:1/").db, 0u);
}

TEST(RedisUrl, malformed_urls_are_refused_naming_the_problem) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "is empty"},
      {"127.0.0.1:6379", "must start with redis://"},
      {"http://127.0.0.1:6379", "scheme 'http' is not redis://"},
      {"rediss://cache:6379", "rediss:// (TLS) is not supported"},
      {"unix:///run/redis.sock", "unix sockets are not supported"},
      {"redis://", "the host is missing"},
      {"redis://:6379", "the host is missing"},
      {"redis://cache:0", "the port '0' is not a number from 1 to 65535"},
      {"redis://cache:65536", "the port '65536' is not a number"},
      {"redis://cache:+80", "the port '+80' is not a number"},
      {"redis://cache:http", "the port 'http' is not a number"},
      {"redis://cache:", "the port '' is not a number"},
      {"redis://cache:6379/x", "the database 'x' is not a number"},
      {"redis://cache:6379/1/2", "the database '1/2' is not a number"},
      {"redis://cache:6379/99999999999", "the database '99999999999' is not a number"},
      {"redis://cache:6379?db=1", "query parameters"},
      {"redis://cache:6379#x", "fragments"},
      {"redis://user@cache:6379", "credentials need a password"},
      {"redis://:@cache:6379", "the password after ':' is empty"},
      {"redis://:p%zzw@cache", "the password has a malformed %-escape"},
      {"redis://:pw%4@cache", "the password has a malformed %-escape"},
      {"redis://us%er:pw@cache", "the user has a malformed %-escape"},
      {"redis://::1:6379", "an IPv6 host must be written in brackets"},
      {"redis://[::1:6379", "the IPv6 host has no closing ']'"},
      {"redis://[::1]6379", "expected ':port' after the IPv6 host"},
      {"redis://[cache]:6379", "is not an IPv6 address"},
      {"redis://ca che:6379", "has characters other than letters"},
  };
  for (const auto& [url, expected] : cases) {
    const std::string e = error_of([&] { parse_redis_url(url); });
    EXPECT_EQ(e.rfind("redis_url: ", 0), 0u) << url << " -> " << e;
    EXPECT_NE(e.find(expected), std::string::npos) << url << " -> " << e;
    EXPECT_THROW(parse_redis_url(url), std::invalid_argument) << url;
  }
}

TEST(RedisUrl, errors_never_repeat_the_password) {
  for (const std::string url :
       {"redis://:hunter2@cache:99999", "redis://admin:hunter2@cache:6379/x",
        "redis://:hunter2@ca che", "redis://:hunter2@cache?x"}) {
    const std::string e = error_of([&] { parse_redis_url(url); });
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
  }
}

TEST(RedisUrl, a_malformed_url_is_refused_before_connecting) {
  RedisSettings s;
  s.url = "redis://cache:99999";
  EXPECT_THROW(RedisCache{s}, std::invalid_argument);
}

}  // namespace
}  // namespace pg::cache
