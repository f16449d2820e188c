// The issuer node (src/issuer/node.hpp, http_routes.hpp) on a real SQLite store in a temporary
// directory with an in-memory authority: enrolment, authority failures, limits, revocation, roots
// that never repeat, restart, a corrupted store, the admin token, the feed (ETag, long poll) and
// key rotation followed by a feed::ChainState, credential offers (link and QR code).
#include "issuer/node.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "core/secrets.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "crypto/uint256.hpp"
#include "http/qr.hpp"
#include "issuer/http_routes.hpp"
#include "issuer/sqlite_issuer_store.hpp"

namespace pg::issuer {
namespace {

namespace fs = std::filesystem;
using crypto::Fr;
using namespace std::chrono_literals;

constexpr std::string_view kRecord = "27-01-74-05123";
constexpr std::string_view kRecord2 = "27-01-74-05124";
constexpr std::string_view kCommitment = "12345678901234567890";
constexpr std::string_view kAdminToken = "pga_test-admin-token";

Fr fr(std::string_view decimal) {
  crypto::Limbs limbs{};
  EXPECT_TRUE(crypto::limbs_from_decimal(decimal, limbs)) << decimal;
  return Fr::from_canonical(limbs);
}
std::string dec(const Fr& v) {
  return crypto::snarkjs::to_decimal(v.to_canonical());
}

/// decodeURIComponent, as the wallet's parseOffer reads the link; nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = core::hex_digit_value(s[i + 1]), lo = core::hex_digit_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

/// The query parameters of an offer link after its prefix, decoded; fails the test when the link
/// is not `proofgate-wallet://enroll?name=value&...`.
std::map<std::string, std::string> offer_params(std::string_view link) {
  constexpr std::string_view kPrefix = "proofgate-wallet://enroll?";
  std::map<std::string, std::string> params;
  EXPECT_TRUE(link.starts_with(kPrefix)) << link;
  if (!link.starts_with(kPrefix)) return params;
  std::string_view query = link.substr(kPrefix.size());
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    EXPECT_NE(eq, std::string_view::npos) << pair;
    if (eq == std::string_view::npos) return params;
    const std::optional<std::string> value = percent_decode(pair.substr(eq + 1));
    EXPECT_TRUE(value) << pair;
    EXPECT_TRUE(params.emplace(std::string(pair.substr(0, eq)), value.value_or("")).second)
        << "twice: " << pair;
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return params;
}

/// The authority in memory: records with a current code each (single use), and a failure to
/// give instead of an answer when set.
class FakeAuthority final : public AuthorityPort {
 public:
  AuthorityResult<CodeSent> send_code(std::string_view record) override {
    std::lock_guard lock(mu_);
    ++send_calls;
    if (failure) return *failure;
    if (!records_.contains(std::string(record))) {
      return AuthorityFailure{AuthorityFailure::Kind::kUnknownRecord, "unknown", 0};
    }
    codes_[std::string(record)] = "123456";
    return CodeSent{"98******67", 300};
  }
  AuthorityResult<AuthorityRecord> fetch_record(std::string_view record,
                                                std::string_view code) override {
    std::lock_guard lock(mu_);
    ++fetch_calls;
    if (failure) return *failure;
    const auto it = records_.find(std::string(record));
    if (it == records_.end()) {
      return AuthorityFailure{AuthorityFailure::Kind::kUnknownRecord, "unknown", 0};
    }
    const auto c = codes_.find(std::string(record));
    if (c == codes_.end()) return AuthorityFailure{AuthorityFailure::Kind::kCodeExpired, "", 0};
    if (c->second != code) return AuthorityFailure{AuthorityFailure::Kind::kWrongCode, "", 0};
    codes_.erase(c);  // single use
    if (answer_other_number) {
      MohaRecord other = std::get<MohaRecord>(it->second);
      other.certificate_no = "99-99-99-99999";
      return AuthorityRecord{other};
    }
    return it->second;
  }
  void add(std::string_view number) {
    std::lock_guard lock(mu_);
    records_[std::string(number)] =
        MohaRecord{std::string(number), "Sita Sharma", "2058-08-16", "9841234567"};
  }

  std::optional<AuthorityFailure> failure;
  bool answer_other_number = false;
  int send_calls = 0, fetch_calls = 0;

 private:
  std::mutex mu_;
  std::map<std::string, AuthorityRecord> records_;
  std::map<std::string, std::string> codes_;
};

/// A stand-in for credential_attributes: every MOHA record is born 2001-12-01 in Nepal.
crypto::Result<CredentialAttributes, std::string> convert(const AuthorityRecord& record,
                                                          std::uint32_t today) {
  if (!std::holds_alternative<MohaRecord>(record)) return std::string("not a MOHA record");
  CredentialAttributes a;
  a.issuer_id = 1;
  a.schema_id = 1;
  a.schema = "identity";
  a.attributes = {{"birth_date", 20011201}, {"country", 524}};
  a.expiry = today + 100000;  // ten years on
  return a;
}

class IssuerNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/issuer-node-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_dir_ = tmpl;
    data_dir_ = root_dir_ / "data";
    authority_.add(kRecord);
    authority_.add(kRecord2);
    const auto digest = core::sha256(kAdminToken);
    std::copy(digest.begin(), digest.end(), token_sha256_.begin());
    open();
  }
  void TearDown() override {
    node_.reset();
    fs::remove_all(root_dir_);
  }

  NodeSettings settings() {
    NodeSettings s;
    s.kind = AuthorityKind::kMoha;
    s.data_dir = data_dir_;
    s.public_url = "http://issuer.test";
    s.limits = limits_;
    return s;
  }
  NodeDeps deps() {
    NodeDeps d;
    d.authority = &authority_;
    d.convert = convert;
    d.today = [](std::int64_t) { return 20261205u; };
    d.now = [this] { return now_.load(); };
    return d;
  }
  void open() {
    node_.reset();
    node_ = std::make_unique<IssuerNode>(settings(), deps());
  }

  NodeResult<IssuedCredential> enrol(std::string_view record = kRecord,
                                     std::string_view commitment = kCommitment) {
    auto sent = node_->start_enrolment(record, "10.0.0.1");
    EXPECT_TRUE(sent.ok());
    return node_->complete_enrolment(record, "123456", commitment, "10.0.0.1");
  }

