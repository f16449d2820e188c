// The sandbox authority and the issuer's mTLS adapter against each other, over real sockets with
// the test PKI of scripts/make-test-ca.sh: the protocol of docs/issuers.md, codes and lock-outs,
// refused TLS clients, the fault modes, retries and the circuit breaker.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "authority/records.hpp"
#include "authority/server.hpp"
#include "calendar/bikram_sambat.hpp"
#include "issuer/attributes.hpp"
#include "issuer/authority_client.hpp"
#include "log/log.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pg::authority::SandboxAuthority;
using pg::authority::SandboxSettings;
using pg::issuer::AuthorityClientSettings;
using pg::issuer::AuthorityKind;
using pg::issuer::BreakerState;
using pg::issuer::MtlsAuthorityClient;
using Kind = pg::issuer::AuthorityFailure::Kind;
using Clock = std::chrono::steady_clock;

/// The sandbox's clock: real time plus what a test has skipped ahead.
std::atomic<std::int64_t> g_skipped_ms{0};
Clock::time_point test_now() {
  return Clock::now() + std::chrono::milliseconds(g_skipped_ms.load());
}
void skip(std::chrono::milliseconds d) {
  g_skipped_ms += d.count();
}

class AuthorityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("pg-authority-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(Clock::now().time_since_epoch().count()));
    fs::create_directories(root_);
    // A PKI of this process's own (ctest may run several test processes at once).
    const std::string cmd = "bash '" PROOFGATE_SOURCE_DIR "/scripts/make-test-ca.sh' '" +
                            (root_ / "pki").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static std::string pki(const std::string& name) { return (root_ / "pki" / name).string(); }

  void SetUp() override { g_skipped_ms = 0; }

  SandboxAuthority& start(AuthorityKind kind, std::size_t records = 20) {
    SandboxSettings s;
    s.kind = kind;
    s.data_dir =
        root_ / (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                 "-" + std::string(pg::issuer::kind_name(kind)));
    s.records = records;
    s.ca_file = pki("ca.pem");
    s.cert_file = pki("authority.pem");
    s.key_file = pki("authority.key");
    s.now = test_now;
    data_dir_ = s.data_dir;
    server_ = std::make_unique<SandboxAuthority>(std::move(s));
    return *server_;
  }

  AuthorityClientSettings settings(AuthorityKind kind) const {
    AuthorityClientSettings c;
    c.url = "https://127.0.0.1:" + std::to_string(server_->port());
    c.kind = kind;
    c.ca_file = pki("ca.pem");
    c.cert_file = pki("issuer.pem");
    c.key_file = pki("issuer.key");
    c.timeout = 300ms;
    c.attempts = 3;
    c.backoff = 10ms;
    return c;
  }

  /// The records the sandbox listed in records.json.
  json::array listed() const {
    std::ifstream in(data_dir_ / "records.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str()).at("records").as_array();
  }
  std::string first_record() const { return std::string(listed().at(0).at("record").as_string()); }

  /// The code the sandbox "sent" for `record`.
  std::string code_for(const std::string& record) const {
    const fs::path file = data_dir_ / "sms" / (record + ".code");
    std::ifstream in(file);
    std::string code;
    std::getline(in, code);
    return code;
  }

  static inline fs::path root_;
  fs::path data_dir_;
  std::unique_ptr<SandboxAuthority> server_;
};

/// A raw HTTPS POST with an optional client certificate: what any client could send.
struct RawAnswer {
  bool answered = false;
  unsigned status = 0;
  std::string body;
  std::string error;
};

RawAnswer raw_post(std::uint16_t port, const std::string& ca, const std::string& cert,
                   const std::string& key, const std::string& target, const std::string& body,
                   const std::string& content_type = "application/json") {
  RawAnswer out;
  try {
    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(ca);
    ctx.set_verify_mode(ssl::verify_peer);
    if (!cert.empty()) {
      ctx.use_certificate_chain_file(cert);
      ctx.use_private_key_file(key, ssl::context::pem);
    }
    ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    stream.handshake(ssl::stream_base::client);
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    out.answered = true;
    out.status = res.result_int();
    out.body = res.body();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

/// Polls `condition` until it holds or `deadline` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  const auto end = Clock::now() + deadline;
  while (Clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

std::string other_code(const std::string& code) {
  std::string wrong = code;
  wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
  return wrong;
}

// ---- records ----

/// True when `text` has `shape`'s form: each 'D' a decimal digit, every other character itself.
/// (Not std::regex: GCC 12's -Wmaybe-uninitialized fires inside <regex> under the asan preset.)
bool has_shape(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (shape[i] == 'D' ? !digit : text[i] != shape[i]) return false;
  }
  return true;
}

TEST(SandboxRecords, DeterministicUniqueAndWellFormed) {
  const std::string_view moha_no = "DD-DD-DD-DDDDD", tu_no = "D-D-DD-DDDD-DDDD", pan = "DDDDDDDDD",
                         phone = "98DDDDDDDD", date = "DDDD-DD-DD";
  for (const AuthorityKind kind : {AuthorityKind::kMoha, AuthorityKind::kTu, AuthorityKind::kNrb}) {
    const auto a = pg::authority::generate_records(kind, 2000, 2082);
    const auto b = pg::authority::generate_records(kind, 2000, 2082);
    const auto prefix = pg::authority::generate_records(kind, 10, 2082);
    ASSERT_EQ(a.size(), 2000u);
    std::set<std::string> numbers;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string ja = pg::authority::record_json(a[i].record);
      EXPECT_EQ(ja, pg::authority::record_json(b[i].record)) << "run-to-run difference at " << i;
      EXPECT_EQ(a[i].phone, b[i].phone);
      if (i < prefix.size()) {
        EXPECT_EQ(ja, pg::authority::record_json(prefix[i].record));
      }
      const std::string number = pg::authority::record_number(a[i].record);
      EXPECT_TRUE(numbers.insert(number).second) << "duplicate record number " << number;
      EXPECT_TRUE(has_shape(a[i].phone, phone)) << a[i].phone;
      if (const auto* m = std::get_if<pg::issuer::MohaRecord>(&a[i].record)) {
        EXPECT_TRUE(has_shape(m->certificate_no, moha_no)) << m->certificate_no;
        const std::string& dob = m->date_of_birth_bs;
        ASSERT_TRUE(has_shape(dob, date)) << dob;
        EXPECT_GE(std::stoi(dob.substr(0, 4)), 2030);
        EXPECT_LE(std::stoi(dob.substr(0, 4)), 2075);
        EXPECT_GE(std::stoi(dob.substr(5, 2)), 1);
        EXPECT_LE(std::stoi(dob.substr(5, 2)), 12);
        EXPECT_GE(std::stoi(dob.substr(8, 2)), 1);
        EXPECT_LE(std::stoi(dob.substr(8, 2)), 29);
        EXPECT_EQ(m->phone, a[i].phone);
        EXPECT_FALSE(m->name.empty());
      } else if (const auto* t = std::get_if<pg::issuer::TuRecord>(&a[i].record)) {
        EXPECT_TRUE(has_shape(t->registration_no, tu_no)) << t->registration_no;
        EXPECT_GE(t->degree_level, 1);
        EXPECT_LE(t->degree_level, 7);
        EXPECT_LE(t->graduation_year_bs, 2081);
        EXPECT_GE(t->institution_id, 1);
      } else {
        const auto& n = std::get<pg::issuer::NrbRecord>(a[i].record);
        EXPECT_TRUE(has_shape(n.pan, pan)) << n.pan;
        ASSERT_GE(n.incomes.size(), 2u);
        ASSERT_LE(n.incomes.size(), 3u);
        for (std::size_t y = 0; y < n.incomes.size(); ++y) {
          // Two or three years ending with the latest completed one (2082 here).
          EXPECT_GE(n.incomes[y].fiscal_year_bs, 2080);
          EXPECT_LE(n.incomes[y].fiscal_year_bs, 2082);
          if (y > 0) {
            EXPECT_EQ(n.incomes[y].fiscal_year_bs, n.incomes[y - 1].fiscal_year_bs + 1);
          }
        }
      }
    }
  }
}

// ---- the protocol, end to end ----

TEST_F(AuthorityTest, CodeThenRecordForEveryKind) {
  for (const AuthorityKind kind : {AuthorityKind::kMoha, AuthorityKind::kTu, AuthorityKind::kNrb}) {
    SCOPED_TRACE(std::string(pg::issuer::kind_name(kind)));
    start(kind);
    MtlsAuthorityClient client(settings(kind));
    const json::array records = listed();
    ASSERT_EQ(records.size(), 20u);
    const std::string record(records.at(3).at("record").as_string());
    const std::string phone(records.at(3).at("phone").as_string());

    const auto sent = client.send_code(record);
    ASSERT_TRUE(sent.ok()) << sent.error().detail;
    EXPECT_EQ(sent->sent_to, phone.substr(0, 2) + "******" + phone.substr(8));
    EXPECT_EQ(sent->expires_in_s, 300u);
    const fs::path file = data_dir_ / "sms" / (record + ".code");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string code = code_for(record);
    ASSERT_TRUE(has_shape(code, "DDDDDD")) << code;

    const auto got = client.fetch_record(record, code);
    ASSERT_TRUE(got.ok()) << got.error().detail;
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    const auto expected =
        pg::authority::generate_records(
            kind, 20,
            pg::authority::latest_completed_fiscal_year(pg::calendar::nepal_yyyymmdd(now_ms)))
            .at(3);
    EXPECT_EQ(pg::authority::record_json(*got), pg::authority::record_json(expected.record));
    server_.reset();
  }
}

// The fiscal year 2081/82 ended on AD 2025-07-16 (docs/issuers.md): the sandbox's NRB/IRD
// records end with the latest completed year, so each of them can still be enrolled; with the
// fixed 2078..2081 range of before, none could from 2026-07-17 on.
TEST(SandboxRecords, NrbIncomesEndWithTheLatestCompletedFiscalYear) {
  EXPECT_EQ(pg::authority::latest_completed_fiscal_year(20250716), 2080);
  EXPECT_EQ(pg::authority::latest_completed_fiscal_year(20250717), 2081);
  EXPECT_EQ(pg::authority::latest_completed_fiscal_year(20261205), 2082);
  EXPECT_EQ(pg::authority::latest_completed_fiscal_year(19000101), 0);
  for (const std::uint32_t today : {20250717u, 20261205u, 20300101u}) {
    const int latest = pg::authority::latest_completed_fiscal_year(today);
    for (const auto& r : pg::authority::generate_records(AuthorityKind::kNrb, 200, latest)) {
      const auto& nrb = std::get<pg::issuer::NrbRecord>(r.record);
      ASSERT_FALSE(nrb.incomes.empty());
      EXPECT_EQ(nrb.incomes.back().fiscal_year_bs, latest);
      const auto attributes = pg::issuer::credential_attributes(r.record, today);
      ASSERT_TRUE(attributes.ok()) << today << ": " << attributes.error();
    }
  }
}

TEST_F(AuthorityTest, WrongCodeThenLockOutForFifteenMinutes) {
  start(AuthorityKind::kMoha);
  MtlsAuthorityClient client(settings(AuthorityKind::kMoha));
  const std::string record = first_record();
  ASSERT_TRUE(client.send_code(record).ok());
  const std::string code = code_for(record);
  for (unsigned i = 1; i <= pg::authority::kMaxWrongCodes; ++i) {
    const auto r = client.fetch_record(record, other_code(code));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, Kind::kWrongCode) << "attempt " << i;
  }
  // Locked: even the right code is refused now, and no new code is sent.
  const auto locked = client.fetch_record(record, code);
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().kind, Kind::kLockedOut);
  EXPECT_GT(locked.error().retry_after_s, 14u * 60);
  EXPECT_LE(locked.error().retry_after_s, 15u * 60);
  const auto no_code = client.send_code(record);
  ASSERT_FALSE(no_code.ok());
  EXPECT_EQ(no_code.error().kind, Kind::kLockedOut);
  // Another record is not affected.
  const std::string other(listed().at(1).at("record").as_string());
  EXPECT_TRUE(client.send_code(other).ok());
  // Fifteen minutes later the record takes a new code.
  skip(15min);
  ASSERT_TRUE(client.send_code(record).ok());
  const auto released = client.fetch_record(record, code_for(record));
  EXPECT_TRUE(released.ok());
  // Holder errors are not the authority's failures.
  EXPECT_EQ(client.stats().failures, 0u);
  EXPECT_EQ(client.stats().breaker, BreakerState::kClosed);
}

