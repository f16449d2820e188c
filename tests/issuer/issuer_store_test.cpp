// The issuer node's store port on both adapters (SQLite in a temporary file, PostgreSQL in a fresh
// issuer schema of one server for the whole binary): what commits, what is refused and leaves
// nothing behind, reopening; then what only PostgreSQL has: one node per issuer (the advisory
// lock), its own schema beside the verifier's tables, and reconnecting after the server closed the
// session.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/ports.hpp"
#include "feed/root_feed.hpp"
#include "issuer/postgres/postgres_issuer_store.hpp"
#include "issuer/sqlite_issuer_store.hpp"
#include "support/postgres_server.hpp"

namespace pg::issuer {
namespace {

namespace fs = std::filesystem;
using test::PostgresServer;
using test::Sql;

[[maybe_unused]] ::testing::Environment* const kServer =
    ::testing::AddGlobalTestEnvironment(new PostgresServer);

constexpr std::int64_t kAt = 1'770'000'000'000;

/// A signed entry over `root` (a decimal below r) following `prev`.
feed::FeedEntry entry(const feed::SigningKey& key, std::uint64_t seq, std::string root,
                      std::string prev_root, std::uint64_t leaf_count) {
  feed::FeedEntry e;
  e.issuer_id = 1;
  e.seq = seq;
  e.root = std::move(root);
  e.prev_root = std::move(prev_root);
  e.leaf_count = leaf_count;
  e.issued_at = kAt + static_cast<std::int64_t>(seq);
  e.key_id = key.key_id();
  e.signature = key.sign(feed::signing_text(e));
  return e;
}

Mac mac_of(std::uint8_t byte) {
  Mac m{};
  m.fill(byte);
  return m;
}

NewLeaf credential_leaf(std::uint64_t index, std::string value, std::uint8_t subject) {
  NewLeaf leaf;
  leaf.leaf_index = index;
  leaf.leaf = std::move(value);
  leaf.subject = mac_of(subject);
  leaf.code_mac = mac_of(static_cast<std::uint8_t>(subject + 1));
  leaf.holder_commitment = "77" + std::to_string(index);
  leaf.credential = R"({"leaf_index":)" + std::to_string(index) + "}";
  return leaf;
}

NewLeaf padding_leaf(std::uint64_t index, std::string value) {
  NewLeaf leaf;
  leaf.leaf_index = index;
  leaf.leaf = std::move(value);
  leaf.padding = true;
  return leaf;
}

/// Lower-case letters only (the issuer name becomes a schema name): a, b, ..., z, ba, bb, ...
std::string letters(unsigned n) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('a' + n % 26));
    n /= 26;
  } while (n != 0);
  return out;
}

std::atomic<unsigned> next_issuer{0};

class IssuerStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const unsigned n = next_issuer++;
    issuer_ = "t" + letters(n);
    issuer_id_ = 1000 + n;
    dir_ = fs::temp_directory_path() /
           ("issuer-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(n));
    fs::create_directories(dir_);
    store_ = open();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  bool postgres() const { return GetParam() == "postgres"; }

  PostgresIssuerSettings pg_settings() const {
    PostgresIssuerSettings s;
    s.url = PostgresServer::url();
    s.issuer = issuer_;
    s.issuer_id = issuer_id_;
    s.faults = faults_;
    return s;
  }

  /// Waits until no session holds this test's issuer lock: a closed store's server process ends
  /// (and frees the lock) a moment after the client closed its connection.
  void wait_until_lock_free() const {
    Sql sql(PostgresServer::url());
    const std::string held =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = " +
        std::to_string(kIssuerNodeLockClass) + " AND objid = " + std::to_string(issuer_id_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (sql.value(held) != "0" && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }

  /// A new store on this test's database.
  std::unique_ptr<IssuerStore> open() const {
    if (postgres()) {
      wait_until_lock_free();
      return std::make_unique<PostgresIssuerStore>(pg_settings());
    }
    return std::make_unique<SqliteIssuerStore>(dir_ / "issuer.db");
  }

  /// The genesis entry (seq 1, root "11", no leaves).
  feed::FeedEntry genesis() {
    const feed::FeedEntry g = entry(key_, 1, "11", "0", 0);
    EXPECT_TRUE(store_->append_genesis(g));
    return g;
  }

  feed::SigningKey key_ = feed::SigningKey::generate();
  std::string issuer_;
  std::uint32_t issuer_id_ = 0;
  fs::path dir_;
  std::unique_ptr<IssuerStore> store_;
  std::shared_ptr<CommitFaults> faults_ = std::make_shared<CommitFaults>();
};

TEST_P(IssuerStoreTest, GenesisOnceAndEverythingSurvivesAReopen) {
  EXPECT_FALSE(store_->last_entry());
  const feed::FeedEntry g = genesis();
  EXPECT_FALSE(store_->append_genesis(entry(key_, 1, "12", "0", 0)));
  store_->insert_key({key_.key_id(), key_.public_key_b64(), kAt, 0});
  store_->record_audit({kAt, "admin", "stats", "", ""});

  store_.reset();  // PostgreSQL: the lock goes with the session, so the same issuer reopens
  store_ = open();
  EXPECT_EQ(store_->last_entry(), g);
  ASSERT_EQ(store_->keys().size(), 1u);
  EXPECT_EQ(store_->keys()[0].key_id, key_.key_id());
  EXPECT_EQ(store_->keys()[0].retired_after, 0);
  ASSERT_EQ(store_->audit_trail(10).size(), 1u);
  EXPECT_EQ(store_->audit_trail(10)[0].action, "stats");
}

TEST_P(IssuerStoreTest, ACommitWritesLeavesEntryAndAuditTogether) {
  const feed::FeedEntry g = genesis();
  TreeChange change;
  change.appended = {credential_leaf(0, "101", 5), padding_leaf(1, "102")};
  change.at = kAt;
  change.entry = entry(key_, 2, "21", g.root, 2);
  change.audit = AuditRecord{kAt, "holder", "enrol", "0", ""};
  store_->commit(change);

  EXPECT_EQ(store_->leaf_values(), (std::vector<std::string>{"101", "102"}));
  const std::optional<StoredLeaf> leaf = store_->leaf(0);
  ASSERT_TRUE(leaf);
  EXPECT_FALSE(leaf->padding);
  EXPECT_EQ(leaf->holder_commitment, "770");
  EXPECT_EQ(leaf->code_mac, mac_of(6));
  EXPECT_EQ(leaf->issued_at, kAt);
  EXPECT_EQ(leaf->credential, R"({"leaf_index":0})");
  EXPECT_TRUE(store_->leaf(1)->padding);
  EXPECT_FALSE(store_->leaf(2));
  ASSERT_TRUE(store_->find_credential(mac_of(5), "770"));
  EXPECT_EQ(store_->find_credential(mac_of(5), "770")->leaf_index, 0u);
  EXPECT_FALSE(store_->find_credential(mac_of(5), "771"));
  EXPECT_EQ(store_->list_credentials(-1, 10).size(), 1u);  // padding is not a credential
  EXPECT_TRUE(store_->list_credentials(0, 10).empty());
  EXPECT_EQ(store_->credential_counts(), (std::pair<std::uint64_t, std::uint64_t>{1, 0}));
  EXPECT_EQ(store_->last_entry(), change.entry);
  EXPECT_EQ(store_->entries_since(0, 10), (std::vector<feed::FeedEntry>{g, change.entry}));
  EXPECT_EQ(store_->entries_since(1, 1), (std::vector<feed::FeedEntry>{change.entry}));
  EXPECT_TRUE(store_->root_published("21"));
  EXPECT_FALSE(store_->root_published("22"));
  EXPECT_EQ(store_->audit_trail(10).at(0).action, "enrol");
}

TEST_P(IssuerStoreTest, ARefusedCommitWritesNothing) {
  const feed::FeedEntry g = genesis();
  TreeChange first;
  first.appended = {credential_leaf(0, "101", 5)};
  first.entry = entry(key_, 2, "21", g.root, 1);
  store_->commit(first);

  const auto refused = [&](TreeChange change, const char* what) {
    change.audit = AuditRecord{kAt, "admin", "refused", what, ""};
    EXPECT_THROW(store_->commit(change), core::StoreError) << what;
    EXPECT_EQ(store_->leaf_values().size(), 1u) << what;
    EXPECT_EQ(store_->last_entry(), first.entry) << what;
    EXPECT_TRUE(store_->audit_trail(10).empty()) << what;
  };
  TreeChange change;
  change.appended = {padding_leaf(1, "102")};
  change.entry = entry(key_, 2, "31", first.entry.root, 2);
  refused(change, "a feed seq written twice");
  change.entry = entry(key_, 3, "21", first.entry.root, 2);
  refused(change, "a root written twice");
  change.appended = {padding_leaf(1, "102"), credential_leaf(0, "103", 9)};
  change.entry = entry(key_, 3, "31", first.entry.root, 3);
  refused(change, "a leaf index written twice");
  change.appended = {credential_leaf(1, "103", 5)};
  change.appended[0].holder_commitment = "770";
  refused(change, "the same subject and commitment twice");
  change.appended = {};
  change.revoked = 7;
  refused(change, "revoking a leaf that does not exist");
}

TEST_P(IssuerStoreTest, RevokingZeroesTheLeafOnce) {
  const feed::FeedEntry g = genesis();
  TreeChange enrol;
  enrol.appended = {credential_leaf(0, "101", 5), padding_leaf(1, "102")};
  enrol.entry = entry(key_, 2, "21", g.root, 2);
  store_->commit(enrol);

  TreeChange revoke;
  revoke.revoked = 0;
  revoke.at = kAt + 5;
  revoke.entry = entry(key_, 3, "31", "21", 2);
  store_->commit(revoke);
  EXPECT_EQ(store_->leaf_values(), (std::vector<std::string>{"0", "102"}));
  EXPECT_EQ(store_->leaf(0)->revoked_at, kAt + 5);
  EXPECT_EQ(store_->leaf(0)->credential, R"({"leaf_index":0})");  // kept for the retry answer
  EXPECT_EQ(store_->credential_counts(), (std::pair<std::uint64_t, std::uint64_t>{1, 1}));

  revoke.entry = entry(key_, 4, "41", "31", 2);
  EXPECT_THROW(store_->commit(revoke), core::StoreError);  // revoked already
  revoke.revoked = 1;
  EXPECT_THROW(store_->commit(revoke), core::StoreError);  // padding is not a credential
  EXPECT_EQ(store_->last_entry()->seq, 3u);
}

TEST_P(IssuerStoreTest, ANewKeyRetiresTheCurrentOneInTheSameCommit) {
  const feed::FeedEntry g = genesis();
  store_->insert_key({key_.key_id(), key_.public_key_b64(), kAt, 0});
  const feed::SigningKey next = feed::SigningKey::generate();
  TreeChange rotate;
  rotate.appended = {padding_leaf(0, "101")};
  rotate.at = kAt + 10;
  rotate.entry = entry(key_, 2, "21", g.root, 1);
  rotate.entry.next_key = feed::KeyAnnouncement{next.key_id(), next.public_key_b64(), kAt + 5000};
  rotate.entry.signature = key_.sign(feed::signing_text(rotate.entry));
  rotate.new_key = KeyRecord{next.key_id(), next.public_key_b64(), kAt + 10, 0};
  store_->commit(rotate);

  const std::vector<KeyRecord> keys = store_->keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key_id, key_.key_id());
  EXPECT_EQ(keys[0].retired_after, kAt + 5000);
  EXPECT_EQ(keys[1].key_id, next.key_id());
  EXPECT_EQ(keys[1].retired_after, 0);
  EXPECT_EQ(store_->last_entry()->next_key, rotate.entry.next_key);
}

TEST_P(IssuerStoreTest, AuditPagesAreNewestFirstBelowTheCursor) {
  EXPECT_TRUE(store_->audit_page(INT64_MAX, 10).empty());
  for (int i = 0; i < 5; ++i) {
    store_->record_audit({kAt + i, "admin", "stats", std::to_string(i), "d" + std::to_string(i)});
  }
  const std::vector<AuditRow> first = store_->audit_page(INT64_MAX, 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].record.target, "4");
  EXPECT_EQ(first[0].record.detail, "d4");
  EXPECT_EQ(first[0].record.at, kAt + 4);
  EXPECT_EQ(first[1].record.target, "3");
  EXPECT_GT(first[0].id, first[1].id);
  const std::vector<AuditRow> rest = store_->audit_page(first[1].id, 10);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].record.target, "2");
  EXPECT_EQ(rest[2].record.target, "0");
  EXPECT_LT(rest[0].id, first[1].id);
  EXPECT_TRUE(store_->audit_page(rest[2].id, 10).empty());
  // A commit's audit record is paged like the others.
  const feed::FeedEntry g = genesis();
  TreeChange change;
  change.appended = {credential_leaf(0, "101", 5)};
  change.at = kAt;
  change.entry = entry(key_, 2, "21", g.root, 1);
  change.audit = AuditRecord{kAt + 9, "admin", "revoke", "0", "why"};
  store_->commit(change);
  EXPECT_EQ(store_->audit_page(INT64_MAX, 1).at(0).record.action, "revoke");
}