  http::HttpReply call(std::string_view method, const std::string& target,
                       const std::string& body = "", const std::string& authorization = "",
                       const std::string& if_none_match = "") {
    http::HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.authorization = authorization;
    r.if_none_match = if_none_match;
    r.peer_address = "10.0.0.9";
    return handle_issuer_request(*node_, token_sha256_, r);
  }
  std::string bearer() { return "Bearer " + std::string(kAdminToken); }

  /// A follower trusting the node's first key follows the whole feed; returns the entries.
  std::vector<feed::FeedEntry> follow_feed() {
    const std::vector<KeyRecord> keys = node_->keys();
    feed::ChainState chain(1, {{keys.front().key_id, keys.front().public_key, 0}});
    std::set<std::string> seen;
    const FeedAnswer answer = node_->feed_since(0, 0ms);
    for (const feed::FeedEntry& e : answer.entries) {
      const feed::ChainState::Verdict verdict = chain.accept(e, seen.contains(e.root));
      EXPECT_FALSE(verdict.refusal) << "seq " << e.seq << ": " << verdict.detail;
      seen.insert(e.root);
    }
    EXPECT_EQ(chain.seq(), answer.last_seq);
    return answer.entries;
  }

  fs::path root_dir_, data_dir_;
  FakeAuthority authority_;
  NodeLimits limits_;
  std::atomic<std::int64_t> now_{1764900000000};
  std::array<std::uint8_t, 32> token_sha256_{};
  std::unique_ptr<IssuerNode> node_;
};

TEST(RateLimiterTest, ABucketRefillsAtItsRateAndNamesTheWait) {
  RateLimiter limiter(2, 10'000);  // 2 per 10 s
  EXPECT_EQ(limiter.take("a", 0), 0u);
  EXPECT_EQ(limiter.take("a", 0), 0u);
  EXPECT_EQ(limiter.take("a", 0), 5u);      // one token back after 5 s
  EXPECT_EQ(limiter.take("b", 0), 0u);      // another key has its own bucket
  EXPECT_EQ(limiter.take("a", 5'000), 0u);  // refilled
  EXPECT_EQ(limiter.take("a", 4'000), 5u);  // a clock stepping back adds nothing
}

TEST(RateLimiterTest, ABurstOfNewKeysNeverFreesABucketThatIsHoldingSomeoneBack) {
  RateLimiter limiter(3, 600'000, 16);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.take("target", 0), 0u);
  ASSERT_GT(limiter.take("target", 0), 0u);
  // Far more distinct keys than the map holds, each leaving its bucket almost full.
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(limiter.take("spray-" + std::to_string(i), 1), 0u) << i;
    ASSERT_GT(limiter.take("target", 1), 0u) << "the target's bucket was dropped after key " << i;
  }
}

TEST_F(IssuerNodeTest, StartsWithTheGenesisEntryAndPrivateFiles) {
  const FeedAnswer feed = node_->feed_since(0, 0ms);
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].seq, 1u);
  EXPECT_EQ(feed.entries[0].prev_root, "0");
  EXPECT_EQ(feed.entries[0].root, dec(MerkleTree::empty_root(kTreeDepth)));
  EXPECT_EQ(feed.entries[0].leaf_count, 0u);
  follow_feed();
  const auto mode = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  };
  EXPECT_EQ(mode(data_dir_), 0700u);
  EXPECT_EQ(mode(data_dir_ / "pepper"), 0600u);
  EXPECT_EQ(mode(data_dir_ / "signing.key"), 0600u);
  EXPECT_EQ(mode(data_dir_ / "issuer.db"), 0600u);
}

TEST_F(IssuerNodeTest, EnrolmentGivesTheCredentialWithAPathToTheSignedRoot) {
  auto issued = enrol();
  ASSERT_TRUE(issued.ok()) << issued.error().detail;
  EXPECT_TRUE(issued->created);
  const boost::json::object& c = issued->credential;
  EXPECT_EQ(c.at("issuer"), "moha");
  EXPECT_EQ(c.at("issuer_id"), 1);
  EXPECT_EQ(c.at("issuer_url"), "http://issuer.test");
  EXPECT_EQ(c.at("schema"), "identity");
  EXPECT_EQ(c.at("schema_id"), 1);
  EXPECT_EQ(c.at("attributes"), (boost::json::object{{"birth_date", 20011201}, {"country", 524}}));
  EXPECT_EQ(c.at("expiry"), 20361205);
  EXPECT_EQ(c.at("leaf_index"), 0);
  EXPECT_EQ(c.at("root_seq"), 2);
  // Leaf = Poseidon(issuer_id, schema_id, commitment, birth_date, country, expiry).
  const std::array<Fr, 6> inputs{Fr::from_u64(1),        Fr::from_u64(1),   fr(kCommitment),
                                 Fr::from_u64(20011201), Fr::from_u64(524), Fr::from_u64(20361205)};
  const Fr leaf = crypto::poseidon_hash(inputs);
  EXPECT_EQ(c.at("leaf").as_string(), dec(leaf));
  MerklePath path;
  ASSERT_EQ(c.at("siblings").as_array().size(), 20u);
  ASSERT_EQ(c.at("path_indices").as_array().size(), 20u);
  for (const auto& s : c.at("siblings").as_array()) path.siblings.push_back(fr(s.as_string()));
  for (const auto& i : c.at("path_indices").as_array()) {
    path.path_indices.push_back(i.to_number<std::uint8_t>());
  }
  EXPECT_EQ(dec(MerkleTree::root_from_path(leaf, path)), c.at("root").as_string());

  const std::vector<feed::FeedEntry> entries = follow_feed();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].root, c.at("root").as_string());
  EXPECT_EQ(entries[1].leaf_count, 1u);

  // Through HTTP: 201 with the same shape.
  authority_.add("27-01-74-05125");
  EXPECT_EQ(call("POST", "/issuer/v1/enrolments", R"({"record":"27-01-74-05125"})").status, 202);
  const http::HttpReply created =
      call("POST", "/issuer/v1/enrolments/complete",
           R"({"record":"27-01-74-05125","code":"123456","holder_commitment":"77"})");
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(boost::json::parse(created.body).at("leaf_index"), 1);
}

