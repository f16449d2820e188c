// The service's building blocks without sockets: API keys, sealing, ids, dates, the public-signal
// hash, error names, the in-process cache, the circuit catalog's refusals, and the create-request
// and status flows on a real SQLite store with a fake clock.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "artifacts/filesystem_artifacts.hpp"
#include "cache/memory/memory_cache.hpp"
#include "core/catalog.hpp"
#include "core/secrets.hpp"
#include "core/service.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class FakeClock final : public Clock {
 public:
  UnixMillis now_ms() const override { return now; }
  UnixMillis now = 1'795'651'200'000;  // 2026-11-26T00:00:00Z
};

TEST(SecretsTest, api_keys_have_the_documented_shape_and_unique_prefixes) {
  std::set<std::string> prefixes;
  for (int i = 0; i < 50; ++i) {
    const Mode mode = i % 2 ? Mode::kTest : Mode::kLive;
    const ApiKey k = new_api_key(mode);
    EXPECT_EQ(k.text.size(), 8u + 8 + 1 + 43);
    EXPECT_TRUE(
        k.text.starts_with((mode == Mode::kTest ? "pg_test_" : "pg_live_") + k.prefix + "_"));
    EXPECT_EQ(api_key_prefix(k.text), k.prefix);
    const auto parsed = parse_api_key(k.text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->prefix, k.prefix);
    EXPECT_EQ(parsed->mode, mode);
    EXPECT_EQ(k.hash, sha256(k.text));
    prefixes.insert(k.prefix);
  }
  EXPECT_EQ(prefixes.size(), 50u);
  EXPECT_TRUE(new_api_key().text.starts_with("pg_live_"));
}

TEST(SecretsTest, a_legacy_pgk_key_parses_as_a_live_key) {
  const std::string legacy = "pgk_AbCd-_01_" + std::string(43, 'x');
  const auto parsed = parse_api_key(legacy);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->prefix, "AbCd-_01");
  EXPECT_EQ(parsed->mode, Mode::kLive);
}

TEST(SecretsTest, api_key_parse_refuses_wrong_shapes) {
  for (const Mode mode : {Mode::kLive, Mode::kTest}) {
    const std::string good = new_api_key(mode).text;
    EXPECT_FALSE(api_key_prefix(""));
    EXPECT_FALSE(api_key_prefix(good.substr(1)));
    EXPECT_FALSE(api_key_prefix(good + "A"));
    EXPECT_FALSE(api_key_prefix(good.substr(0, good.size() - 1)));
    std::string bad_tag = good;
    bad_tag[0] = 'x';
    EXPECT_FALSE(api_key_prefix(bad_tag));
    std::string bad_char = good;
    bad_char.back() = '+';
    EXPECT_FALSE(api_key_prefix(bad_char));
    std::string bad_prefix_char = good;
    bad_prefix_char[9] = '.';
    EXPECT_FALSE(api_key_prefix(bad_prefix_char));
    std::string bad_sep = good;
    bad_sep[16] = '-';
    EXPECT_FALSE(api_key_prefix(bad_sep));
  }
  // Tags that are close but not ours; a legacy tag with a new key's length.
  const std::string secret = "_AAAAAAAA_" + std::string(43, 'B');
  for (const std::string tag : {"pg_demo", "pg_Live", "pg_tst_", "pgk-", "PG_TEST"}) {
    EXPECT_FALSE(parse_api_key(tag + secret)) << tag;
  }
  EXPECT_FALSE(parse_api_key("pgk_" + std::string(8, 'A') + "_" + std::string(47, 'B')));
  EXPECT_FALSE(parse_api_key("pg_test_" + std::string(8, 'A') + "_" + std::string(42, 'B')));
}

TEST(SecretsTest, sealed_secrets_open_only_with_the_same_key_and_context) {
  MasterKey key{};
  key[0] = 1;
  const std::string sealed = seal(key, "whsec_secret", "client-1");
  EXPECT_EQ(sealed.find("whsec_secret"), std::string::npos);
  EXPECT_EQ(unseal(key, sealed, "client-1"), "whsec_secret");
  EXPECT_FALSE(unseal(key, sealed, "client-2"));
  MasterKey other = key;
  other[1] = 9;
  EXPECT_FALSE(unseal(other, sealed, "client-1"));
  std::string tampered = sealed;
  tampered[14] ^= 1;
  EXPECT_FALSE(unseal(key, tampered, "client-1"));
  EXPECT_FALSE(unseal(key, sealed.substr(0, 10), "client-1"));
  EXPECT_NE(seal(key, "x", "c"), seal(key, "x", "c"));  // fresh nonce each time
}