TEST_F(AuthorityTest, CodeIsSingleUseAndExpiresAfterFiveMinutes) {
  start(AuthorityKind::kTu);
  MtlsAuthorityClient client(settings(AuthorityKind::kTu));
  const std::string record = first_record();
  // No code asked for yet.
  const auto none = client.fetch_record(record, "123456");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, Kind::kCodeExpired);

  ASSERT_TRUE(client.send_code(record).ok());
  const std::string code = code_for(record);
  ASSERT_TRUE(client.fetch_record(record, code).ok());
  const auto reused = client.fetch_record(record, code);
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().kind, Kind::kCodeExpired);

  ASSERT_TRUE(client.send_code(record).ok());
  const std::string second = code_for(record);
  skip(299s);
  skip(1500ms);
  const auto expired = client.fetch_record(record, second);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().kind, Kind::kCodeExpired);
}

TEST_F(AuthorityTest, MoreThanThreeCodesInTenMinutesIsRefused) {
  start(AuthorityKind::kNrb);
  MtlsAuthorityClient client(settings(AuthorityKind::kNrb));
  const std::string record = first_record();
  std::string last;
  for (unsigned i = 0; i < pg::authority::kMaxCodesPerWindow; ++i) {
    ASSERT_TRUE(client.send_code(record).ok()) << "code " << i + 1;
    skip(1min);
    last = code_for(record);
  }
  const auto fourth = client.send_code(record);
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.error().kind, Kind::kLockedOut);
  EXPECT_GT(fourth.error().retry_after_s, 0u);
  EXPECT_LE(fourth.error().retry_after_s, 7u * 60 + 1);
  // The latest code still works: the limit is on sending, not on using.
  EXPECT_TRUE(client.fetch_record(record, last).ok());
  skip(8min);
  EXPECT_TRUE(client.send_code(record).ok());
}