TEST_F(IssuerNodeTest, TheSameCompletionTwiceGivesOneLeaf) {
  auto first = enrol();
  ASSERT_TRUE(first.ok());
  // The retry carries the same record, code and commitment; the code is spent at the authority.
  auto again = node_->complete_enrolment(kRecord, "123456", kCommitment, "10.0.0.1");
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->credential.at("leaf_index"), first->credential.at("leaf_index"));
  EXPECT_EQ(again->credential.at("leaf"), first->credential.at("leaf"));
  EXPECT_EQ(authority_.fetch_calls, 1);
  EXPECT_EQ(node_->current_root().second, 2u);
  // A new code for the same holder and record: the same credential again, 200 over HTTP.
  ASSERT_TRUE(node_->start_enrolment(kRecord, "10.0.0.1").ok());
  const http::HttpReply reply = call(
      "POST", "/issuer/v1/enrolments/complete",
      R"({"record":"27-01-74-05123","code":"123456","holder_commitment":"12345678901234567890"})");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(node_->stats("test").leaf_count, 1u);
  // A wrong code for an existing credential is not a retry: the authority says so.
  EXPECT_EQ(node_->complete_enrolment(kRecord, "654321", kCommitment, "10.0.0.1").error().code,
            NodeErrorCode::kWrongCode);
}

TEST_F(IssuerNodeTest, AuthorityFailuresMapToTheirErrorsAndLeaveTheTreeUnchanged) {
  using K = AuthorityFailure::Kind;
  const std::vector<std::pair<K, NodeErrorCode>> cases{
      {K::kUnknownRecord, NodeErrorCode::kUnknownRecord},
      {K::kWrongCode, NodeErrorCode::kWrongCode},
      {K::kCodeExpired, NodeErrorCode::kCodeExpired},
      {K::kLockedOut, NodeErrorCode::kLockedOut},
      {K::kUnavailable, NodeErrorCode::kAuthorityUnavailable},
      {K::kBadAnswer, NodeErrorCode::kAuthorityBadAnswer}};
  const auto before = node_->current_root();
  for (const auto& [kind, code] : cases) {
    now_ += 10 * 60 * 1000;  // past the per-record limits
    authority_.failure = AuthorityFailure{kind, "test", 7};
    auto started = node_->start_enrolment(kRecord2, "10.0.0.2");
    ASSERT_FALSE(started.ok());
    EXPECT_EQ(started.error().code, code);
    auto completed = node_->complete_enrolment(kRecord2, "123456", kCommitment, "10.0.0.3");
    ASSERT_FALSE(completed.ok());
    EXPECT_EQ(completed.error().code, code) << error_code_name(code);
    EXPECT_EQ(node_->current_root(), before);
  }
  // Locked out: 429 with the authority's Retry-After.
  now_ += 10 * 60 * 1000;
  authority_.failure = AuthorityFailure{K::kLockedOut, "locked", 900};
  const http::HttpReply locked =
      call("POST", "/issuer/v1/enrolments", R"({"record":"27-01-74-05124"})");
  EXPECT_EQ(locked.status, 429);
  EXPECT_NE(std::find(locked.headers.begin(), locked.headers.end(),
                      std::pair<std::string, std::string>{"Retry-After", "900"}),
            locked.headers.end());
  EXPECT_EQ(boost::json::parse(locked.body).at("error_code"), "LOCKED_OUT");
  // A record of another number than asked is a bad answer, and nothing is appended.
  authority_.failure.reset();
  authority_.answer_other_number = true;
  now_ += 10 * 60 * 1000;
  auto other = enrol(kRecord2);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, NodeErrorCode::kAuthorityBadAnswer);
  EXPECT_EQ(node_->current_root(), before);
  EXPECT_EQ(node_->stats("test").authority_failures, 14u);  // 6 kinds x 2 calls, locked, other
}

TEST_F(IssuerNodeTest, BadInputIsRefusedBeforeAnyAuthorityCall) {
  EXPECT_EQ(node_->start_enrolment("27-01-74-0512", "a").error().code,
            NodeErrorCode::kInvalidRequest);
  EXPECT_EQ(node_->start_enrolment("301234567", "a").error().code, NodeErrorCode::kInvalidRequest);
  const std::string r =
      "21888242871839275222246405745257275088548364400416034343698204186575808495617";
  for (const std::string& bad : {std::string("0"), std::string("012"), r, std::string("-1"),
                                 std::string("1e3"), std::string("")}) {
    const auto e = node_->complete_enrolment(kRecord, "123456", bad, "a");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().code, NodeErrorCode::kInvalidRequest);
    EXPECT_NE(e.error().detail.find("holder_commitment"), std::string::npos);
  }
  EXPECT_EQ(node_->complete_enrolment(kRecord, "12345", kCommitment, "a").error().code,
            NodeErrorCode::kInvalidRequest);
  EXPECT_EQ(authority_.send_calls + authority_.fetch_calls, 0);
  // Strict bodies: an unknown member, a missing one, a wrong type — each named.
  const auto detail = [](const http::HttpReply& r) {
    EXPECT_EQ(r.status, 400);
    return std::string(boost::json::parse(r.body).at("detail").as_string());
  };
  EXPECT_EQ(detail(call("POST", "/issuer/v1/enrolments", R"({"record":"27-01-74-05123","x":1})")),
            "x: unknown member");
  EXPECT_EQ(detail(call("POST", "/issuer/v1/enrolments", R"({})")), "record: required, a string");
  EXPECT_EQ(detail(call("POST", "/issuer/v1/enrolments", R"({"record":5})")),
            "record: required, a string");
  EXPECT_EQ(detail(call("POST", "/issuer/v1/enrolments", "not json")),
            "body: must be a JSON object");
}