INSTANTIATE_TEST_SUITE_P(Backends, IssuerStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// --- PostgreSQL only ---

class PostgresIssuerStoreTest : public IssuerStoreTest {};

TEST_P(PostgresIssuerStoreTest, ASecondNodeForTheSameIssuerIsRefusedNamingIt) {
  try {
    PostgresIssuerStore second(pg_settings());
    FAIL() << "a second store opened while the first holds the lock";
  } catch (const core::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("another issuer node holds the lock of issuer " + issuer_),
              std::string::npos)
        << e.what();
  }
  // Another issuer on the same database is independent...
  PostgresIssuerSettings other = pg_settings();
  other.issuer += "x";
  other.issuer_id += 500;
  EXPECT_NO_THROW(PostgresIssuerStore{other});
  // ...and the issuer is free again once its node stops.
  store_.reset();
  EXPECT_NO_THROW(store_ = open());
}

TEST_P(PostgresIssuerStoreTest, TheTablesLiveInTheIssuersOwnSchema) {
  genesis();
  Sql sql(PostgresServer::url());
  EXPECT_EQ(sql.value("SELECT count(*) FROM issuer_" + issuer_ + ".feed"), "1");
  EXPECT_EQ(sql.value("SELECT max(version) FROM issuer_" + issuer_ + ".schema_migrations"), "1");
  EXPECT_EQ(sql.value("SELECT to_regclass('public.feed') IS NULL"), "t");
  EXPECT_EQ(sql.value("SELECT to_regclass('public.leaves') IS NULL"), "t");
  // A name that is not lower-case letters never becomes a schema.
  PostgresIssuerSettings bad = pg_settings();
  bad.issuer = "moha; DROP";
  EXPECT_THROW(PostgresIssuerStore{bad}, core::StoreError);
}