TEST_F(AuthorityTest, UnknownRecord) {
  start(AuthorityKind::kMoha);
  MtlsAuthorityClient client(settings(AuthorityKind::kMoha));
  const auto sent = client.send_code("00-00-00-00000");
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().kind, Kind::kUnknownRecord);
  const auto got = client.fetch_record("00-00-00-00000", "123456");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, Kind::kUnknownRecord);
}

TEST_F(AuthorityTest, OneClientServesSeveralThreadsAtOnce) {
  start(AuthorityKind::kNrb);
  MtlsAuthorityClient client(settings(AuthorityKind::kNrb));
  const json::array records = listed();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> released{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string record(records.at(static_cast<std::size_t>(t)).at("record").as_string());
      if (!client.send_code(record).ok()) return;
      if (client.fetch_record(record, code_for(record)).ok()) ++released;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(released.load(), kThreads);
  EXPECT_EQ(client.stats().calls, 2u * kThreads);
  EXPECT_EQ(client.stats().failures, 0u);
}

// ---- strict requests ----

TEST_F(AuthorityTest, RequestsAreDecodedStrictly) {
  const auto& server = start(AuthorityKind::kMoha);
  const std::string record = first_record();
  const auto post = [&](const std::string& target, const std::string& body,
                        const std::string& type = "application/json") {
    return raw_post(server.port(), pki("ca.pem"), pki("issuer.pem"), pki("issuer.key"), target,
                    body, type);
  };
  const auto expect_invalid = [&](const RawAnswer& a, const std::string& mention) {
    ASSERT_TRUE(a.answered) << a.error;
    EXPECT_EQ(a.status, 400u) << a.body;
    const json::value v = json::parse(a.body);
    EXPECT_EQ(v.at("error").as_string(), "invalid_request");
    EXPECT_NE(std::string(v.at("detail").as_string()).find(mention), std::string::npos) << a.body;
  };
  expect_invalid(post("/authority/v1/codes", R"({"record":")" + record + R"(","extra":1})"),
                 "extra");
  expect_invalid(post("/authority/v1/codes", "{}"), "record");
  expect_invalid(post("/authority/v1/codes", R"({"record":42})"), "record");
  expect_invalid(post("/authority/v1/codes", "not json"), "JSON");
  expect_invalid(post("/authority/v1/codes", R"({"record":"x","record":")" + record + R"("})"),
                 "twice");
  expect_invalid(post("/authority/v1/records", R"({"record":")" + record + R"(","code":"12a456"})"),
                 "six digits");
  expect_invalid(post("/authority/v1/codes", R"({"record":")" + record + R"("})", "text/plain"),
                 "Content-Type");
  expect_invalid(post("/sandbox/v1/faults", R"({"mode":"sometimes"})"), "mode");
  const RawAnswer other = post("/authority/v1/elsewhere", "{}");
  ASSERT_TRUE(other.answered);
  EXPECT_EQ(other.status, 404u);
  // None of these sent a code.
  EXPECT_FALSE(fs::exists(data_dir_ / "sms" / (record + ".code")));
}

// ---- mutual TLS ----

TEST_F(AuthorityTest, ClientsWithoutTheCasCertificateAreRefusedAtTls) {
  const auto& server = start(AuthorityKind::kMoha);
  const std::string body = R"({"record":")" + first_record() + R"("})";
  const RawAnswer with_cert = raw_post(server.port(), pki("ca.pem"), pki("issuer.pem"),
                                       pki("issuer.key"), "/authority/v1/codes", body);
  ASSERT_TRUE(with_cert.answered) << with_cert.error;
  EXPECT_EQ(with_cert.status, 202u);

  const RawAnswer no_cert =
      raw_post(server.port(), pki("ca.pem"), "", "", "/authority/v1/codes", body);
  EXPECT_FALSE(no_cert.answered) << "status " << no_cert.status;
  EXPECT_FALSE(no_cert.error.empty());

  const RawAnswer stranger = raw_post(server.port(), pki("ca.pem"), pki("stranger.pem"),
                                      pki("stranger.key"), "/authority/v1/codes", body);
  EXPECT_FALSE(stranger.answered) << "status " << stranger.status;

  AuthorityClientSettings s = settings(AuthorityKind::kMoha);
  s.cert_file = pki("stranger.pem");
  s.key_file = pki("stranger.key");
  MtlsAuthorityClient client(s);
  const auto refused = client.send_code(first_record());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, Kind::kUnavailable);
}

