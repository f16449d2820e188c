// The feed follower against a real HTTP feed on loopback and a real SQLite store: it publishes
// the chain's roots, and a storage error does not make it skip an entry (the chain moves only
// once the entry is stored) nor end its thread.
#include "feed/follower.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/secrets.hpp"
#include "log/log.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::feed {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

/// A signed chain of `n` entries for issuer 2 (tu).
std::vector<FeedEntry> make_chain(const SigningKey& key, int n) {
  std::vector<FeedEntry> out;
  std::string prev = "0";
  for (int i = 1; i <= n; ++i) {
    FeedEntry e{2,
                static_cast<std::uint64_t>(i),
                std::to_string(100 + i),
                prev,
                static_cast<std::uint64_t>(i - 1),
                1000 + i,
                key.key_id(),
                "",
                std::nullopt};
    e.signature = key.sign(signing_text(e));
    prev = e.root;
    out.push_back(e);
  }
  return out;
}

/// Appends to `chain` (issuer 2) the next entry, signed by `key`, issued at `issued_at`;
/// `next` (with `overlap_ms`) makes it announce a successor.
void append_entry(std::vector<FeedEntry>& chain, const SigningKey& key, std::int64_t issued_at,
                  const SigningKey* next = nullptr, std::int64_t overlap_ms = 0) {
  const std::uint64_t seq = chain.size() + 1;
  FeedEntry e{2,
              seq,
              std::to_string(100 + seq),
              chain.empty() ? "0" : chain.back().root,
              seq - 1,
              issued_at,
              key.key_id(),
              "",
              std::nullopt};
  if (next) {
    e.next_key = KeyAnnouncement{next->key_id(), next->public_key_b64(), issued_at + overlap_ms};
  }
  e.signature = key.sign(signing_text(e));
  chain.push_back(e);
}