TEST_F(IssuerNodeTest, RateLimitsPerRecordAndPerAddress) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(node_->start_enrolment(kRecord, "10.1.0." + std::to_string(i)).ok());
  auto limited = node_->start_enrolment(kRecord, "10.1.0.9");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, NodeErrorCode::kRateLimited);
  EXPECT_GT(limited.error().retry_after_s, 0u);
  EXPECT_EQ(authority_.send_calls, 5);
  now_ += 10 * 60 * 1000;  // the bucket refills over ten minutes
  EXPECT_TRUE(node_->start_enrolment(kRecord, "10.1.0.9").ok());

  // Per address: 30 a minute over any records.
  for (int i = 0; i < 30; ++i) {
    const auto r = node_->start_enrolment("27-01-74-0" + std::to_string(6000 + i), "10.2.0.1");
    ASSERT_NE(r.ok() ? NodeErrorCode::kInternal : r.error().code, NodeErrorCode::kRateLimited);
  }
  const http::HttpReply reply = [&] {
    http::HttpRequest r;
    r.method = "POST";
    r.target = "/issuer/v1/enrolments";
    r.body = R"({"record":"27-01-74-05124"})";
    r.peer_address = "10.2.0.1";
    return handle_issuer_request(*node_, token_sha256_, r);
  }();
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(boost::json::parse(reply.body).at("error_code"), "RATE_LIMITED");
  EXPECT_TRUE(std::any_of(reply.headers.begin(), reply.headers.end(),
                          [](const auto& h) { return h.first == "Retry-After"; }));
}

TEST_F(IssuerNodeTest, RevocationZeroesTheLeafAndPublishesAFreshRoot) {
  ASSERT_TRUE(enrol().ok());
  ASSERT_TRUE(enrol(kRecord2, "99").ok());
  const http::HttpReply revoked = call("POST", "/issuer/v1/admin/credentials/0/revoke",
                                       R"({"reason":"court order"})", bearer());
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  const boost::json::value answer = boost::json::parse(revoked.body);
  EXPECT_EQ(answer.at("root_seq"), 4);
  EXPECT_EQ(node_->store().leaf(0)->leaf, "0");
  const http::HttpReply path = call("GET", "/issuer/v1/credentials/0");
  EXPECT_EQ(path.status, 410);
  EXPECT_EQ(boost::json::parse(path.body).at("error_code"), "REVOKED");
  // The other credential's path leads to the new root.
  const http::HttpReply other = call("GET", "/issuer/v1/credentials/1");
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(boost::json::parse(other.body).at("root"), answer.at("root"));
  EXPECT_EQ(call("GET", "/issuer/v1/credentials/7").status, 404);
  // Revoking again, or a leaf that is no credential, is refused.
  EXPECT_EQ(node_->revoke(0, "again", "t").error().code, NodeErrorCode::kRevoked);
  EXPECT_EQ(node_->revoke(9, "none", "t").error().code, NodeErrorCode::kNotFound);
  follow_feed();
  // The admin list says which is which.
  const http::HttpReply list =
      call("GET", "/issuer/v1/admin/credentials?after=0&limit=5", "", bearer());
  ASSERT_EQ(list.status, 200);
  const boost::json::value listed = boost::json::parse(list.body);
  const auto& items = listed.at("credentials").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("leaf_index"), 1);
  EXPECT_EQ(items[0].at("status"), "active");
}

TEST_F(IssuerNodeTest, RootsNeverRepeatAppendThenRevokeAddsAPaddingLeaf) {
  ASSERT_TRUE(enrol().ok());
  ASSERT_TRUE(node_->revoke(0, "test", "t").ok());
  // Leaf 0 set to 0 would give the empty tree's root again (seq 1's): a padding leaf follows.
  const std::vector<feed::FeedEntry> entries = follow_feed();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].leaf_count, 2u);
  EXPECT_NE(entries[2].root, entries[0].root);
  const std::optional<StoredLeaf> padding = node_->store().leaf(1);
  ASSERT_TRUE(padding);
  EXPECT_TRUE(padding->padding);
  EXPECT_NE(padding->leaf, "0");
  EXPECT_EQ(call("GET", "/issuer/v1/credentials/1").status, 404);  // never a credential
  std::set<std::string> roots;
  for (const auto& e : entries) EXPECT_TRUE(roots.insert(e.root).second);
}