TEST_F(AuthorityTest, TheClientChecksTheAuthoritysCertificateAndName) {
  start(AuthorityKind::kMoha);
  AuthorityClientSettings by_name = settings(AuthorityKind::kMoha);
  by_name.url = "https://localhost:" + std::to_string(server_->port());
  MtlsAuthorityClient named(by_name);
  EXPECT_TRUE(named.send_code(first_record()).ok());

  AuthorityClientSettings wrong_ca = settings(AuthorityKind::kMoha);
  wrong_ca.ca_file = pki("other-ca.pem");
  MtlsAuthorityClient distrusting(wrong_ca);
  const auto r = distrusting.send_code(first_record());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kUnavailable);
  EXPECT_NE(r.error().detail.find("certificate verification"), std::string::npos)
      << r.error().detail;
  // A certificate that does not verify is not retried.
  EXPECT_EQ(distrusting.stats().attempts, 1u);

  AuthorityClientSettings plain = settings(AuthorityKind::kMoha);
  plain.url = "http://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_THROW(MtlsAuthorityClient{plain}, std::invalid_argument);
  AuthorityClientSettings mismatched = settings(AuthorityKind::kMoha);
  mismatched.key_file = pki("stranger.key");
  EXPECT_THROW(MtlsAuthorityClient{mismatched}, std::invalid_argument);
}