/// Answers every GET /issuer/v1/roots?since=S at once with the entries after S.
class FeedServer {
 public:
  explicit FeedServer(std::vector<FeedEntry> chain)
      : chain_(std::move(chain)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        tcp::socket socket(io_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stop_) continue;
        asio::streambuf request;
        asio::read_until(socket, request, "\r\n\r\n", ec);
        if (ec) continue;
        const std::string head(asio::buffers_begin(request.data()),
                               asio::buffers_end(request.data()));
        const auto at = head.find("since=");
        const std::uint64_t since = at == std::string::npos ? 0 : std::stoull(head.substr(at + 6));
        boost::json::array entries;
        for (const auto& e : chain_) {
          if (e.seq > since) entries.push_back(to_json(e));
        }
        const std::string body =
            boost::json::serialize(boost::json::object{{"issuer_id", 2}, {"entries", entries}});
        const std::string answer =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        asio::write(socket, asio::buffer(answer), ec);
      }
    });
  }
  ~FeedServer() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes the blocking accept
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  std::vector<FeedEntry> chain_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// A SQLite store whose publish_feed_root fails the first `failures` times (a locked database, a
/// PostgreSQL restart).
class FlakyStore final : public core::Store {
 public:
  FlakyStore(core::Store& real, int failures) : real_(real), failures_(failures) {}
  using core::Store::publish_root;
  core::PublishOutcome publish_root(const core::IssuerRoot& root, core::UnixMillis now) override {
    return real_.publish_root(root, now);
  }
  core::PublishOutcome publish_feed_root(const core::IssuerRoot& root,
                                         const std::vector<core::FeedKey>& keys,
                                         core::UnixMillis now) override {
    if (failures_ > 0) {
      --failures_;
      throw core::StoreError("publish_feed_root: database is locked");
    }
    return real_.publish_feed_root(root, keys, now);
  }
  std::vector<core::FeedKey> feed_keys(std::uint32_t i, bool sandbox) override {
    return real_.feed_keys(i, sandbox);
  }
  std::optional<core::IssuerRoot> find_root(std::uint32_t i, std::string_view r,
                                            bool sandbox) override {
    return real_.find_root(i, r, sandbox);
  }
  std::optional<core::IssuerRoot> latest_feed_root(std::uint32_t i, bool sandbox) override {
    return real_.latest_feed_root(i, sandbox);
  }
  std::vector<core::IssuerRoot> recent_roots(std::uint32_t i, core::UnixMillis s,
                                             bool sandbox) override {
    return real_.recent_roots(i, s, sandbox);
  }
  bool ping() noexcept override { return real_.ping(); }
  void insert_client(const core::Client& c) override { real_.insert_client(c); }
  using core::Store::find_client_by_prefix;
  std::optional<core::Client> find_client_by_prefix(std::string_view p,
                                                    core::UnixMillis n) override {
    return real_.find_client_by_prefix(p, n);
  }
  std::vector<core::Client> list_clients() override { return real_.list_clients(); }
  void touch_client(std::string_view c, std::string_view k, core::UnixMillis n) override {
    real_.touch_client(c, k, n);
  }
  std::optional<core::Client> find_client(std::string_view c) override {
    return real_.find_client(c);
  }
  std::vector<core::Client> list_clients_after(core::UnixMillis a, std::string_view i,
                                               std::size_t l) override {
    return real_.list_clients_after(a, i, l);
  }
  std::vector<core::ClientKey> client_keys(std::string_view c) override {
    return real_.client_keys(c);
  }
  void insert_request(const core::ProofRequest& r) override { real_.insert_request(r); }
  std::optional<core::ProofRequest> find_request(std::string_view c, std::string_view n) override {
    return real_.find_request(c, n);
  }
  core::RecordOutcome record_proof(const core::ProofRecord& p, const core::OutboxEvent* e,
                                   const core::IdempotencyRecord* i) override {
    return real_.record_proof(p, e, i);
  }
  std::optional<core::ProofRecord> find_proof(std::string_view p) override {
    return real_.find_proof(p);
  }
  bool nonce_answered(std::string_view c, std::string_view n) override {
    return real_.nonce_answered(c, n);
  }
  std::optional<core::IdempotencyRecord> find_idempotency(std::string_view c, std::string_view k,
                                                          core::UnixMillis n) override {
    return real_.find_idempotency(c, k, n);
  }
  void save_idempotency(const core::IdempotencyRecord& r) override { real_.save_idempotency(r); }
  void set_circuit_enabled(std::string_view c, std::string_view v, bool e,
                           core::UnixMillis n) override {
    real_.set_circuit_enabled(c, v, e, n);
  }
  std::optional<bool> circuit_enabled(std::string_view c, std::string_view v) override {
    return real_.circuit_enabled(c, v);
  }
  std::vector<core::OutboxEvent> pending_events(std::size_t l) override {
    return real_.pending_events(l);
  }