TEST(SecretsTest, uuids_are_version_4_and_recognised) {
  const std::string u = uuid_v4();
  EXPECT_TRUE(is_uuid(u));
  EXPECT_EQ(u[14], '4');
  EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
  EXPECT_FALSE(is_uuid("not-a-uuid"));
  EXPECT_FALSE(is_uuid(u.substr(0, 35) + "G"));
}

TEST(SecretsTest, base64_variants_match_rfc4648_vectors) {
  // RFC 4648 §10.
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
}

TEST(DatesTest, yyyymmdd_is_nepal_date_and_rfc3339_is_utc) {
  // 2026-11-26T00:00:00Z is 05:45 in Kathmandu; Nepal's day begins at 18:15 UTC the day before.
  constexpr std::int64_t kMidnightUtc = 1'795'651'200'000;
  constexpr std::int64_t kNepalMidnight = kMidnightUtc - (5 * 3600 + 45 * 60) * 1000;
  EXPECT_EQ(yyyymmdd(kMidnightUtc), 20261126u);
  EXPECT_EQ(yyyymmdd(kNepalMidnight), 20261126u);
  EXPECT_EQ(yyyymmdd(kNepalMidnight - 1), 20261125u);  // 18:14:59.999 UTC: still the 25th
  EXPECT_EQ(yyyymmdd(0), 19700101u);
  EXPECT_EQ(rfc3339(kMidnightUtc + 3'723'000), "2026-11-26T01:02:03Z");
  EXPECT_EQ(yyyymmdd(951'782'400'000), 20000229u);  // a leap day
}

TEST(ServicePartsTest, public_signals_hash_depends_on_every_signal_and_the_order) {
  const std::string h = public_signals_hash({"1", "2", "3"});
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, hex(sha256("1,2,3")));
  EXPECT_NE(h, public_signals_hash({"1", "3", "2"}));
  EXPECT_NE(h, public_signals_hash({"12", "3"}));
}

TEST(ServicePartsTest, every_error_code_has_a_distinct_name_that_reads_back) {
  std::set<std::string_view> names;
  for (const ErrorCode code : kErrorCodes) {
    EXPECT_TRUE(names.insert(error_name(code)).second) << error_name(code);
    EXPECT_EQ(error_from_name(error_name(code)), code);
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(ErrorCode::kInternal) + 1);
  EXPECT_FALSE(error_from_name("NOPE"));
}

TEST(ServicePartsTest, semver_and_claim_type_checks) {
  EXPECT_TRUE(is_semver("1.0.0"));
  EXPECT_TRUE(is_semver("10.20.30"));
  EXPECT_FALSE(is_semver("1.0"));
  EXPECT_FALSE(is_semver("01.0.0"));
  EXPECT_FALSE(is_semver("1.0.0-rc1"));
  EXPECT_FALSE(is_semver("1..0"));
  EXPECT_FALSE(is_semver("1.0.0."));
  EXPECT_TRUE(is_claim_type("income_gte"));
  EXPECT_FALSE(is_claim_type("income"));
}

TEST(MemoryCacheTest, add_is_set_if_absent_until_the_key_expires) {
  FakeClock clock;
  cache::MemoryCache cache(clock);
  EXPECT_TRUE(cache.add("k", std::chrono::milliseconds(100)));
  EXPECT_FALSE(cache.add("k", std::chrono::milliseconds(100)));
  clock.now += 100;
  EXPECT_TRUE(cache.add("k", std::chrono::milliseconds(100)));
  cache.remove("k");
  EXPECT_TRUE(cache.add("k", std::chrono::milliseconds(100)));
}

TEST(MemoryCacheTest, token_bucket_allows_the_burst_then_refills_at_the_rate) {
  FakeClock clock;
  cache::MemoryCache cache(clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(cache.take_token("b", 2, 3).allowed);
  const RateDecision d = cache.take_token("b", 2, 3);
  EXPECT_FALSE(d.allowed);
  EXPECT_NEAR(d.retry_after_seconds, 0.5, 1e-9);
  clock.now += 500;
  EXPECT_TRUE(cache.take_token("b", 2, 3).allowed);
  EXPECT_FALSE(cache.take_token("b", 2, 3).allowed);
  EXPECT_TRUE(cache.take_token("other", 2, 3).allowed);
}

class TempDir {
 public:
  TempDir() : path(fs::temp_directory_path() / ("pg-core-test-" + uuid_v4())) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(CatalogTest, a_missing_directory_is_an_empty_catalog) {
  EXPECT_TRUE(
      CircuitCatalog::load(artifacts::FilesystemArtifacts("/nonexistent/artifacts"), {}).empty());
}

TEST(CatalogTest, refuses_a_key_whose_sha256_differs_from_the_manifest) {
  // The digest is checked before the key is parsed, so any text stands in for the key.
  TempDir dir;
  const fs::path c = dir.path / "age_over_18" / "1.0.0";
  write(c / "verification_key.json", R"({"protocol":"groth16"})");
  write(c / "manifest.json", R"({"claim_type":"age_over_18","version":"1.0.0",)"
                             R"("public_signals":["nullifier","root","binding","scope","today"],)"
                             R"("issuer":{"id":1},"sha256":{"verification_key.json":"00"}})");
  try {
    (void)CircuitCatalog::load(artifacts::FilesystemArtifacts(dir.path), {});
    FAIL() << "loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("SHA-256 differs"), std::string::npos) << e.what();
  }
}

TEST(CatalogTest, refuses_unknown_signals_and_missing_frame_signals) {
  TempDir dir;
  const fs::path c = dir.path / "age_over_18" / "1.0.0";
  write(c / "manifest.json",
        R"({"claim_type":"age_over_18","version":"1.0.0","public_signals":["nullifier","salary"],)"
        R"("issuer":{"id":1},"sha256":{}})");
  EXPECT_THROW((void)CircuitCatalog::load(artifacts::FilesystemArtifacts(dir.path), {}),
               std::runtime_error);
  write(c / "manifest.json",
        R"({"claim_type":"age_over_18","version":"1.0.0","public_signals":["nullifier","root"],)"
        R"("issuer":{"id":1},"sha256":{}})");
  try {
    (void)CircuitCatalog::load(artifacts::FilesystemArtifacts(dir.path), {});
    FAIL() << "loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("differ from age_over_18's"), std::string::npos)
        << e.what();
  }
}

TEST(CatalogTest, refuses_a_manifest_in_another_versions_directory) {
  TempDir dir;
  write(
      dir.path / "age_over_18" / "2.0.0" / "manifest.json",
      R"({"claim_type":"age_over_18","version":"1.0.0","public_signals":[],"issuer":{"id":1},"sha256":{}})");
  EXPECT_THROW((void)CircuitCatalog::load(artifacts::FilesystemArtifacts(dir.path), {}),
               std::runtime_error);
}

/// The error code of a refused outcome (kInternal when it was not refused: never expected).
template <class T>
ErrorCode code_of(const Outcome<T>& o) {
  return o.ok() ? ErrorCode::kInternal : o.error().code;
}

// create_request and status on SQLite with a fake clock; verify is covered end to end with
// wallet proofs in tests/integration/api_test.mjs.
class ServiceFlowTest : public ::testing::Test {
 protected:
  ServiceFlowTest()
      : store_({dir_.path / "db.sqlite"}),
        cache_(clock_),
        service_(store_, cache_, clock_, catalog_, settings()) {
    client_.id = uuid_v4();
    client_.name = "bank";
    const ApiKey key = new_api_key();
    key_ = key.text;
    client_.key_prefix = key.prefix;
    client_.key_hash = key.hash;
    client_.scopes = {"age_over_18"};
    client_.domains = {"bank.example"};
    store_.insert_client(client_);
  }
  static ServiceSettings settings() {
    ServiceSettings s;
    s.rate_per_second = 1;
    s.rate_burst = 2;
    return s;
  }
  TempDir dir_;
  FakeClock clock_;
  store::SqliteStore store_;
  cache::MemoryCache cache_;
  CircuitCatalog catalog_;
  ProofService service_;
  Client client_;
  std::string key_;
};

TEST_F(ServiceFlowTest, authenticates_a_bearer_key_and_refuses_others) {
  EXPECT_TRUE(service_.authenticate("Bearer " + key_).ok());
  for (const std::string& bad : std::vector<std::string>{
           std::string(), "Basic " + key_, "Bearer",
           "Bearer " + key_.substr(0, key_.size() - 1) + (key_.back() == 'A' ? "B" : "A"),
           "Bearer " + new_api_key().text}) {
    const auto r = service_.authenticate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized) << bad;
    EXPECT_EQ(r.error().field, "Authorization") << bad;
  }
}

TEST_F(ServiceFlowTest, rate_limit_refuses_with_a_retry_hint) {
  EXPECT_TRUE(service_.authenticate("Bearer " + key_).ok());
  EXPECT_TRUE(service_.authenticate("Bearer " + key_).ok());
  const auto r = service_.authenticate("Bearer " + key_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(r.error().retry_after_s, 1);
  clock_.now += 1000;
  EXPECT_TRUE(service_.authenticate("Bearer " + key_).ok());
}

TEST_F(ServiceFlowTest, create_request_refuses_scope_domain_and_unknown_circuits_in_that_order) {
  EXPECT_EQ(code_of(service_.create_request(client_, R"({"claim_type":"education"})")),
            ErrorCode::kUnauthorizedScope);
  EXPECT_EQ(code_of(service_.create_request(
                client_, R"({"claim_type":"age_over_18","verifier_domain":"evil.example"})")),
            ErrorCode::kUnauthorizedScope);
  EXPECT_EQ(code_of(service_.create_request(client_, R"({"claim_type":"age_over_18"})")),
            ErrorCode::kUnknownCircuit);
  EXPECT_EQ(code_of(service_.create_request(client_, R"({"claim_type":"nope"})")),
            ErrorCode::kUnknownCircuit);
  const auto bad = service_.create_request(client_, R"({"claim_type":"age_over_18","extra":1})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(bad.error().field, "extra");
  EXPECT_EQ(code_of(service_.create_request(
                client_, R"({"claim_type":"age_over_18","claim_type":"age_over_18"})")),
            ErrorCode::kInvalidRequest);
}

TEST_F(ServiceFlowTest, status_is_visible_to_the_owner_only) {
  ProofRecord p;
  p.id = uuid_v4();
  p.client_id = client_.id;
  p.claim_type = "age_over_18";
  p.circuit_version = "1.0.0";
  p.status = "verified";
  p.public_hash = std::string(64, 'a');
  p.request_nonce = "AAAAAAAAAAAAAAAAAAAAAA";
  p.created_at = p.verified_at = clock_.now;
  ASSERT_EQ(store_.record_proof(p, nullptr, nullptr), RecordOutcome::kStored);
  const auto mine = service_.status(client_, p.id);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->status, "verified");
  Client other = client_;
  other.id = uuid_v4();
  EXPECT_EQ(code_of(service_.status(other, p.id)), ErrorCode::kNotFound);
  EXPECT_EQ(code_of(service_.status(client_, uuid_v4())), ErrorCode::kNotFound);
  EXPECT_EQ(code_of(service_.status(client_, "../../etc/passwd")), ErrorCode::kNotFound);
}

TEST(VerifyDecodeTest, names_the_field_of_each_malformed_body) {
  const auto field = [](std::string_view body) {
    const auto r = ProofService::decode_verify(body);
    if (r.ok()) return std::string("<decoded>");
    return r.error().field.empty() ? std::string("<none>") : r.error().field;
  };
  EXPECT_EQ(field("[]"), "body");
  EXPECT_EQ(field(R"({"x":1})"), "x");
  EXPECT_EQ(field(R"({"":{"pcol":"grothe~"}})"), R"("")");  // found by verify_request_fuzz
  EXPECT_EQ(field(R"({"claim_type":"a"})"), "circuit_version");
  const std::string rest =
      R"(,"circuit_version":"1.0.0","proof":{},"public_signals":["1"],"request":{"nonce":"AAAAAAAAAAAAAAAAAAAAAA","verifier_domain":"bank.example"}})";
  EXPECT_EQ(field(R"({"claim_type":"A B")" + rest), "claim_type");
  EXPECT_EQ(
      field(R"({"claim_type":"age_over_18")" + rest.substr(0, rest.size() - 2) + R"(,"x":1}})"),
      "request.x");
  EXPECT_EQ(
      field(
          R"({"claim_type":"age_over_18","circuit_version":"1.0","proof":{},"public_signals":["1"],"request":{}})"),
      "circuit_version");
  EXPECT_EQ(
      field(
          R"({"claim_type":"age_over_18","circuit_version":"1.0.0","proof":{},"public_signals":["1"],"request":{"nonce":"short","verifier_domain":"bank.example"}})"),
      "request.nonce");
  EXPECT_EQ(
      field(
          R"({"claim_type":"age_over_18","circuit_version":"1.0.0","proof":{},"public_signals":["1"],"request":{"nonce":"AAAAAAAAAAAAAAAAAAAAAA","verifier_domain":"Bank.Example"}})"),
      "request.verifier_domain");
  EXPECT_EQ(
      field(
          R"({"claim_type":"age_over_18","circuit_version":"1.0.0","proof":{},"public_signals":["01"],"request":{"nonce":"AAAAAAAAAAAAAAAAAAAAAA","verifier_domain":"bank.example"}})"),
      "public_signals[0]");
  EXPECT_EQ(field(R"({"claim_type":"age_over_18")" + rest).substr(0, 5), "proof");
}

}  // namespace
}  // namespace pg::core