// ---- faults, retries, the breaker ----

void set_fault(std::uint16_t port, const std::string& ca, const std::string& cert,
               const std::string& key, const std::string& body) {
  const RawAnswer a = raw_post(port, ca, cert, key, "/sandbox/v1/faults", body);
  ASSERT_TRUE(a.answered) << a.error;
  ASSERT_EQ(a.status, 200u) << a.body;
}

class FaultTest : public AuthorityTest {
 protected:
  void fault(const std::string& body) {
    set_fault(server_->port(), pki("ca.pem"), pki("issuer.pem"), pki("issuer.key"), body);
  }
};

TEST_F(FaultTest, SlowPastTheDeadlineIsUnavailableAfterEachAttemptsTimeout) {
  start(AuthorityKind::kMoha);
  const std::string record = first_record();
  fault(R"({"mode":"slow","delay_ms":2000})");
  AuthorityClientSettings one = settings(AuthorityKind::kMoha);
  one.attempts = 1;
  MtlsAuthorityClient single(one);
  auto begin = Clock::now();
  const auto r = single.send_code(record);
  const auto took = Clock::now() - begin;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kUnavailable);
  EXPECT_NE(r.error().detail.find("timeout after 300 ms"), std::string::npos) << r.error().detail;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1000ms);

  // send_code is retried: three attempts, each under its own deadline.
  MtlsAuthorityClient client(settings(AuthorityKind::kMoha));
  begin = Clock::now();
  EXPECT_FALSE(client.send_code(record).ok());
  EXPECT_LT(Clock::now() - begin, 2000ms);
  EXPECT_EQ(client.stats().attempts, 3u);
  EXPECT_EQ(client.stats().retries, 2u);
  EXPECT_EQ(client.stats().failures, 1u);

  // fetch_record is not retried once the request may have reached the authority: the code is
  // single-use.
  const auto f = client.fetch_record(record, "123456");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, Kind::kUnavailable);
  EXPECT_EQ(client.stats().attempts, 4u);

  // A slow authority within the deadline answers normally.
  fault(R"({"mode":"slow","delay_ms":50})");
  EXPECT_TRUE(client.send_code(record).ok());
}