TEST_P(PostgresIssuerStoreTest, AfterTheServerClosesTheSessionItReconnectsUnlessTheFeedMoved) {
  const feed::FeedEntry g = genesis();
  Sql sql(PostgresServer::url());
  const std::string lock_holder =
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = " +
      std::to_string(kIssuerNodeLockClass) + " AND objid = " + std::to_string(issuer_id_);
  const auto terminate = [&] {
    const std::string pid = sql.value(lock_holder);
    ASSERT_FALSE(pid.empty());
    ASSERT_EQ(sql.value("SELECT pg_terminate_backend(" + pid + ", 5000)"), "t");
  };
  terminate();
  // The next call reconnects, takes the lock again and goes on.
  EXPECT_EQ(store_->last_entry(), g);
  EXPECT_FALSE(sql.value(lock_holder).empty());
  EXPECT_THROW(PostgresIssuerStore{pg_settings()}, core::StoreError);

  // Another node served the issuer while this one was cut off: this one must not go on.
  terminate();
  {
    PostgresIssuerStore other(pg_settings());
    TreeChange change;
    change.appended = {padding_leaf(0, "101")};
    change.entry = entry(key_, 2, "21", g.root, 1);
    other.commit(change);
  }
  wait_until_lock_free();
  try {
    store_->last_entry();
    FAIL() << "a stale node went on after the feed moved";
  } catch (const core::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("moved from seq 1 (root 11) to seq 2 (root 21)"),
              std::string::npos)
        << e.what();
  }
}