TEST_F(IssuerNodeTest, ADataDirectoryWithAChainNeverStartsASecondOneOrANewPepper) {
  ASSERT_TRUE(enrol().ok());
  node_.reset();
  EXPECT_EQ(fs::status(data_dir_ / "chain").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const auto refused = [&](const std::string& needle) {
    try {
      open();
      ADD_FAILURE() << "started; expected a refusal naming " << needle;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // The store is lost (or the node points at another, empty one): no fresh genesis.
  const fs::path saved = root_dir_ / "saved";
  fs::create_directories(saved);
  for (const char* f : {"issuer.db", "issuer.db-wal", "issuer.db-shm", "pepper"}) {
    if (fs::exists(data_dir_ / f)) fs::copy_file(data_dir_ / f, saved / f);
  }
  for (const char* f : {"issuer.db", "issuer.db-wal", "issuer.db-shm"}) fs::remove(data_dir_ / f);
  refused("the store is empty but this data directory already has a chain");
  for (const char* f : {"issuer.db", "issuer.db-wal", "issuer.db-shm"}) {
    fs::remove(data_dir_ / f);
    if (fs::exists(saved / f)) fs::copy_file(saved / f, data_dir_ / f);
  }
  // The pepper is lost or replaced: refused, never regenerated.
  fs::remove(data_dir_ / "pepper");
  refused("pepper is missing but this data directory already has a chain");
  EXPECT_FALSE(fs::exists(data_dir_ / "pepper"));
  { std::ofstream(data_dir_ / "pepper", std::ios::binary) << std::string(32, 'x'); }
  refused("the pepper was replaced");
  // Everything back: the node starts on its chain.
  fs::remove(data_dir_ / "pepper");
  fs::copy_file(saved / "pepper", data_dir_ / "pepper");
  open();
  EXPECT_EQ(node_->current_root().second, 2u);
}

TEST_F(IssuerNodeTest, RestartRebuildsTheSameRootAndContinuesTheChain) {
  ASSERT_TRUE(enrol().ok());
  ASSERT_TRUE(node_->revoke(0, "test", "t").ok());
  const auto before = node_->current_root();
  open();
  EXPECT_EQ(node_->current_root(), before);
  ASSERT_TRUE(enrol(kRecord2, "5").ok());
  EXPECT_EQ(node_->current_root().second, before.second + 1);
  EXPECT_EQ(follow_feed().size(), before.second + 1);
}

/// A store that fails the calls a change of the tree makes (root_published, commit, and
/// leaf_values, the rebuild) while `down` is set: a database that went away mid-change.
class OutageStore final : public IssuerStore {
 public:
  OutageStore(const fs::path& file, std::atomic<bool>& down)
      : inner_(std::make_unique<SqliteIssuerStore>(file)), down_(down) {}
  std::vector<std::string> leaf_values() override {
    check();
    return inner_->leaf_values();
  }
  std::optional<StoredLeaf> leaf(std::uint64_t index) override { return inner_->leaf(index); }
  std::optional<StoredLeaf> find_credential(const Mac& subject,
                                            std::string_view holder_commitment) override {
    return inner_->find_credential(subject, holder_commitment);
  }
  std::vector<StoredLeaf> list_credentials(std::int64_t after, std::size_t limit) override {
    return inner_->list_credentials(after, limit);
  }
  std::pair<std::uint64_t, std::uint64_t> credential_counts() override {
    return inner_->credential_counts();
  }
  std::optional<feed::FeedEntry> last_entry() override { return inner_->last_entry(); }
  std::vector<feed::FeedEntry> entries_since(std::uint64_t since, std::size_t limit) override {
    return inner_->entries_since(since, limit);
  }
  bool root_published(std::string_view root) override {
    check();
    return inner_->root_published(root);
  }
  bool append_genesis(const feed::FeedEntry& entry) override {
    return inner_->append_genesis(entry);
  }
  void commit(const TreeChange& change) override {
    check();
    inner_->commit(change);
  }
  void record_audit(const AuditRecord& record) override { inner_->record_audit(record); }
  std::vector<AuditRecord> audit_trail(std::size_t limit) override {
    return inner_->audit_trail(limit);
  }
  std::vector<AuditRow> audit_page(std::int64_t before, std::size_t limit) override {
    return inner_->audit_page(before, limit);
  }
  std::vector<KeyRecord> keys() override { return inner_->keys(); }
  void insert_key(const KeyRecord& key) override { inner_->insert_key(key); }

 private:
  void check() {
    if (down_) throw core::StoreError("issuer database unreachable (test outage)");
  }
  std::unique_ptr<SqliteIssuerStore> inner_;
  std::atomic<bool>& down_;
};

TEST_F(IssuerNodeTest, AChangeTheStoreDidNotTakeLeavesTheTreeAsItWasWithoutReadingTheStore) {
  std::atomic<bool> down{false};
  NodeDeps d = deps();
  d.open_store = [&] { return std::make_unique<OutageStore>(root_dir_ / "outage.db", down); };
  NodeSettings s = settings();
  s.data_dir = root_dir_ / "outage-data";  // the fixture's node has a chain in data_dir_
  node_.reset();
  node_ = std::make_unique<IssuerNode>(s, d);
  ASSERT_TRUE(enrol().ok());
  const auto before = node_->current_root();

  ASSERT_TRUE(node_->start_enrolment(kRecord2, "10.0.0.1").ok());
  down = true;
  const auto failed = node_->complete_enrolment(kRecord2, "123456", "99", "10.0.0.1");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, NodeErrorCode::kInternal);
  EXPECT_FALSE(node_->revoke(0, "outage", "t").ok());
  down = false;

  EXPECT_EQ(node_->current_root(), before);
  EXPECT_EQ(node_->stats("t").leaf_count, 1u);
  // The revocation undone in memory too: credential 0's path still leads to the current root.
  const http::HttpReply path = call("GET", "/issuer/v1/credentials/0");
  ASSERT_EQ(path.status, 200) << path.body;
  EXPECT_EQ(boost::json::parse(path.body).at("root").as_string(), before.first);
  // Back up: the next credential takes the next index, and the chain and a restart agree.
  authority_.add("27-01-74-05125");
  auto next = enrol("27-01-74-05125", "98");
  ASSERT_TRUE(next.ok()) << next.error().detail;
  EXPECT_EQ(next->credential.at("leaf_index"), 1);
  ASSERT_TRUE(node_->revoke(0, "after the outage", "t").ok());
  const auto after = node_->current_root();
  EXPECT_EQ(follow_feed().size(), after.second);
  node_.reset();
  node_ = std::make_unique<IssuerNode>(s, d);
  EXPECT_EQ(node_->current_root(), after);
}

TEST_F(IssuerNodeTest, ACorruptedStoreRefusesToStartNamingBothRoots) {
  ASSERT_TRUE(enrol().ok());
  const std::string root = node_->current_root().first;
  node_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_dir_ / "issuer.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE leaves SET leaf = '5' WHERE leaf_index = 0", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  try {
    open();
    FAIL() << "the node started on a corrupted store";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(root), std::string::npos) << message;
    EXPECT_NE(message.find("refusing to start"), std::string::npos) << message;
    EXPECT_NE(message.find("root "), message.rfind("root ")) << message;  // both named
  }
}

TEST_F(IssuerNodeTest, AdminRoutesNeedTheTokenAndAreAudited) {
  ASSERT_TRUE(enrol().ok());
  EXPECT_EQ(call("GET", "/issuer/v1/admin/stats").status, 401);
  EXPECT_EQ(call("GET", "/issuer/v1/admin/stats", "", "Bearer wrong").status, 401);
  EXPECT_EQ(call("POST", "/issuer/v1/admin/credentials/0/revoke", R"({"reason":"x"})",
                 "Bearer pga_test-admin-tokeN")
                .status,
            401);
  EXPECT_EQ(node_->store().leaf(0)->revoked_at, 0);
  const http::HttpReply stats = call("GET", "/issuer/v1/admin/stats", "", bearer());
  ASSERT_EQ(stats.status, 200);
  const boost::json::value s = boost::json::parse(stats.body);
  EXPECT_EQ(s.at("leaf_count"), 1);
  EXPECT_EQ(s.at("revoked"), 0);
  EXPECT_EQ(s.at("root_seq"), 2);
  EXPECT_EQ(s.at("authority").at("calls"), 2);
  EXPECT_EQ(s.at("authority").at("breaker"), "closed");
  ASSERT_EQ(call("POST", "/issuer/v1/admin/credentials/0/revoke", R"({"reason":"fraud"})", bearer())
                .status,
            200);
  std::multiset<std::string> actions;
  for (const AuditRecord& a : node_->store().audit_trail(50)) {
    actions.insert(a.action);
    EXPECT_EQ(a.actor, "admin@10.0.0.9");
  }
  EXPECT_EQ(actions.count("unauthorized"), 3u);
  EXPECT_EQ(actions.count("stats"), 1u);
  EXPECT_EQ(actions.count("revoke"), 1u);
}

TEST_F(IssuerNodeTest, TheAuditRouteIsPagedNewestFirstAndRefusesBadCursors) {
  ASSERT_TRUE(enrol().ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(call("GET", "/issuer/v1/admin/stats", "", bearer()).status, 200);
  EXPECT_EQ(call("GET", "/issuer/v1/admin/audit").status, 401);
  const std::size_t stored = node_->store().audit_trail(1000).size();

  // Pages of 2 down to the oldest record: ids strictly decreasing, none twice, every record seen.
  std::vector<std::int64_t> ids;
  std::multiset<std::string> actions;
  std::string target = "/issuer/v1/admin/audit?limit=2";
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 50) << "the cursor never ends";
    const http::HttpReply r = call("GET", target, "", bearer());
    ASSERT_EQ(r.status, 200) << r.body;
    const boost::json::object page = boost::json::parse(r.body).as_object();
    const boost::json::array& entries = page.at("entries").as_array();
    ASSERT_LE(entries.size(), 2u);
    if (pages == 0) {
      EXPECT_EQ(entries.at(0).at("action"), "read_audit");  // this read, first
    }
    for (const boost::json::value& e : entries) {
      const std::int64_t id = e.at("id").as_int64();
      if (!ids.empty()) {
        EXPECT_LT(id, ids.back());
      }
      ids.push_back(id);
      actions.insert(std::string(e.at("action").as_string()));
      EXPECT_EQ(e.at("actor"), "admin@10.0.0.9");
    }
    if (page.at("next_before").is_null()) break;
    EXPECT_EQ(page.at("next_before").as_int64(), ids.back());
    target = "/issuer/v1/admin/audit?limit=2&before=" + std::to_string(ids.back());
  }
  // Every record stored before the first read, plus the first page's own read_audit record.
  EXPECT_EQ(ids.size(), stored + 1);
  EXPECT_EQ(ids.back(), 1);
  EXPECT_EQ(actions.count("unauthorized"), 1u);
  EXPECT_EQ(actions.count("stats"), 3u);

  for (const char* bad :
       {"before=0", "before=-1", "before=x", "before=01", "limit=0", "limit=501", "limit=1.5"}) {
    const http::HttpReply r =
        call("GET", std::string("/issuer/v1/admin/audit?") + bad, "", bearer());
    EXPECT_EQ(r.status, 400) << bad;
    const std::string field(bad, std::string_view(bad).find('='));
    EXPECT_NE(r.body.find(field + ":"), std::string::npos) << r.body;
  }
  EXPECT_EQ(call("POST", "/issuer/v1/admin/audit", "{}", bearer()).status, 404);
}