TEST_F(FaultTest, FailIsUnavailableAndRetried) {
  start(AuthorityKind::kTu);
  fault(R"({"mode":"fail"})");
  MtlsAuthorityClient client(settings(AuthorityKind::kTu));
  const auto r = client.send_code(first_record());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kUnavailable);
  EXPECT_NE(r.error().detail.find("503"), std::string::npos) << r.error().detail;
  EXPECT_EQ(client.stats().attempts, 3u);
  // An answered 503 to fetch_record means the request arrived: not retried.
  const auto f = client.fetch_record(first_record(), "123456");
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(client.stats().attempts, 4u);
}

TEST_F(FaultTest, TimeoutHoldsTheConnectionAndTheDeadlineEndsIt) {
  start(AuthorityKind::kNrb);
  fault(R"({"mode":"timeout"})");
  AuthorityClientSettings s = settings(AuthorityKind::kNrb);
  s.attempts = 2;
  MtlsAuthorityClient client(s);
  const auto begin = Clock::now();
  const auto r = client.send_code(first_record());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kUnavailable);
  EXPECT_NE(r.error().detail.find("timeout"), std::string::npos) << r.error().detail;
  EXPECT_LT(Clock::now() - begin, 1500ms);
  EXPECT_EQ(client.stats().attempts, 2u);
}

TEST_F(FaultTest, GarbageIsABadAnswerNotRetried) {
  start(AuthorityKind::kMoha);
  fault(R"({"mode":"garbage"})");
  MtlsAuthorityClient client(settings(AuthorityKind::kMoha));
  const auto r = client.send_code(first_record());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kBadAnswer);
  const auto f = client.fetch_record(first_record(), "123456");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, Kind::kBadAnswer);
  EXPECT_EQ(client.stats().attempts, 2u);
  EXPECT_EQ(client.stats().failures, 2u);
  EXPECT_EQ(client.stats().breaker, BreakerState::kClosed);
}

TEST_F(FaultTest, GarbageCountsForTheBreakerAndAHalfOpenTrialWithGarbageReopensIt) {
  start(AuthorityKind::kMoha);
  const std::string record = first_record();
  AuthorityClientSettings s = settings(AuthorityKind::kMoha);
  s.breaker_failures = 2;
  s.breaker_open = 1s;
  MtlsAuthorityClient client(s);
  fault(R"({"mode":"garbage"})");
  for (int i = 0; i < 2; ++i) {
    const auto r = client.send_code(record);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, Kind::kBadAnswer) << i;
  }
  EXPECT_EQ(client.stats().breaker, BreakerState::kOpen);
  EXPECT_EQ(client.stats().attempts, 2u);
  // The trial gets garbage too: the breaker opens again rather than closing.
  ASSERT_TRUE(eventually([&] { return client.stats().breaker == BreakerState::kHalfOpen; }, 5s));
  const auto trial = client.send_code(record);
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.error().kind, Kind::kBadAnswer);
  EXPECT_EQ(client.stats().attempts, 3u);
  EXPECT_EQ(client.stats().breaker, BreakerState::kOpen);
  const auto fast = client.send_code(record);
  ASSERT_FALSE(fast.ok());
  EXPECT_EQ(fast.error().detail, "circuit breaker open");
  EXPECT_EQ(client.stats().attempts, 3u);
}

TEST_F(FaultTest, AnswerOfAnotherKindIsABadAnswer) {
  start(AuthorityKind::kTu);
  // An issuer node configured for MOHA pointed at a TU authority.
  MtlsAuthorityClient client(settings(AuthorityKind::kMoha));
  const std::string record = first_record();
  ASSERT_TRUE(client.send_code(record).ok());
  const auto r = client.fetch_record(record, code_for(record));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kBadAnswer);
  EXPECT_NE(r.error().detail.find("kind"), std::string::npos) << r.error().detail;
}