TEST_P(PostgresIssuerStoreTest, AnotherEntryUnderTheSameSeqIsRefusedAfterAReconnect) {
  genesis();
  Sql sql(PostgresServer::url());
  const std::string pid = sql.value(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = " +
      std::to_string(kIssuerNodeLockClass) + " AND objid = " + std::to_string(issuer_id_));
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(sql.value("SELECT pg_terminate_backend(" + pid + ", 5000)"), "t");
  // What a promoted replica that lost the node's last entry and got another one may hold.
  sql.value("UPDATE issuer_" + issuer_ + ".feed SET root = '99' WHERE seq = 1");
  try {
    store_->last_entry();
    FAIL() << "went on over a feed whose last entry is not the one this node wrote";
  } catch (const core::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("moved from seq 1 (root 11) to seq 1 (root 99)"),
              std::string::npos)
        << e.what();
  }
}

/// A TCP proxy on loopback in front of the test server whose cut() closes only the client's
/// side of every connection: the client sees its connection end while the server keeps the
/// session (and its lock) — what a dead network path looks like before the server notices.
class CuttableProxy {
 public:
  explicit CuttableProxy(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 8) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("proxy: cannot listen");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~CuttableProxy() {
    stop_ = true;
    thread_.join();
    for (auto& [client, server] : pairs_) {
      if (client >= 0) ::close(client);
      ::close(server);
    }
    ::close(listener_);
  }
  int port() const { return port_; }
  /// Returns once every client side open now is closed.
  void cut() {
    cut_requested_ = true;
    while (cut_requested_) std::this_thread::yield();
  }

 private:
  void run() {
    char buffer[16384];
    while (!stop_) {
      if (cut_requested_) {
        for (auto& p : pairs_) {
          if (p.first >= 0) ::close(p.first);
          p.first = -1;
        }
        cut_requested_ = false;
      }
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const auto& [client, server] : pairs_) {
        if (client < 0) continue;  // the server's side stays open and unread
        fds.push_back({client, POLLIN, 0});
        fds.push_back({server, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        const int client = ::accept(listener_, nullptr, nullptr);
        const int server = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(upstream_port_));
        if (client >= 0 && ::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          pairs_.emplace_back(client, server);
        } else {
          if (client >= 0) ::close(client);
          ::close(server);
        }
        continue;
      }
      for (std::size_t i = 1; i + 1 < fds.size(); i += 2) {
        for (const auto& [from, to] :
             {std::pair{fds[i].fd, fds[i + 1].fd}, std::pair{fds[i + 1].fd, fds[i].fd}}) {
          const pollfd& f = from == fds[i].fd ? fds[i] : fds[i + 1];
          if ((f.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
          const ssize_t n = ::read(from, buffer, sizeof buffer);
          if (n > 0) (void)!::write(to, buffer, static_cast<std::size_t>(n));
        }
      }
    }
  }

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false}, cut_requested_{false};
  std::vector<std::pair<int, int>> pairs_;  // client fd (-1 once cut), server fd
};

TEST_P(PostgresIssuerStoreTest, ALostSessionTheServerStillHoldsIsEndedAndTheLockTakenBack) {
  const std::string& url = PostgresServer::url();
  const std::size_t colon = url.rfind(':');
  const int upstream = std::stoi(url.substr(colon + 1, url.find('/', colon) - colon - 1));
  CuttableProxy proxy(upstream);
  PostgresIssuerSettings through = pg_settings();
  through.url =
      url.substr(0, colon + 1) + std::to_string(proxy.port()) + url.substr(url.find('/', colon));
  store_.reset();  // the fixture's store holds the lock; this test's goes through the proxy
  PostgresIssuerStore store(through);
  const feed::FeedEntry g = entry(key_, 1, "11", "0", 0);
  ASSERT_TRUE(store.append_genesis(g));
  Sql sql(url);
  const std::string lock_holder =
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = " +
      std::to_string(kIssuerNodeLockClass) + " AND objid = " + std::to_string(issuer_id_);
  const std::string old_pid = sql.value(lock_holder);
  ASSERT_FALSE(old_pid.empty());

  proxy.cut();
  // The call that finds the connection gone may fail; the next one reconnects, ends its own old
  // session (which the server still holds, with the lock) and goes on.
  std::optional<feed::FeedEntry> last;
  for (int attempt = 0; attempt < 3 && !last; ++attempt) {
    try {
      last = store.last_entry();
    } catch (const core::StoreError& e) {
      EXPECT_EQ(std::string(e.what()).find("another issuer node holds the lock"), std::string::npos)
          << e.what();
    }
  }
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, g);
  const std::string new_pid = sql.value(lock_holder);
  EXPECT_FALSE(new_pid.empty());
  EXPECT_NE(new_pid, old_pid);
  EXPECT_EQ(sql.value("SELECT count(*) FROM pg_stat_activity WHERE pid = " + old_pid), "0");
}