TEST_F(IssuerNodeTest, StatsShowTheAdaptersAttemptsRetriesAndFastFails) {
  NodeDeps d = deps();
  d.adapter_counters = [] { return std::array<std::uint64_t, 3>{7, 3, 1}; };
  node_.reset();
  node_ = std::make_unique<IssuerNode>(settings(), d);
  const http::HttpReply stats = call("GET", "/issuer/v1/admin/stats", "", bearer());
  ASSERT_EQ(stats.status, 200);
  const boost::json::value a = boost::json::parse(stats.body).at("authority");
  EXPECT_EQ(a.at("attempts"), 7);
  EXPECT_EQ(a.at("retries"), 3);
  EXPECT_EQ(a.at("fast_fails"), 1);
}

TEST_F(IssuerNodeTest, TheConsoleIsServedUnderAStrictCspAndNothingElseUnderItsPath) {
  const auto header = [](const http::HttpReply& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return std::string();
  };
  const http::HttpReply page = call("GET", "/issuer/console");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  ASSERT_TRUE(page.shared_body);
  EXPECT_NE(page.shared_body->find("/issuer/console/app.js"), std::string::npos);
  const std::string csp = header(page, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  const http::HttpReply js = call("GET", "/issuer/console/app.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(call("GET", "/issuer/console/app.css").status, 200);
  EXPECT_EQ(call("GET", "/issuer/console/").status, 404);
  EXPECT_EQ(call("GET", "/issuer/console/../docs").status, 404);
  EXPECT_EQ(call("GET", "/issuer/consolex").status, 404);
  EXPECT_EQ(call("POST", "/issuer/console").status, 404);
  // The verifier's console is not the node's.
  EXPECT_EQ(call("GET", "/console").status, 404);
}

TEST_F(IssuerNodeTest, AFloodOfBadAdminTokensIsThrottledAndWritesNoMoreAuditRows) {
  const auto unauthorized = [&] {
    std::size_t n = 0;
    for (const AuditRecord& a : node_->store().audit_trail(1000)) n += a.action == "unauthorized";
    return n;
  };
  const auto budget = static_cast<std::size_t>(IssuerNode::kAdminFailuresPerMinute);
  for (std::size_t i = 0; i < budget; ++i) {
    EXPECT_EQ(call("GET", "/issuer/v1/admin/stats", "", "Bearer wrong").status, 401) << i;
  }
  for (int i = 0; i < 50; ++i) {
    const http::HttpReply r = call("GET", "/issuer/v1/admin/stats", "", "Bearer wrong");
    ASSERT_EQ(r.status, 429) << i;
    EXPECT_EQ(r.error_code, "RATE_LIMITED");
    bool retry_after = false;
    for (const auto& [name, value] : r.headers)
      retry_after |= name == "Retry-After" && value != "0";
    EXPECT_TRUE(retry_after);
  }
  EXPECT_EQ(unauthorized(), budget);
  // The right token still works from that address.
  EXPECT_EQ(call("GET", "/issuer/v1/admin/stats", "", bearer()).status, 200);
}

TEST_F(IssuerNodeTest, AuditTextIsPrintableAndAReasonWithControlCharactersIsRefused) {
  ASSERT_TRUE(enrol().ok());
  const http::HttpReply bad = call("POST", "/issuer/v1/admin/credentials/0/revoke",
                                   R"({"reason":"fraud\u0000x"})", bearer());
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("reason: 1 to 500 characters, no control characters"), std::string::npos)
      << bad.body;
  EXPECT_EQ(node_->store().leaf(0)->revoked_at, 0);
  EXPECT_EQ(call("GET",
                 "/issuer/v1/admin/st\xff\x01"
                 "ats",
                 "", "Bearer wrong")
                .status,
            401);
  bool seen = false;
  for (const AuditRecord& a : node_->store().audit_trail(50)) {
    if (a.action != "unauthorized") continue;
    seen = true;
    EXPECT_EQ(a.target, "/issuer/v1/admin/st??ats");
  }
  EXPECT_TRUE(seen);
}

TEST_F(IssuerNodeTest, FeedSinceETagAndNotModified) {
  ASSERT_TRUE(enrol().ok());
  const http::HttpReply all = call("GET", "/issuer/v1/roots?since=0");
  ASSERT_EQ(all.status, 200);
  const boost::json::value body = boost::json::parse(all.body);
  EXPECT_EQ(body.at("issuer_id"), 1);
  EXPECT_EQ(body.at("entries").as_array().size(), 2u);
  EXPECT_TRUE(feed::parse_feed_answer(all.body, 1).ok());
  EXPECT_NE(std::find(all.headers.begin(), all.headers.end(),
                      std::pair<std::string, std::string>{"ETag", "\"2\""}),
            all.headers.end());
  const http::HttpReply since = call("GET", "/issuer/v1/roots?since=1");
  EXPECT_EQ(boost::json::parse(since.body).at("entries").as_array().size(), 1u);
  EXPECT_EQ(call("GET", "/issuer/v1/roots?since=2", "", "", "\"2\"").status, 304);
  EXPECT_EQ(call("GET", "/issuer/v1/roots?since=1", "", "", "\"1\"").status, 200);
  EXPECT_EQ(call("GET", "/issuer/v1/roots?since=x").status, 400);
  EXPECT_EQ(call("GET", "/issuer/v1/roots?since=0&wait=31").status, 400);
}

TEST_F(IssuerNodeTest, ALongPollWakesOnTheNextEntry) {
  http::HttpReply polled;
  std::thread poller([&] { polled = call("GET", "/issuer/v1/roots?since=1&wait=30"); });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (node_->feed_waiters() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(node_->feed_waiters(), 1u);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(enrol().ok());
  poller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);  // woken, not timed out
  ASSERT_EQ(polled.status, 200);
  const boost::json::value body = boost::json::parse(polled.body);
  const auto& entries = body.at("entries").as_array();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("seq"), 2);
}