 private:
  core::Store& real_;
  std::atomic<int> failures_;
};

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pg-follower-" + core::uuid_v4());
    std::filesystem::create_directories(dir_);
    store_ = std::make_unique<store::SqliteStore>(store::SqliteSettings{dir_ / "db.sqlite"});
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  /// Waits (up to 20 s) until the store holds the feed's entry `seq` for issuer 2.
  bool wait_for_seq(std::uint64_t seq) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto latest = store_->latest_feed_root(2);
      if (latest && latest->seq >= seq) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  /// Waits (up to 20 s) until the follower counts `n` accepted entries (it counts each one just
  /// after storing it).
  static bool wait_accepted(const FeedFollower& follower, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (follower.status()[0].accepted >= n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  FollowerSettings quick() {
    FollowerSettings s;
    s.wait = 1s;
    s.timeout = 3s;
    s.min_backoff = 10ms;
    s.max_backoff = 50ms;
    return s;
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::SqliteStore> store_;
  core::SystemClock clock_;
};

TEST_F(FollowerTest, PublishesTheChainsRootsWithTheirSeq) {
  const SigningKey key = SigningKey::generate();
  FeedServer server(make_chain(key, 3));
  auto sources = parse_feed_sources("tu|" + server.url() + "|" + key.public_key_b64());
  ASSERT_TRUE(sources) << sources.error();
  FeedFollower follower(*store_, clock_, *sources, quick());
  follower.start();
  ASSERT_TRUE(wait_for_seq(3));
  ASSERT_TRUE(wait_accepted(follower, 3));
  EXPECT_EQ(store_->latest_feed_root(2)->root, "103");
  EXPECT_EQ(store_->find_root(2, "101")->seq, 1u);
  EXPECT_NE(store_->find_root(2, "101")->superseded_at, 0);
  EXPECT_NE(follower.render_metrics().find("proofgate_feed_seq{issuer=\"tu\"} 3"),
            std::string::npos);
}

TEST_F(FollowerTest, ASandboxFeedPublishesSandboxRootsBesideTheLiveChain) {
  const SigningKey key = SigningKey::generate();
  FeedServer server(make_chain(key, 2));
  auto sources = parse_feed_sources("tu|" + server.url() + "|" + key.public_key_b64(), true);
  ASSERT_TRUE(sources) << sources.error();
  ASSERT_TRUE((*sources)[0].sandbox);
  store_->publish_root(2, "555", clock_.now_ms());  // the live side's own root
  FeedFollower follower(*store_, clock_, *sources, quick());
  follower.start();
  ASSERT_TRUE(wait_accepted(follower, 2));
  const auto latest = store_->latest_feed_root(2, true);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->root, "102");
  EXPECT_TRUE(latest->sandbox);
  EXPECT_FALSE(store_->latest_feed_root(2));  // nothing of the sandbox feed on the live side
  EXPECT_EQ(store_->recent_roots(2, 0).size(), 1u);
  EXPECT_EQ(store_->find_root(2, "555")->superseded_at, 0);
  EXPECT_NE(follower.render_metrics().find("proofgate_feed_seq{issuer=\"tu-sandbox\"} 2"),
            std::string::npos);
  const auto bad = parse_feed_sources("xx|" + server.url() + "|" + key.public_key_b64(), true);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().starts_with("sandbox_issuer_feeds: ")) << bad.error();
}

TEST_F(FollowerTest, AStorageErrorNeitherSkipsAnEntryNorStopsTheFollower) {
  const SigningKey key = SigningKey::generate();
  FeedServer server(make_chain(key, 3));
  auto sources = parse_feed_sources("tu|" + server.url() + "|" + key.public_key_b64());
  ASSERT_TRUE(sources) << sources.error();
  FlakyStore flaky(*store_, 2);  // the first two writes fail
  FeedFollower follower(flaky, clock_, *sources, quick());
  follower.start();
  ASSERT_TRUE(wait_for_seq(3));
  ASSERT_TRUE(wait_accepted(follower, 3));
  // Every entry was stored, none skipped: each root is there under its own seq.
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    const auto row = store_->find_root(2, std::to_string(100 + seq));
    ASSERT_TRUE(row) << "seq " << seq;
    EXPECT_EQ(row->seq, seq);
  }
  const auto status = follower.status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].fetch_errors, 2u);
  EXPECT_EQ(status[0].accepted, 3u);
}

/// Sends the log's events to a string while it lives (set before any follower thread starts, as
/// log::init asks).
class CapturedLog {
 public:
  CapturedLog() { log::init(log::Level::kInfo, events_, requests_); }
  ~CapturedLog() { log::init(log::Level::kInfo); }
  std::string text() const { return events_.str(); }

 private:
  std::ostringstream events_, requests_;
};