/// One change appending a credential leaf at `index` with the entry of `seq` over `root`.
TreeChange append_change(const feed::SigningKey& key, std::uint64_t seq, std::string root,
                         std::string prev_root, std::uint64_t index) {
  TreeChange change;
  change.appended = {credential_leaf(index, std::to_string(500 + index), 40)};
  change.at = kAt;
  change.entry = entry(key, seq, std::move(root), std::move(prev_root), index + 1);
  return change;
}

TEST_P(PostgresIssuerStoreTest, ALostAnswerOfACommitThatLandedIsASuccess) {
  const feed::FeedEntry g = genesis();
  auto& store = static_cast<PostgresIssuerStore&>(*store_);
  const std::uint64_t attempts = store.connect_attempts();
  faults_->lose_commit_answer = true;
  const TreeChange first = append_change(key_, 2, "21", g.root, 0);
  EXPECT_NO_THROW(store.commit(first));
  EXPECT_FALSE(faults_->lose_commit_answer);          // the fault was met
  EXPECT_EQ(store.connect_attempts(), attempts + 1);  // and resolved over a new connection
  Sql sql(PostgresServer::url());
  const std::string schema = "issuer_" + issuer_;
  EXPECT_EQ(sql.value("SELECT count(*) FROM " + schema + ".leaves WHERE leaf_index = 0"), "1");
  EXPECT_EQ(sql.value("SELECT count(*) FROM " + schema + ".feed WHERE seq = 2"), "1");
  // The next append goes on from the adopted head, without a restart.
  EXPECT_NO_THROW(store.commit(append_change(key_, 3, "31", "21", 1)));
  EXPECT_EQ(store.last_entry()->seq, 3u);
  EXPECT_EQ(store.leaf_values().size(), 2u);
  EXPECT_EQ(store.connect_attempts(), attempts + 1);
}

TEST_P(PostgresIssuerStoreTest, ALostAnswerOfTheGenesisThatLandedIsASuccess) {
  auto& store = static_cast<PostgresIssuerStore&>(*store_);
  faults_->lose_commit_answer = true;
  const feed::FeedEntry g = entry(key_, 1, "11", "0", 0);
  EXPECT_TRUE(store.append_genesis(g));
  EXPECT_EQ(store.last_entry(), g);
  EXPECT_NO_THROW(store.commit(append_change(key_, 2, "21", g.root, 0)));
}