TEST_F(IssuerNodeTest, LongPollsBeyondTheCapAnswerAtOnce) {
  limits_.max_feed_waiters = 1;
  open();
  std::thread poller([&] { node_->feed_since(1, 30s); });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (node_->feed_waiters() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(node_->feed_waiters(), 1u);
  const auto started = std::chrono::steady_clock::now();
  const FeedAnswer second = node_->feed_since(1, 30s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  EXPECT_TRUE(second.entries.empty());
  node_->stop_waiting();
  poller.join();
}

TEST_F(IssuerNodeTest, KeyRotationIsFollowedAcrossTheFeed) {
  ASSERT_TRUE(enrol().ok());
  const std::string old_id = node_->keys().front().key_id;
  const http::HttpReply rotated =
      call("POST", "/issuer/v1/admin/keys/rotate", R"({"overlap_seconds":3600})", bearer());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string new_id(boost::json::parse(rotated.body).at("key_id").as_string());
  EXPECT_NE(new_id, old_id);
  ASSERT_TRUE(enrol(kRecord2, "42").ok());

  const std::vector<feed::FeedEntry> entries = follow_feed();  // trusts only the first key
  ASSERT_EQ(entries.size(), 4u);
  ASSERT_TRUE(entries[2].next_key);
  EXPECT_EQ(entries[2].key_id, old_id);
  EXPECT_EQ(entries[2].next_key->key_id, new_id);
  EXPECT_EQ(entries[2].next_key->previous_valid_until, entries[2].issued_at + 3600 * 1000);
  EXPECT_EQ(entries[3].key_id, new_id);
  EXPECT_TRUE(fs::exists(data_dir_ / ("signing.key." + old_id + ".retired")));
  const http::HttpReply keys = call("GET", "/issuer/v1/keys");
  const boost::json::value key_list = boost::json::parse(keys.body);
  const auto& list = key_list.at("keys").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("key_id").as_string(), old_id);
  EXPECT_EQ(list[0].at("retired_after"), entries[2].next_key->previous_valid_until);
  EXPECT_TRUE(list[1].at("retired_after").is_null());
  // After a restart the node signs with the new key.
  open();
  ASSERT_TRUE(node_->revoke(0, "t", "t").ok());
  EXPECT_EQ(follow_feed().back().key_id, new_id);
  EXPECT_EQ(
      call("POST", "/issuer/v1/admin/keys/rotate", R"({"overlap_seconds":-1})", bearer()).status,
      400);
}

TEST_F(IssuerNodeTest, ARotationCutShortBeforeTheKeyFilesSwapIsFinishedAtStart) {
  const std::string old_id = node_->keys().front().key_id;
  auto rotated = node_->rotate_key(60, "t");
  ASSERT_TRUE(rotated.ok());
  const std::string new_id = rotated->key_id;
  node_.reset();
  // The state of a crash after the feed entry committed, before the renames.
  fs::rename(data_dir_ / "signing.key", data_dir_ / ("signing.key." + new_id + ".new"));
  fs::rename(data_dir_ / ("signing.key." + old_id + ".retired"), data_dir_ / "signing.key");
  open();
  ASSERT_TRUE(enrol().ok());
  EXPECT_EQ(follow_feed().back().key_id, new_id);
  EXPECT_FALSE(fs::exists(data_dir_ / ("signing.key." + new_id + ".new")));
  // A key file that is not the store's current key, with nothing to finish: refuse to start.
  node_.reset();
  fs::rename(data_dir_ / ("signing.key." + old_id + ".retired"), data_dir_ / "signing.key");
  EXPECT_THROW(open(), std::runtime_error);
}

TEST(OfferLink, PercentEncodesEverythingButTheUnreservedCharacters) {
  EXPECT_EQ(offer_link("http://issuer.test", "27-01-74-05123"),
            "proofgate-wallet://enroll?issuer=http%3A%2F%2Fissuer.test&record=27-01-74-05123");
  const std::string url = "https://h.example:8443/moha issuer/a&b=c?d#e%~_.";
  const std::string link = offer_link(url, "7-2-28-1456-2017");
  EXPECT_EQ(
      link,
      "proofgate-wallet://enroll?issuer=https%3A%2F%2Fh.example%3A8443%2Fmoha%20issuer%2Fa%26b"
      "%3Dc%3Fd%23e%25~_.&record=7-2-28-1456-2017");
  const auto params = offer_params(link);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params.at("issuer"), url);
  EXPECT_EQ(params.at("record"), "7-2-28-1456-2017");
}