TEST_F(FollowerTest, ARestartTrustsTheKeysTheStoredChainLearnedAndNoKeyItRetired) {
  const SigningKey old_key = SigningKey::generate(), new_key = SigningKey::generate();
  std::vector<FeedEntry> chain;
  append_entry(chain, old_key, 1001, &new_key, 10);  // the old key signs nothing after 1011
  append_entry(chain, new_key, 1002);
  append_entry(chain, new_key, 1003);
  {
    FeedServer server(chain);
    auto sources = parse_feed_sources("tu|" + server.url() + "|" + old_key.public_key_b64());
    ASSERT_TRUE(sources) << sources.error();
    // The announcing entry's write fails twice: its keys are stored with its root when it is
    // retried, never dropped.
    FlakyStore flaky(*store_, 2);
    FeedFollower follower(flaky, clock_, *sources, quick());
    follower.start();
    ASSERT_TRUE(wait_for_seq(3));
    ASSERT_TRUE(wait_accepted(follower, 3));
    EXPECT_GE(follower.status()[0].fetch_errors, 2u);  // the two failed writes, at least
  }
  const std::vector<core::FeedKey> stored = store_->feed_keys(2);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0], (core::FeedKey{2, old_key.key_id(), old_key.public_key_b64(), 1011, 0}));
  EXPECT_EQ(stored[1], (core::FeedKey{2, new_key.key_id(), new_key.public_key_b64(), 0, 1}));

  // Restarted long after the overlap with only the old key configured: it follows the entries
  // the new key signs, and an entry the old key signs after its retirement is refused.
  append_entry(chain, new_key, 1004);
  append_entry(chain, new_key, 1005);
  append_entry(chain, old_key, 2000);
  FeedServer server(chain);
  auto sources = parse_feed_sources("tu|" + server.url() + "|" + old_key.public_key_b64());
  ASSERT_TRUE(sources) << sources.error();
  CapturedLog log;
  {
    FeedFollower follower(*store_, clock_, *sources, quick());
    follower.start();
    ASSERT_TRUE(wait_for_seq(5));
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline &&
           follower.status()[0].refused["key_retired"] == 0) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(follower.status()[0].refused["key_retired"], 1u);
  }
  EXPECT_EQ(store_->latest_feed_root(2)->seq, 5u);
  EXPECT_EQ(store_->feed_keys(2), stored);
  // The configuration disagrees with the stored chain twice: both said at warn level.
  const std::string lines = log.text();
  EXPECT_NE(lines.find(R"("level":"warn","msg":"issuer_feeds names a key the feed retired)"),
            std::string::npos)
      << lines;
  EXPECT_NE(lines.find(R"("level":"warn","msg":"the feed's current key is not in issuer_feeds)"),
            std::string::npos)
      << lines;
}

TEST_F(FollowerTest, WithNoStoredKeysTheConfiguredKeysAreTheAnchors) {
  const SigningKey old_key = SigningKey::generate(), new_key = SigningKey::generate();
  std::vector<FeedEntry> chain;
  append_entry(chain, old_key, 1001);
  // Stored by an earlier run that kept no keys (a verifier before feed_keys existed).
  store_->publish_root(core::IssuerRoot{2, chain[0].root, 0, 0, 1, 1001}, clock_.now_ms());
  append_entry(chain, new_key, 1002);
  FeedServer server(chain);
  auto sources = parse_feed_sources("tu|" + server.url() + "|" + new_key.public_key_b64());
  ASSERT_TRUE(sources) << sources.error();
  CapturedLog log;
  {
    FeedFollower follower(*store_, clock_, *sources, quick());
    follower.start();
    ASSERT_TRUE(wait_for_seq(2));
    ASSERT_TRUE(wait_accepted(follower, 1));
  }
  EXPECT_TRUE(store_->feed_keys(2).empty());
  // Nothing stored, so nothing to disagree with.
  EXPECT_EQ(log.text().find("issuer_feeds names a key"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("not in issuer_feeds"), std::string::npos) << log.text();
}

TEST_F(FollowerTest, RefusesEntriesSignedByAnotherKeyAndKeepsItsState) {
  const SigningKey key = SigningKey::generate(), other = SigningKey::generate();
  FeedServer server(make_chain(other, 2));
  auto sources = parse_feed_sources("tu|" + server.url() + "|" + key.public_key_b64());
  ASSERT_TRUE(sources) << sources.error();
  FeedFollower follower(*store_, clock_, *sources, quick());
  follower.start();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline && follower.status()[0].refused.empty()) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(follower.status()[0].refused["unknown_key"], 1u);
  EXPECT_FALSE(store_->latest_feed_root(2));
}

}  // namespace
}  // namespace pg::feed