TEST_P(PostgresIssuerStoreTest, AConnectionLostBeforeOrDuringCommitWritesNothingAndIsRetryable) {
  const feed::FeedEntry g = genesis();
  Sql sql(PostgresServer::url());
  const std::string schema = "issuer_" + issuer_;
  const TreeChange change = append_change(key_, 2, "21", g.root, 0);
  for (std::atomic<bool>* fault : {&faults_->drop_before_commit, &faults_->lose_commit}) {
    *fault = true;
    try {
      store_->commit(change);
      FAIL() << "a commit that did not land was reported as a success";
    } catch (const core::StoreError& e) {
      EXPECT_EQ(std::string(e.what()).find("restart"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(*fault);
    EXPECT_EQ(sql.value("SELECT count(*) FROM " + schema + ".leaves"), "0");
    EXPECT_EQ(sql.value("SELECT max(seq) FROM " + schema + ".feed"), "1");
    EXPECT_EQ(store_->last_entry(), g);
  }
  // The same change again (the wallet's retry): written once, and the store goes on.
  EXPECT_NO_THROW(store_->commit(change));
  EXPECT_EQ(sql.value("SELECT count(*) FROM " + schema + ".leaves"), "1");
  EXPECT_NO_THROW(store_->commit(append_change(key_, 3, "31", "21", 1)));
}

TEST_P(PostgresIssuerStoreTest, AnotherWritersEntryWithTheSameSeqAndRootIsNotMistakenForOurs) {
  const feed::FeedEntry g = genesis();
  Sql sql(PostgresServer::url());
  const feed::SigningKey other_key = feed::SigningKey::generate();
  // While this node's COMMIT is lost, another node takes the lock and appends an entry under the
  // same seq with the same root (signed by its own key).
  faults_->while_disconnected = [&] {
    wait_until_lock_free();
    PostgresIssuerSettings s = pg_settings();
    s.faults = nullptr;
    PostgresIssuerStore(s).commit(append_change(other_key, 2, "21", g.root, 0));
    wait_until_lock_free();  // that node is gone
  };
  faults_->lose_commit = true;
  try {
    store_->commit(append_change(key_, 2, "21", g.root, 0));
    FAIL() << "another node's entry was taken for this node's";
  } catch (const core::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "moved from seq 1 (root 11) to seq 2 (root 21), another signer's entry,"),
              std::string::npos)
        << e.what();
  }
  // Every later call fails the same way until the node is restarted.
  faults_->while_disconnected = nullptr;
  try {
    store_->last_entry();
    FAIL() << "a node that lost track of the feed went on";
  } catch (const core::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("restart the node"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sql.value("SELECT count(*) FROM issuer_" + issuer_ + ".feed WHERE seq = 2"), "1");
  store_ = open();
  EXPECT_EQ(store_->last_entry()->key_id, other_key.key_id());
}

/// A PostgreSQL server of one test's own (scripts/pg-test-server.sh), which the test can stop and
/// start again on the same port and data directory.
class OwnServer {
 public:
  OwnServer() : dir_("/tmp/proofgate-pgown-" + std::to_string(::getpid())) {
    auto [url, ok] = test::run_shell(script() + " start " + dir_);
    while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
    if (!ok || url.rfind("postgresql://", 0) != 0) throw std::runtime_error("no server: " + url);
    url_ = url;
    port_ = url.substr(url.rfind(':') + 1, url.rfind('/') - url.rfind(':') - 1);
  }
  ~OwnServer() { test::run_shell(script() + " stop " + dir_ + " >/dev/null 2>&1"); }
  const std::string& url() const { return url_; }
  bool stop() { return pg_ctl("stop -D " + dir_ + "/data -m fast -w -t 60"); }
  bool start() {
    return pg_ctl("start -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o '-p " + port_ +
                  "'");
  }

 private:
  static std::string script() {
    return std::string(PROOFGATE_SOURCE_DIR) + "/scripts/pg-test-server.sh";
  }
  // As the script does: PostgreSQL refuses to run as root.
  static bool pg_ctl(const std::string& arguments) {
    const std::string as_owner = ::getuid() == 0 ? "runuser -u postgres -- " : "";
    return test::run_shell(as_owner + "/usr/lib/postgresql/15/bin/pg_ctl " + arguments +
                           " >/dev/null 2>&1")
        .second;
  }
  std::string dir_, url_, port_;
};

TEST_P(PostgresIssuerStoreTest, WhileTheDatabaseIsDownCallsFailFastAndConnectAttemptsBackOff) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  store_.reset();
  OwnServer server;
  PostgresIssuerSettings s = pg_settings();
  s.url = server.url();
  PostgresIssuerStore store(s);
  const feed::FeedEntry g = entry(key_, 1, "11", "0", 0);
  ASSERT_TRUE(store.append_genesis(g));
  ASSERT_TRUE(server.stop());

  // Calls for 1.6 s: the attempts come 100, 200, 400, 800 ms apart (about 5 of them), every
  // other call fails at once naming the wait.
  const std::uint64_t before = store.connect_attempts();
  std::vector<Clock::time_point> attempts;
  std::size_t calls = 0, fast = 0;
  const Clock::time_point begin = Clock::now();
  while (Clock::now() - begin < milliseconds(1600)) {
    const std::uint64_t seen = store.connect_attempts();
    try {
      store.last_entry();
      FAIL() << "a call succeeded while the server was stopped";
      break;
    } catch (const core::StoreError& e) {
      if (std::string(e.what()).find("issuer database unreachable; next attempt in ") !=
          std::string::npos) {
        ++fast;
      }
    }
    ++calls;
    if (store.connect_attempts() != seen) attempts.push_back(Clock::now());
    std::this_thread::sleep_for(milliseconds(2));  // the back-off is what is measured
  }
  EXPECT_EQ(store.connect_attempts() - before, attempts.size());
  EXPECT_GE(attempts.size(), 3u);
  EXPECT_LE(attempts.size(), 7u);
  EXPECT_GT(fast, calls / 2) << calls << " calls, " << fast << " failed fast";
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    const milliseconds gap =
        std::chrono::duration_cast<milliseconds>(attempts[i] - attempts[i - 1]);
    EXPECT_GE(gap.count(), 90 * (1 << (i - 1))) << "gap " << i;  // 100 ms doubling, loosely
  }

  // Started again: calls succeed again without a new store (a node restart).
  ASSERT_TRUE(server.start());
  std::optional<feed::FeedEntry> last;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(20);
  while (!last && Clock::now() < deadline) {
    try {
      last = store.last_entry();
    } catch (const core::StoreError&) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, g);
  EXPECT_NO_THROW(store.commit(append_change(key_, 2, "21", g.root, 0)));
}