TEST_F(IssuerNodeTest, AnOfferGivesTheWalletLinkAndItsQrCodeAndIsAuditedWithoutTheRecord) {
  const http::HttpReply offered =
      call("POST", "/issuer/v1/admin/offers", R"({"record":"27-01-74-05123"})", bearer());
  ASSERT_EQ(offered.status, 201) << offered.body;
  const boost::json::value body = boost::json::parse(offered.body);
  ASSERT_EQ(body.as_object().size(), 2u) << offered.body;
  const std::string link(body.at("link").as_string());
  EXPECT_EQ(link,
            "proofgate-wallet://enroll?issuer=http%3A%2F%2Fissuer.test&record=27-01-74-05123");
  const auto params = offer_params(link);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params.at("issuer"), "http://issuer.test");  // the node's public URL
  EXPECT_EQ(params.at("record"), kRecord);
  const std::string svg(body.at("qr_svg").as_string());
  EXPECT_TRUE(svg.starts_with("<svg")) << svg.substr(0, 40);
  EXPECT_EQ(svg, http::qr_svg(link));  // the QR code holds the link

  // Audited with the record's subject, HMAC-SHA256(pepper, "subject\n" kind "\n" record): the
  // record number appears nowhere in the audit table.
  std::ifstream pepper_file(data_dir_ / "pepper", std::ios::binary);
  const std::string pepper((std::istreambuf_iterator<char>(pepper_file)), {});
  ASSERT_EQ(pepper.size(), 32u);
  const std::string message = "subject\nmoha\n" + std::string(kRecord);
  std::array<std::uint8_t, 32> subject{};
  unsigned int len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()),
                 reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                 subject.data(), &len),
            nullptr);
  const std::vector<AuditRecord> trail = node_->store().audit_trail(50);
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].actor, "admin@10.0.0.9");
  EXPECT_EQ(trail[0].action, "offer");
  EXPECT_EQ(trail[0].target, core::hex(subject));
  EXPECT_EQ(trail[0].at, now_.load());
  for (const AuditRecord& a : trail) {
    for (const std::string& field : {a.actor, a.action, a.target, a.detail}) {
      EXPECT_EQ(field.find(kRecord), std::string::npos) << field;
      EXPECT_EQ(field.find("05123"), std::string::npos) << field;
    }
  }
  // An offer changes neither the tree nor the feed, and asks the authority nothing.
  EXPECT_EQ(node_->current_root().second, 1u);
  EXPECT_EQ(authority_.send_calls, 0);
}

TEST_F(IssuerNodeTest, AnOfferNeedsTheTokenAndARecordOfTheNodesKind) {
  const auto offer = [&](const std::string& body, const std::string& authorization) {
    return call("POST", "/issuer/v1/admin/offers", body, authorization);
  };
  const std::string good = R"({"record":"27-01-74-05123"})";
  const http::HttpReply no_token = offer(good, "");
  EXPECT_EQ(no_token.status, 401);
  EXPECT_EQ(no_token.error_code, "UNAUTHORIZED");
  EXPECT_EQ(no_token.body.find("proofgate-wallet"), std::string::npos);
  EXPECT_EQ(offer(good, "Bearer pga_test-admin-tokeN").status, 401);

  const auto refused = [&](const std::string& body, std::string_view detail) {
    const http::HttpReply r = offer(body, bearer());
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.error_code, "INVALID_REQUEST") << body;
    const boost::json::value v = boost::json::parse(r.body);
    EXPECT_EQ(v.at("detail").as_string(), detail) << body;
  };
  refused(R"({"record":"301234567"})", "record: not a moha record number");  // a PAN
  refused(R"({"record":"27-01-74-0512"})", "record: not a moha record number");
  refused(R"({"record":"27-01-74-05123&issuer=x"})", "record: not a moha record number");
  refused(R"({"record":""})", "record: not a moha record number");
  refused(R"({"record":27})", "record: required, a string");
  refused(R"({})", "record: required, a string");
  refused(R"({"record":"27-01-74-05123","issuer":"http://evil"})", "issuer: unknown member");
  refused("not json", "body: must be a JSON object");

  std::multiset<std::string> actions;
  for (const AuditRecord& a : node_->store().audit_trail(50)) actions.insert(a.action);
  EXPECT_EQ(actions.count("unauthorized"), 2u);
  EXPECT_EQ(actions.count("offer"), 0u);  // nothing offered
  EXPECT_EQ(call("GET", "/issuer/v1/admin/offers", "", bearer()).status, 404);
}

}  // namespace
}  // namespace pg::issuer