TEST_F(AuthorityTest, FetchIsRetriedWhenTheConnectionWasRefused) {
  // A port with nobody listening: bound, then released.
  std::uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  AuthorityClientSettings s;
  s.url = "https://127.0.0.1:" + std::to_string(port);
  s.ca_file = pki("ca.pem");
  s.cert_file = pki("issuer.pem");
  s.key_file = pki("issuer.key");
  s.timeout = 300ms;
  s.backoff = 10ms;
  MtlsAuthorityClient client(s);
  const auto r = client.fetch_record("27-01-74-05123", "123456");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::kUnavailable);
  EXPECT_EQ(client.stats().attempts, 3u);
}

TEST_F(FaultTest, BreakerOpensFailsFastThenHalfOpensAndCloses) {
  start(AuthorityKind::kMoha);
  const std::string record = first_record();
  AuthorityClientSettings s = settings(AuthorityKind::kMoha);
  s.attempts = 1;
  s.breaker_failures = 3;
  s.breaker_open = 1s;
  MtlsAuthorityClient client(s);
  fault(R"({"mode":"fail"})");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.stats().breaker, BreakerState::kClosed) << i;
    EXPECT_FALSE(client.send_code(record).ok());
  }
  EXPECT_EQ(client.stats().breaker, BreakerState::kOpen);
  // Open: no exchange at all, an immediate kUnavailable with a retry hint.
  const auto begin = Clock::now();
  const auto fast = client.send_code(record);
  EXPECT_LT(Clock::now() - begin, 200ms);  // no exchange: far below the 300 ms deadline
  ASSERT_FALSE(fast.ok());
  EXPECT_EQ(fast.error().kind, Kind::kUnavailable);
  EXPECT_EQ(fast.error().detail, "circuit breaker open");
  EXPECT_GE(fast.error().retry_after_s, 1u);
  EXPECT_EQ(client.stats().attempts, 3u);
  EXPECT_EQ(client.stats().fast_fails, 1u);

  // Half-open: one trial; still failing, so open again.
  ASSERT_TRUE(eventually([&] { return client.stats().breaker == BreakerState::kHalfOpen; }, 5s));
  EXPECT_FALSE(client.send_code(record).ok());
  EXPECT_EQ(client.stats().attempts, 4u);
  EXPECT_EQ(client.stats().breaker, BreakerState::kOpen);

  // The authority is back: the next trial succeeds and the breaker closes.
  fault(R"({"mode":"none"})");
  ASSERT_TRUE(eventually([&] { return client.stats().breaker == BreakerState::kHalfOpen; }, 5s));
  const auto ok = client.send_code(record);
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(client.stats().breaker, BreakerState::kClosed);
  EXPECT_TRUE(client.fetch_record(record, code_for(record)).ok());
}

// ---- strict answers ----