TEST_P(PostgresIssuerStoreTest, ALostAnswerWhileTheDatabaseIsDownIsDecidedByTheNextReconnect) {
  using Clock = std::chrono::steady_clock;
  store_.reset();
  OwnServer server;
  PostgresIssuerSettings s = pg_settings();
  s.url = server.url();
  PostgresIssuerStore store(s);
  const feed::FeedEntry g = entry(key_, 1, "11", "0", 0);
  ASSERT_TRUE(store.append_genesis(g));
  faults_->while_disconnected = [&] { ASSERT_TRUE(server.stop()); };
  // The first call after the server is back that does not fail for the wait itself; its error
  // ("" when it succeeds).
  const auto after_restart = [&](const std::function<void()>& call) -> std::string {
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      try {
        call();
        return "";
      } catch (const core::StoreError& e) {
        const std::string what = e.what();
        if (what.find("next attempt in") == std::string::npos) return what;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "timed out";
  };
  const auto expect_undecided = [&](const TreeChange& change) {
    try {
      store.commit(change);
      FAIL() << "a commit whose fate is unknown was reported as a success";
    } catch (const core::StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("the change may have been written"), std::string::npos)
          << e.what();
    }
    ASSERT_TRUE(server.start());
  };

  // Not written: once the server is back the store goes on, and the change commits once.
  faults_->lose_commit = true;
  const TreeChange change = append_change(key_, 2, "21", g.root, 0);
  expect_undecided(change);
  EXPECT_EQ(after_restart([&] { EXPECT_EQ(store.last_entry(), g); }), "");
  EXPECT_NO_THROW(store.commit(change));

  // Written, but the node was told it failed: its tree lacks the entry, so it stops.
  faults_->lose_commit_answer = true;
  expect_undecided(append_change(key_, 3, "31", "21", 1));
  const std::string error = after_restart([&] { store.last_entry(); });
  EXPECT_NE(error.find("holds seq 3 (root 31), a write reported as failed"), std::string::npos)
      << error;
  EXPECT_THROW(store.leaf_values(), core::StoreError);
}

TEST_P(PostgresIssuerStoreTest, AMalformedUrlIsNamedWithoutQuotingItsPassword) {
  PostgresIssuerSettings bad = pg_settings();
  bad.url = "postgresql://proofgate:se%zzcret-pw@127.0.0.1:1/proofgate";
  try {
    PostgresIssuerStore store(bad);
    FAIL() << "a malformed URL was accepted";
  } catch (const core::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("the database URL is malformed"), std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("cret-pw"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresIssuerStoreTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg::issuer