/// A stand-in authority that answers one connection with a canned status and body (over the same
/// mutual TLS), to show the client refuses answers the sandbox never gives.
class CannedAuthority {
 public:
  CannedAuthority(const std::string& dir, unsigned status, std::string body)
      : ctx_(ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    ctx_.use_certificate_chain_file(dir + "/authority.pem");
    ctx_.use_private_key_file(dir + "/authority.key", ssl::context::pem);
    ctx_.load_verify_file(dir + "/ca.pem");
    ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    thread_ = std::thread([this, status, body = std::move(body)] {
      try {
        ssl::stream<asio::ip::tcp::socket> stream(acceptor_.accept(), ctx_);
        stream.handshake(ssl::stream_base::server);
        beast::flat_buffer buffer;
        bhttp::request<bhttp::string_body> req;
        bhttp::read(stream, buffer, req);
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
        res.set(bhttp::field::content_type, "application/json");
        res.body() = body;
        res.prepare_payload();
        bhttp::write(stream, res);
        beast::error_code ignored;
        stream.shutdown(ignored);
      } catch (const std::exception&) {
        // The test's assertions on the client's side tell what went wrong.
      }
    });
  }
  ~CannedAuthority() { thread_.join(); }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  ssl::context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

TEST_F(AuthorityTest, AnswersThatAreNotTheProtocolsAreBadAnswers) {
  const std::string dir = (root_ / "pki").string();
  const std::string record = "27-01-74-05123";
  const auto fetch = [&](unsigned status, const std::string& body) {
    CannedAuthority canned(dir, status, body);
    AuthorityClientSettings s;
    s.url = "https://localhost:" + std::to_string(canned.port());
    s.kind = AuthorityKind::kMoha;
    s.ca_file = pki("ca.pem");
    s.cert_file = pki("issuer.pem");
    s.key_file = pki("issuer.key");
    s.timeout = 2000ms;
    s.attempts = 1;
    MtlsAuthorityClient client(s);
    return client.fetch_record(record, "123456");
  };
  const std::string good =
      R"({"kind":"moha","record":")" + record +
      R"(","name":"Sita Thapa","date_of_birth_bs":"2058-04-17","phone":"9841234567")";
  // The control: the canned answer itself is accepted.
  const auto ok = fetch(200, good + "}");
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(std::get<pg::issuer::MohaRecord>(*ok).date_of_birth_bs, "2058-04-17");

  const auto bad = [&](unsigned status, const std::string& body, const std::string& mention) {
    SCOPED_TRACE(body);
    const auto r = fetch(status, body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, Kind::kBadAnswer) << r.error().detail;
    EXPECT_NE(r.error().detail.find(mention), std::string::npos) << r.error().detail;
    // The detail never repeats the answer's values.
    EXPECT_EQ(r.error().detail.find("Sita"), std::string::npos);
  };
  bad(200, good + R"(,"extra":1})", "extra");
  bad(200,
      R"({"kind":"moha","record":")" + record +
          R"(","name":"Sita Thapa","date_of_birth_bs":"2058-04-17"})",
      "phone");
  bad(200,
      R"({"kind":"moha","record":")" + record +
          R"(","name":"Sita Thapa","date_of_birth_bs":"2058-04-17","phone":9841234567})",
      "phone");
  bad(200,
      R"({"kind":"moha","record":")" + record +
          R"(","name":"Sita Thapa","date_of_birth_bs":"2058-13-17","phone":"9841234567"})",
      "date_of_birth_bs");
  bad(200,
      R"({"kind":"moha","record":"27-01-74-05124","name":"Sita Thapa","date_of_birth_bs":"2058-04-17","phone":"9841234567"})",
      "record number");
  bad(200, "[1,2]", "object");
  bad(200, good + R"(,"name":"Hari Rai"})", "twice");
  bad(200, "<html>", "JSON");
  bad(404, R"({"error":"not_found"})", "unknown_record");
  bad(429, R"({"error":"locked"})", "retry_after");
  bad(202, R"({"sent_to":"98******12","expires_in":300})", "status 202");
  bad(401, R"({"error":"wrong_code","hint":"x"})", "hint");

  const auto wrong = fetch(401, R"({"error":"wrong_code"})");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind, Kind::kWrongCode);
  const auto locked = fetch(429, R"({"error":"locked","retry_after":42})");
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().kind, Kind::kLockedOut);
  EXPECT_EQ(locked.error().retry_after_s, 42u);
}

// ---- privacy of the logs ----

TEST_F(AuthorityTest, LogsCarryNoRecordNumberCodeOrAttribute) {
  std::ostringstream events, requests;
  pg::log::init(pg::log::Level::kDebug, events, requests);
  {
    start(AuthorityKind::kMoha);
    MtlsAuthorityClient client(settings(AuthorityKind::kMoha));
    const json::object r = listed().at(0).as_object();
    const std::string record(r.at("record").as_string());
    ASSERT_TRUE(client.send_code(record).ok());
    const std::string code = code_for(record);
    EXPECT_FALSE(client.fetch_record(record, other_code(code)).ok());
    ASSERT_TRUE(client.fetch_record(record, code).ok());
    server_.reset();
    const std::string all = events.str() + requests.str();
    EXPECT_NE(all.find("authority call"), std::string::npos) << all;
    EXPECT_NE(all.find("record_tag"), std::string::npos) << all;
    for (const char* key : {"record", "name", "date_of_birth_bs", "phone"}) {
      const std::string value(r.at(key).as_string());
      EXPECT_EQ(all.find(value), std::string::npos) << key << " in the logs";
    }
    EXPECT_EQ(all.find(code), std::string::npos) << "the code in the logs";
    EXPECT_EQ(all.find(other_code(code)), std::string::npos) << "a tried code in the logs";
  }
  pg::log::init(pg::log::Level::kInfo);
}

}  // namespace
