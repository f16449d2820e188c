// The verify flow of docs/api.md, step by step, over in-memory fakes of the ports: every check
// in its documented order and every error code the flow can give, with proofs forged under a key
// whose trapdoor the test knows (tests/support/trapdoor.hpp), so a valid proof costs
// milliseconds. Also the key policy: development and known trapdoor keys are refused.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cache/memory/memory_cache.hpp"
#include "core/binding.hpp"
#include "core/ceremony_transcript.hpp"
#include "core/known_keys.hpp"
#include "core/secrets.hpp"
#include "core/service.hpp"
#include "support/trapdoor.hpp"

namespace pg::core {
namespace {

namespace json = boost::json;
using crypto::Fr;

constexpr UnixMillis kNow = 1'795'651'200'000;  // 2026-11-26T00:00:00Z
constexpr std::string_view kRoot = "123456789";
constexpr std::string_view kIncomeRoot = "987654321";

class FakeClock final : public Clock {
 public:
  UnixMillis now_ms() const override { return now; }
  UnixMillis now = kNow;
};

/// The Store port in memory: one mutex, maps, and the unique (client, nonce) constraint of
/// record_proof. `fail_next_record` makes the next record_proof throw StoreError.
class MemoryStore final : public Store {
 public:
  bool ping() noexcept override { return true; }
  void insert_client(const Client& c) override {
    std::lock_guard l(mu_);
    clients_[c.key_prefix] = c;
  }
  using Store::find_client_by_prefix;
  std::optional<Client> find_client(std::string_view) override { return std::nullopt; }
  std::vector<Client> list_clients_after(UnixMillis, std::string_view, std::size_t) override {
    return {};
  }
  std::vector<ClientKey> client_keys(std::string_view) override { return {}; }
  std::optional<Client> find_client_by_prefix(std::string_view prefix, UnixMillis) override {
    std::lock_guard l(mu_);
    const auto it = clients_.find(std::string(prefix));
    return it == clients_.end() ? std::nullopt : std::optional<Client>(it->second);
  }
  std::vector<Client> list_clients() override {
    std::lock_guard l(mu_);
    std::vector<Client> out;
    for (const auto& [k, c] : clients_) out.push_back(c);
    return out;
  }
  void touch_client(std::string_view, std::string_view, UnixMillis) override {}
  void insert_request(const ProofRequest& r) override {
    std::lock_guard l(mu_);
    requests_[r.client_id + "/" + r.nonce] = r;
  }
  std::optional<ProofRequest> find_request(std::string_view client_id,
                                           std::string_view nonce) override {
    std::lock_guard l(mu_);
    const auto it = requests_.find(std::string(client_id) + "/" + std::string(nonce));
    return it == requests_.end() ? std::nullopt : std::optional<ProofRequest>(it->second);
  }
  RecordOutcome record_proof(const ProofRecord& proof, const OutboxEvent* event,
                             const IdempotencyRecord* idem) override {
    std::lock_guard l(mu_);
    if (fail_next_record) {
      fail_next_record = false;
      throw StoreError("disk on fire");
    }
    if (!answered_.insert(proof.client_id + "/" + proof.request_nonce).second) {
      return RecordOutcome::kNonceTaken;
    }
    proofs_[proof.id] = proof;
    if (event) events_.push_back(*event);
    if (idem) idempotency_[idem->client_id + "/" + idem->key] = *idem;
    return RecordOutcome::kStored;
  }
  std::optional<ProofRecord> find_proof(std::string_view id) override {
    std::lock_guard l(mu_);
    const auto it = proofs_.find(std::string(id));
    return it == proofs_.end() ? std::nullopt : std::optional<ProofRecord>(it->second);
  }
  bool nonce_answered(std::string_view client_id, std::string_view nonce) override {
    std::lock_guard l(mu_);
    return answered_.contains(std::string(client_id) + "/" + std::string(nonce));
  }
  std::optional<IdempotencyRecord> find_idempotency(std::string_view client_id,
                                                    std::string_view key, UnixMillis now) override {
    std::lock_guard l(mu_);
    const auto it = idempotency_.find(std::string(client_id) + "/" + std::string(key));
    if (it == idempotency_.end() || it->second.expires_at < now) return std::nullopt;
    return it->second;
  }
  void save_idempotency(const IdempotencyRecord& r) override {
    std::lock_guard l(mu_);
    idempotency_[r.client_id + "/" + r.key] = r;
  }
  using Store::publish_root;
  PublishOutcome publish_root(const IssuerRoot& root, UnixMillis now) override {
    std::lock_guard l(mu_);
    auto& roots = roots_[{root.issuer_id, root.sandbox}];
    for (const auto& r : roots) {
      if (r.root == root.root) {
        return r.superseded_at == 0 ? PublishOutcome::kAlreadyCurrent
                                    : PublishOutcome::kReplacedBefore;
      }
    }
    if (!roots.empty()) roots.back().superseded_at = now;
    roots.push_back({root.issuer_id, root.root, now, 0, root.seq,
                     root.issued_at != 0 ? root.issued_at : now, root.sandbox});
    return PublishOutcome::kPublished;
  }
  // The verify flow follows no feed: the keys are kept as given (the stores' suites check the
  // upsert rules).
  PublishOutcome publish_feed_root(const IssuerRoot& root, const std::vector<FeedKey>& keys,
                                   UnixMillis now) override {
    const auto outcome = publish_root(root, now);
    std::lock_guard l(mu_);
    if (outcome == PublishOutcome::kPublished) {
      for (const auto& k : keys) feed_keys_[{k.issuer_id, k.sandbox}].push_back(k);
    }
    return outcome;
  }
  using Store::feed_keys;
  using Store::find_root;
  using Store::latest_feed_root;
  using Store::recent_roots;
  std::vector<FeedKey> feed_keys(std::uint32_t issuer, bool sandbox) override {
    std::lock_guard l(mu_);
    return feed_keys_[{issuer, sandbox}];
  }
  std::optional<IssuerRoot> find_root(std::uint32_t issuer, std::string_view root,
                                      bool sandbox) override {
    std::lock_guard l(mu_);
    for (const auto& r : roots_[{issuer, sandbox}]) {
      if (r.root == root) return r;
    }
    return std::nullopt;
  }
  std::optional<IssuerRoot> latest_feed_root(std::uint32_t issuer, bool sandbox) override {
    std::lock_guard l(mu_);
    std::optional<IssuerRoot> out;
    for (const auto& r : roots_[{issuer, sandbox}]) {
      if (r.seq > 0 && (!out || r.seq > out->seq)) out = r;
    }
    return out;
  }
  std::vector<IssuerRoot> recent_roots(std::uint32_t issuer, UnixMillis since,
                                       bool sandbox) override {
    std::lock_guard l(mu_);
    std::vector<IssuerRoot> out;
    for (const auto& r : roots_[{issuer, sandbox}]) {
      if (r.superseded_at == 0 || r.superseded_at >= since) out.push_back(r);
    }
    return out;
  }
  void set_circuit_enabled(std::string_view claim, std::string_view version, bool enabled,
                           UnixMillis) override {
    std::lock_guard l(mu_);
    enabled_[std::string(claim) + "/" + std::string(version)] = enabled;
  }
  std::optional<bool> circuit_enabled(std::string_view claim, std::string_view version) override {
    std::lock_guard l(mu_);
    const auto it = enabled_.find(std::string(claim) + "/" + std::string(version));
    return it == enabled_.end() ? std::nullopt : std::optional<bool>(it->second);
  }
  std::vector<OutboxEvent> pending_events(std::size_t limit) override {
    std::lock_guard l(mu_);
    return {events_.begin(), events_.begin() + static_cast<long>(std::min(limit, events_.size()))};
  }
  std::size_t proof_count() {
    std::lock_guard l(mu_);
    return proofs_.size();
  }

  bool fail_next_record = false;

 private:
  std::mutex mu_;
  std::map<std::string, Client> clients_;
  std::map<std::string, ProofRequest> requests_;
  std::map<std::string, ProofRecord> proofs_;
  std::set<std::string> answered_;
  std::vector<OutboxEvent> events_;
  std::map<std::string, IdempotencyRecord> idempotency_;
  std::map<std::pair<std::uint32_t, bool>, std::vector<IssuerRoot>> roots_;  // (issuer, sandbox)
  std::map<std::pair<std::uint32_t, bool>, std::vector<FeedKey>> feed_keys_;
  std::map<std::string, bool> enabled_;
};

/// The artifacts port in memory: (claim, version, file) -> bytes.
class MemoryArtifacts final : public ArtifactSource {
 public:
  std::vector<std::pair<std::string, std::string>> versions() const override {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : files) {
      if (std::get<2>(k) == "manifest.json") out.emplace(std::get<0>(k), std::get<1>(k));
    }
    return {out.begin(), out.end()};
  }
  std::optional<std::string> read(std::string_view claim, std::string_view version,
                                  std::string_view file, std::size_t limit) const override {
    const auto it = files.find({std::string(claim), std::string(version), std::string(file)});
    if (it == files.end()) return std::nullopt;
    if (it->second.size() > limit) throw ArtifactError("too large");
    return it->second;
  }
  std::string describe(std::string_view claim, std::string_view version,
                       std::string_view file) const override {
    return "memory:" + std::string(claim) + "/" + std::string(version) + "/" + std::string(file);
  }

  /// A circuit version of `claim` under the trapdoor key of `seed`, from a ceremony of `kind`.
  void add(const std::string& claim, const std::string& version, const testing::Trapdoor& t,
           std::string_view kind) {
    const std::string vk = testing::verification_key_json(t, "test key");
    add_key(claim, version, vk, kind);
  }
  /// A production key gets a transcript.json describing it (transcript_for), and the manifest
  /// its digest.
  void add_key(const std::string& claim, const std::string& version, const std::string& vk,
               std::string_view kind) {
    const ClaimSpec& spec = *claim_spec(claim);
    json::array signals;
    for (const auto s : spec.public_signals) signals.emplace_back(s);
    json::object manifest{
        {"claim_type", claim},
        {"version", version},
        {"public_signals", signals},
        {"issuer", json::object{{"id", spec.issuer_id}, {"name", spec.issuer_name}}},
        {"ceremony", json::object{{"kind", kind}}},
        {"sha256", json::object{{"verification_key.json", hex(sha256(vk))}}}};
    files[{claim, version, "verification_key.json"}] = vk;
    files[{claim, version, "manifest.json"}] = json::serialize(manifest);
    if (kind == "production") set_transcript(claim, version, transcript_for(hex(sha256(vk))));
  }

  /// A transcript as scripts/ceremony.mjs verify writes it: one contribution and the beacon.
  static json::object transcript_for(std::string_view vk_sha256) {
    return json::object{{"format", kTranscriptFormat},
                        {"contributions", json::array{json::object{{"index", 1},
                                                                   {"kind", "contribution"},
                                                                   {"name", "alice"},
                                                                   {"hash", std::string(128, 'a')}},
                                                      json::object{{"index", 2},
                                                                   {"kind", "beacon"},
                                                                   {"name", "final beacon"},
                                                                   {"hash", std::string(128, 'b')},
                                                                   {"beacon", "00ff"},
                                                                   {"iterations_exp", 10}}}},
                        {"contributors", 1},
                        {"beacon", json::object{{"hash", "00ff"}, {"iterations_exp", 10}}},
                        {"verification_key_sha256", vk_sha256}};
  }

  /// Writes `transcript` as the version's transcript.json and its digest into the manifest
  /// (ceremony.transcript_sha256, ceremony.contributors, sha256["transcript.json"]).
  void set_transcript(const std::string& claim, const std::string& version,
                      const json::object& transcript) {
    const std::string text = json::serialize(transcript);
    files[{claim, version, "transcript.json"}] = text;
    json::value m = json::parse(files[{claim, version, "manifest.json"}]);
    m.at("ceremony").as_object()["transcript_sha256"] = hex(sha256(text));
    m.at("ceremony").as_object()["contributors"] = 1;
    m.at("sha256").as_object()["transcript.json"] = hex(sha256(text));
    files[{claim, version, "manifest.json"}] = json::serialize(m);
  }

  std::map<std::tuple<std::string, std::string, std::string>, std::string> files;
};

const testing::Trapdoor& age_key() {
  static const testing::Trapdoor t = testing::make_trapdoor("verify-flow age", 5);
  return t;
}
const testing::Trapdoor& income_key() {
  static const testing::Trapdoor t = testing::make_trapdoor("verify-flow income", 7);
  return t;
}

class VerifyFlowTest : public ::testing::Test {
 protected:
  VerifyFlowTest() : cache_(clock_) {
    artifacts_.add("age_over_18", "1.0.0", age_key(), "production");
    artifacts_.add("age_over_18", "1.1.0", age_key(), "production");
    artifacts_.add("income_gte", "1.0.0", income_key(), "production");
    catalog_ = CircuitCatalog::load(artifacts_, {});
    service_.emplace(store_, cache_, clock_, catalog_, settings());
    const ApiKey key = new_api_key();
    key_ = key.text;
    client_.id = uuid_v4();
    client_.name = "bank";
    client_.key_prefix = key.prefix;
    client_.key_hash = key.hash;
    client_.scopes = {"age_over_18", "income_gte"};
    client_.domains = {"bank.example", "loans.bank.example"};
    client_.webhook_url = "https://bank.example/hooks";
    store_.insert_client(client_);
    store_.publish_root(1, kRoot, kNow - 10'000);
    store_.publish_root(3, kIncomeRoot, kNow - 10'000);
  }
  static ServiceSettings settings() {
    ServiceSettings s;
    s.rate_per_second = 0;
    s.root_grace = std::chrono::seconds(60);
    return s;
  }

  ProofRequest request(std::string_view body) {
    auto r = service_->create_request(client_, body);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
    return *r;
  }
  ProofRequest age_request() {
    return request(R"({"claim_type":"age_over_18","circuit_version":"1.0.0"})");
  }

  /// The public signals a holder's wallet would prove for `req`, by name, before `change`.
  static std::vector<Fr> publics_for(const ProofRequest& req) {
    const ClaimSpec& spec = *claim_spec(req.claim_type);
    std::vector<Fr> out;
    for (const auto name : spec.public_signals) {
      if (name == "nullifier") {
        out.push_back(testing::derive("holder", "nullifier", req.verifier_domain));
      } else if (name == "root") {
        out.push_back(
            Fr::from_u64(std::stoull(std::string(spec.issuer_id == 1 ? kRoot : kIncomeRoot))));
      } else if (name == "binding") {
        out.push_back(
            request_binding({req.nonce, req.verifier_domain, req.claim_type, req.circuit_version}));
      } else if (name == "scope") {
        out.push_back(partner_scope(req.verifier_domain));
      } else {
        for (const auto& [k, v] : req.params) {
          if (k == name) out.push_back(Fr::from_u64(v));
        }
      }
    }
    return out;
  }
  /// A verify body for `req` with `publics`, its proof forged for `proved` (default: publics).
  static std::string body_for(const ProofRequest& req, const std::vector<Fr>& publics,
                              std::optional<std::vector<Fr>> proved = std::nullopt) {
    const auto& key = req.claim_type == "income_gte" ? income_key() : age_key();
    const crypto::Proof proof =
        testing::forge(key, proved.value_or(publics), testing::derive("a", "", req.nonce),
                       testing::derive("b", "", req.nonce));
    json::array signals;
    for (const auto& x : publics) signals.push_back(json::value(testing::decimal(x)));
    return json::serialize(json::object{
        {"claim_type", req.claim_type},
        {"circuit_version", req.circuit_version},
        {"proof", testing::proof_json(proof)},
        {"public_signals", signals},
        {"request", json::object{{"nonce", req.nonce}, {"verifier_domain", req.verifier_domain}}}});
  }
  static std::string body_for(const ProofRequest& req) { return body_for(req, publics_for(req)); }

  VerifyOutcome verify(const std::string& body,
                       std::optional<std::string_view> idem = std::nullopt) {
    return verify_as(client_, body, idem);
  }
  VerifyOutcome verify_as(const Client& client, const std::string& body,
                          std::optional<std::string_view> idem = std::nullopt) {
    auto in = ProofService::decode_verify(body);
    EXPECT_TRUE(in.ok()) << (in.ok() ? "" : in.error().field + ": " + in.error().detail);
    return service_->verify(client, *in, body, idem);
  }
  static const ApiError& refusal(const VerifyOutcome& o) {
    static const ApiError none{ErrorCode::kInternal, "", "verified"};
    const auto* e = std::get_if<ApiError>(&o.result);
    return e ? *e : none;
  }
  static ErrorCode code(const VerifyOutcome& o) { return refusal(o).code; }

  FakeClock clock_;
  MemoryStore store_;
  cache::MemoryCache cache_;
  MemoryArtifacts artifacts_;
  CircuitCatalog catalog_;
  std::optional<ProofService> service_;
  Client client_;
  std::string key_;
};

// --- 1. the API key (authenticate) ---

TEST_F(VerifyFlowTest, step1_refuses_a_missing_or_unknown_key_naming_the_header) {
  EXPECT_TRUE(service_->authenticate("Bearer " + key_).ok());
  for (const std::string& bad :
       std::vector<std::string>{"", "Bearer " + new_api_key().text, "Basic x"}) {
    const auto r = service_->authenticate(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
    EXPECT_EQ(r.error().field, "Authorization");
  }
}

TEST_F(VerifyFlowTest, step1_rate_limit_refuses_with_a_retry_hint) {
  ServiceSettings s = settings();
  s.rate_per_second = 1;
  s.rate_burst = 1;
  ProofService limited(store_, cache_, clock_, catalog_, s);
  EXPECT_TRUE(limited.authenticate("Bearer " + key_).ok());
  const auto r = limited.authenticate("Bearer " + key_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(r.error().retry_after_s, 1);
}

// --- 2. strict decoding ---

TEST_F(VerifyFlowTest, step2_refuses_unknown_proof_members_and_requires_protocol_and_curve) {
  const std::string body = body_for(age_request());
  auto with_proof = [&](const std::function<void(json::object&)>& change) {
    json::value v = json::parse(body);
    change(v.at("proof").as_object());
    const auto r = ProofService::decode_verify(json::serialize(v));
    return r.ok() ? std::string("<decoded>") : r.error().field;
  };
  EXPECT_EQ(with_proof([](json::object&) {}), "<decoded>");
  EXPECT_EQ(with_proof([](json::object& p) { p["extra"] = 1; }), "proof.extra");
  EXPECT_EQ(with_proof([](json::object& p) { p.erase("protocol"); }), "proof.protocol");
  EXPECT_EQ(with_proof([](json::object& p) { p.erase("curve"); }), "proof.curve");
  EXPECT_EQ(with_proof([](json::object& p) { p["protocol"] = "plonk"; }), "proof.protocol");
}

// --- 3. scope and domain ---

TEST_F(VerifyFlowTest, step3_refuses_a_claim_or_domain_outside_the_partners_scope) {
  const std::string body = body_for(age_request());
  Client narrow = client_;
  narrow.scopes = {"income_gte"};
  auto in = ProofService::decode_verify(body);
  ASSERT_TRUE(in.ok());
  const auto r = service_->verify(narrow, *in, body, std::nullopt);
  EXPECT_EQ(code(r), ErrorCode::kUnauthorizedScope);
  EXPECT_EQ(refusal(r).field, "claim_type");
  Client elsewhere = client_;
  elsewhere.domains = {"other.example"};
  const auto d = service_->verify(elsewhere, *in, body, std::nullopt);
  EXPECT_EQ(code(d), ErrorCode::kUnauthorizedScope);
  EXPECT_EQ(refusal(d).field, "request.verifier_domain");
  EXPECT_EQ(store_.proof_count(), 0u);  // nothing recorded, the nonce is still good
  EXPECT_TRUE(std::holds_alternative<Verified>(verify(body).result));
}

// --- 4. idempotency ---

TEST_F(VerifyFlowTest, step4_replays_the_stored_outcome_and_refuses_another_body) {
  const std::string body = body_for(age_request());
  const auto first = verify(body, "key-1");
  ASSERT_TRUE(std::holds_alternative<Verified>(first.result));
  EXPECT_FALSE(first.replayed);
  const auto again = verify(body, "key-1");
  ASSERT_TRUE(std::holds_alternative<Verified>(again.result));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(std::get<Verified>(again.result).proof_id, std::get<Verified>(first.result).proof_id);
  EXPECT_EQ(std::get<Verified>(again.result).nullifier, std::get<Verified>(first.result).nullifier);
  EXPECT_EQ(std::get<Verified>(again.result).at, kNow);
  const auto other = verify(body_for(age_request()), "key-1");
  EXPECT_EQ(code(other), ErrorCode::kIdempotencyConflict);
  EXPECT_EQ(refusal(verify(body, std::string(256, 'k'))).field, "Idempotency-Key");
}

TEST_F(VerifyFlowTest, step4_a_key_in_flight_is_a_conflict_with_a_retry_hint) {
  const std::string body = body_for(age_request());
  ASSERT_TRUE(cache_.add("idem:" + client_.id + ":busy", std::chrono::seconds(30)));
  const auto r = verify(body, "busy");
  EXPECT_EQ(code(r), ErrorCode::kIdempotencyConflict);
  EXPECT_EQ(refusal(r).retry_after_s, 1);
}

TEST_F(VerifyFlowTest, step4_a_recorded_refusal_replays_with_its_proof_id) {
  const ProofRequest req = age_request();
  std::vector<Fr> publics = publics_for(req);
  const std::string body = body_for(req, publics, std::vector<Fr>(publics.size(), Fr::from_u64(7)));
  const auto first = verify(body, "k");
  ASSERT_EQ(code(first), ErrorCode::kInvalidProof);
  EXPECT_FALSE(refusal(first).proof_id.empty());
  const auto again = verify(body, "k");
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(code(again), ErrorCode::kInvalidProof);
  EXPECT_EQ(refusal(again).proof_id, refusal(first).proof_id);
  EXPECT_EQ(refusal(again).field, "proof");
}

// --- 5. the proof request and its nonce ---

TEST_F(VerifyFlowTest, step5_refuses_an_unknown_nonce_and_a_body_that_differs_from_its_request) {
  const ProofRequest req = age_request();
  ProofRequest unknown = req;
  unknown.nonce = "BBBBBBBBBBBBBBBBBBBBBB";
  EXPECT_EQ(code(verify(body_for(unknown))), ErrorCode::kNotFound);
  ProofRequest other_version = req;
  other_version.circuit_version = "1.1.0";
  const auto v = verify(body_for(other_version));
  EXPECT_EQ(code(v), ErrorCode::kBindingMismatch);
  EXPECT_EQ(refusal(v).field, "circuit_version");
  ProofRequest other_domain = req;
  other_domain.verifier_domain = "loans.bank.example";
  const auto d = verify(body_for(other_domain));
  EXPECT_EQ(code(d), ErrorCode::kBindingMismatch);
  EXPECT_EQ(refusal(d).field, "request.verifier_domain");
  ProofRequest other_claim = req;
  other_claim.claim_type = "income_gte";
  const auto c = verify(body_for(other_claim, publics_for(req)));
  EXPECT_EQ(code(c), ErrorCode::kBindingMismatch);
  EXPECT_EQ(refusal(c).field, "claim_type");
  EXPECT_EQ(store_.proof_count(), 0u);
  EXPECT_TRUE(std::holds_alternative<Verified>(verify(body_for(req)).result));
}

TEST_F(VerifyFlowTest, step5_an_account_link_is_checked_before_the_nonce_and_kept_when_verified) {
  ServiceSettings s = settings();
  std::string seen_nonce;
  s.account_links = [&](std::string_view token, std::string_view nonce) -> Outcome<std::string> {
    seen_nonce = std::string(nonce);
    if (token == "good") return std::string("user-1");
    return invalid("account_link", "the account link token is not valid");
  };
  ProofService linked(store_, cache_, clock_, catalog_, s);
  const ProofRequest req = age_request();
  json::value body = json::parse(body_for(req));
  const auto run = [&](ProofService& service, std::string_view link) {
    body.as_object()["account_link"] = link;
    const std::string text = json::serialize(body);
    auto in = ProofService::decode_verify(text);
    EXPECT_TRUE(in.ok());
    return service.verify(client_, *in, text, std::nullopt);
  };
  // Refused (strict) before anything is recorded: the nonce stays unspent.
  const auto refused = run(linked, "bad");
  EXPECT_EQ(code(refused), ErrorCode::kInvalidRequest);
  EXPECT_EQ(refusal(refused).field, "account_link");
  EXPECT_TRUE(refusal(refused).proof_id.empty());
  EXPECT_EQ(seen_nonce, req.nonce);
  EXPECT_FALSE(store_.nonce_answered(client_.id, req.nonce));
  // Without accounts wired, a link is refused too.
  EXPECT_EQ(refusal(run(*service_, "good")).field, "account_link");
  const auto ok = run(linked, "good");
  ASSERT_TRUE(std::holds_alternative<Verified>(ok.result));
  EXPECT_EQ(store_.find_proof(std::get<Verified>(ok.result).proof_id)->user_id, "user-1");
  // A proof without a link names no account.
  const auto plain = verify(body_for(age_request()));
  ASSERT_TRUE(std::holds_alternative<Verified>(plain.result));
  EXPECT_EQ(store_.find_proof(std::get<Verified>(plain.result).proof_id)->user_id, "");
  body.as_object()["account_link"] = 7;
  const auto typed = ProofService::decode_verify(json::serialize(body));
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.error().field, "account_link");
}

TEST_F(VerifyFlowTest, step5_a_refused_account_link_is_not_remembered_under_the_idempotency_key) {
  ServiceSettings s = settings();
  s.account_links = [](std::string_view, std::string_view) -> Outcome<std::string> {
    return invalid("account_link", "the account link token is not valid");
  };
  ProofService linked(store_, cache_, clock_, catalog_, s);
  const std::string plain = body_for(age_request());
  json::value with_link = json::parse(plain);
  with_link.as_object()["account_link"] = "bad";
  const std::string text = json::serialize(with_link);
  auto in = ProofService::decode_verify(text);
  ASSERT_TRUE(in.ok());
  const auto refused = linked.verify(client_, *in, text, std::string("key-link"));
  EXPECT_EQ(refusal(refused).field, "account_link");
  // The same proof again without the link, under the same key: verified, not a conflict.
  auto again = ProofService::decode_verify(plain);
  ASSERT_TRUE(again.ok());
  const auto retried = linked.verify(client_, *again, plain, std::string("key-link"));
  ASSERT_TRUE(std::holds_alternative<Verified>(retried.result)) << refusal(retried).detail;
  EXPECT_FALSE(retried.replayed);
}

TEST_F(VerifyFlowTest, step5_a_test_mode_client_cannot_link_a_citizens_account) {
  ServiceSettings s = settings();
  bool asked = false;
  s.account_links = [&](std::string_view, std::string_view) -> Outcome<std::string> {
    asked = true;
    return std::string("user-1");
  };
  ProofService linked(store_, cache_, clock_, catalog_, s);
  const ApiKey key = new_api_key(Mode::kTest);
  Client twin = client_;
  twin.id = uuid_v4();
  twin.key_prefix = key.prefix;
  twin.key_hash = key.hash;
  twin.mode = Mode::kTest;
  twin.live_client_id = client_.id;
  store_.insert_client(twin);
  auto req = service_->create_request(twin, R"({"claim_type":"age_over_18"})");
  ASSERT_TRUE(req.ok());
  json::value body = json::parse(body_for(*req));
  body.as_object()["account_link"] = "good";
  const std::string text = json::serialize(body);
  auto in = ProofService::decode_verify(text);
  ASSERT_TRUE(in.ok());
  // Test proofs never reach a citizen's account: refused before the link is even read, naming
  // it, and nothing is recorded (the nonce stays unspent).
  const auto refused = linked.verify(twin, *in, text, std::nullopt);
  EXPECT_EQ(code(refused), ErrorCode::kInvalidRequest);
  EXPECT_EQ(refusal(refused).field, "account_link");
  EXPECT_NE(refusal(refused).detail.find("live verifications only"), std::string::npos);
  EXPECT_FALSE(asked);
  EXPECT_FALSE(store_.nonce_answered(twin.id, req->nonce));
  EXPECT_EQ(store_.proof_count(), 0u);
}

TEST_F(VerifyFlowTest, step5_refuses_an_expired_request) {
  const ProofRequest req = age_request();
  clock_.now = req.expires_at + 1;
  const auto r = verify(body_for(req));
  EXPECT_EQ(code(r), ErrorCode::kRequestExpired);
  EXPECT_EQ(refusal(r).field, "request.nonce");
}

TEST_F(VerifyFlowTest, step5_a_nonce_answers_once_by_the_cache_and_by_the_database) {
  const ProofRequest req = age_request();
  const std::string body = body_for(req);
  ASSERT_TRUE(std::holds_alternative<Verified>(verify(body).result));
  EXPECT_EQ(code(verify(body)), ErrorCode::kNonceReplay);
  EXPECT_EQ(service_->counters().nonce_cache_taken.load(), 1u);
  // A cache that lost its keys (a Redis restart): the database's answer is the last word.
  cache::MemoryCache empty(clock_);
  ProofService fresh(store_, empty, clock_, catalog_, settings());
  auto in = ProofService::decode_verify(body);
  const auto r = fresh.verify(client_, *in, body, std::nullopt);
  EXPECT_EQ(code(r), ErrorCode::kNonceReplay);
  EXPECT_EQ(fresh.counters().nonce_db_taken.load(), 1u);
}

TEST_F(VerifyFlowTest, step5_a_storage_failure_spends_nothing_and_a_retry_succeeds) {
  const std::string body = body_for(age_request());
  store_.fail_next_record = true;
  EXPECT_THROW(verify(body), StoreError);
  EXPECT_TRUE(std::holds_alternative<Verified>(verify(body).result));
}

// --- 6. the circuit ---

TEST_F(VerifyFlowTest, step6_refuses_an_unknown_or_disabled_circuit_and_a_wrong_signal_count) {
  ProofRequest req = age_request();
  req.circuit_version = "9.9.9";
  req.nonce = "CCCCCCCCCCCCCCCCCCCCCC";
  store_.insert_request(req);
  EXPECT_EQ(code(verify(body_for(req))), ErrorCode::kUnknownCircuit);

  const ProofRequest disabled =
      request(R"({"claim_type":"age_over_18","circuit_version":"1.1.0"})");
  store_.set_circuit_enabled("age_over_18", "1.1.0", false, kNow);
  EXPECT_EQ(code(verify(body_for(disabled))), ErrorCode::kCircuitDisabled);

  const ProofRequest short_one = age_request();
  std::vector<Fr> publics = publics_for(short_one);
  publics.pop_back();
  const auto r = verify(body_for(short_one, publics));
  EXPECT_EQ(code(r), ErrorCode::kInvalidRequest);
  EXPECT_EQ(refusal(r).field, "public_signals");
  EXPECT_EQ(store_.proof_count(), 0u);
}

// --- 7. every public signal against the request and the server's state ---

TEST_F(VerifyFlowTest, step7_refuses_each_signal_that_differs_and_records_the_attempt) {
  struct Case {
    std::string_view name;
    std::size_t index;
  };
  for (const Case c : {Case{"binding", 2}, Case{"scope", 3}, Case{"today", 4}}) {
    const ProofRequest req = age_request();
    std::vector<Fr> publics = publics_for(req);
    publics[c.index] += Fr::one();
    const auto r = verify(body_for(req, publics));  // a valid proof of the wrong signals
    EXPECT_EQ(code(r), ErrorCode::kBindingMismatch) << c.name;
    EXPECT_EQ(refusal(r).field,
              "public_signals[" + std::to_string(c.index) + "] (" + std::string(c.name) + ")");
    ASSERT_FALSE(refusal(r).proof_id.empty()) << c.name;
    EXPECT_EQ(store_.find_proof(refusal(r).proof_id)->error_code, "BINDING_MISMATCH");
    // The attempt spent the nonce.
    EXPECT_EQ(code(verify(body_for(req))), ErrorCode::kNonceReplay) << c.name;
  }
}

TEST_F(VerifyFlowTest, step7_refuses_a_parameter_other_than_the_requests) {
  const ProofRequest req =
      request(R"({"claim_type":"income_gte","params":{"threshold":500000,"fiscal_year":2081}})");
  std::vector<Fr> publics = publics_for(req);
  ASSERT_EQ(publics.size(), 7u);
  EXPECT_TRUE(std::holds_alternative<Verified>(verify(body_for(req)).result));
  const ProofRequest lower =
      request(R"({"claim_type":"income_gte","params":{"threshold":500000,"fiscal_year":2081}})");
  publics = publics_for(lower);
  publics[5] = Fr::from_u64(1);  // a proof of "income >= 1"
  const auto r = verify(body_for(lower, publics));
  EXPECT_EQ(code(r), ErrorCode::kBindingMismatch);
  EXPECT_EQ(refusal(r).field, "public_signals[5] (threshold)");
}

TEST_F(VerifyFlowTest, step7_refuses_a_request_whose_date_is_not_today) {
  // Requests are dated by the server, so only a request kept past midnight twice shows it.
  ProofRequest req = age_request();
  req.nonce = "DDDDDDDDDDDDDDDDDDDDDD";
  req.params = {{"today", 20261123}};
  req.expires_at = kNow + 3600'000;
  store_.insert_request(req);
  const auto r = verify(body_for(req));
  EXPECT_EQ(code(r), ErrorCode::kBindingMismatch);
  EXPECT_EQ(refusal(r).field, "public_signals[4] (today)");
}

TEST_F(VerifyFlowTest, step7_a_root_is_good_while_current_or_within_the_grace_then_stale) {
  const ProofRequest within = age_request();
  const ProofRequest after = age_request();
  store_.publish_root(1, "555", kNow);  // kRoot is superseded now; grace 60 s
  clock_.now = kNow + 59'000;
  EXPECT_TRUE(std::holds_alternative<Verified>(verify(body_for(within)).result));
  clock_.now = kNow + 61'000;
  const auto r = verify(body_for(after));
  EXPECT_EQ(code(r), ErrorCode::kStaleRoot);
  EXPECT_EQ(refusal(r).field, "public_signals[1] (root)");
  // Another issuer's current root is not this claim's.
  const ProofRequest wrong_tree = age_request();
  std::vector<Fr> publics = publics_for(wrong_tree);
  publics[1] = Fr::from_u64(std::stoull(std::string(kIncomeRoot)));
  EXPECT_EQ(code(verify(body_for(wrong_tree, publics))), ErrorCode::kStaleRoot);
}

TEST_F(VerifyFlowTest, step7_a_test_client_accepts_only_sandbox_roots_a_live_client_only_live) {
  // The test twin of the partner: its own client row, mode test, the same domains.
  const ApiKey key = new_api_key(Mode::kTest);
  Client twin = client_;
  twin.id = uuid_v4();
  twin.key_prefix = key.prefix;
  twin.key_hash = key.hash;
  twin.mode = Mode::kTest;
  twin.live_client_id = client_.id;
  store_.insert_client(twin);
  const auto twin_request = [&] {
    auto r = service_->create_request(twin, R"({"claim_type":"age_over_18"})");
    EXPECT_TRUE(r.ok());
    return *r;
  };
  constexpr std::string_view kSandboxRoot = "777";
  const auto with_root = [&](const ProofRequest& req, std::string_view root) {
    std::vector<Fr> publics = publics_for(req);
    publics[1] = Fr::from_u64(std::stoull(std::string(root)));
    return body_for(req, publics);
  };
  ASSERT_EQ(store_.publish_root(IssuerRoot{1, std::string(kSandboxRoot), 0, 0, 0, 0, true}, kNow),
            PublishOutcome::kPublished);
  // A sandbox chain of its own: the live side's current root is still kRoot.
  ASSERT_EQ(store_.recent_roots(1, kNow).size(), 1U);
  EXPECT_EQ(store_.recent_roots(1, kNow).front().root, kRoot);

  // test key + sandbox root: verified, and the webhook event says test.
  const auto ok = verify_as(twin, with_root(twin_request(), kSandboxRoot));
  ASSERT_TRUE(std::holds_alternative<Verified>(ok.result)) << refusal(ok).detail;
  const auto events = store_.pending_events(10);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].client_id, twin.id);
  EXPECT_EQ(json::parse(events[0].payload).at("mode"), "test");
  // live key + the same sandbox root: refused, naming the root and the mode.
  const auto live_sandbox = verify(with_root(age_request(), kSandboxRoot));
  EXPECT_EQ(code(live_sandbox), ErrorCode::kRootModeMismatch);
  EXPECT_EQ(refusal(live_sandbox).field, "public_signals[1] (root)");
  EXPECT_NE(refusal(live_sandbox).detail.find("sandbox root"), std::string::npos);
  // live key + live root: verified, its event says live.
  ASSERT_TRUE(std::holds_alternative<Verified>(verify(with_root(age_request(), kRoot)).result));
  EXPECT_EQ(json::parse(store_.pending_events(10).at(2).payload).at("mode"), "live");
  // test key + live root: refused.
  const auto test_live = verify_as(twin, with_root(twin_request(), kRoot));
  EXPECT_EQ(code(test_live), ErrorCode::kRootModeMismatch);
  EXPECT_NE(refusal(test_live).detail.find("live root"), std::string::npos);
  // A root of neither side stays STALE_ROOT.
  EXPECT_EQ(code(verify_as(twin, with_root(twin_request(), "31337"))), ErrorCode::kStaleRoot);
}

TEST_F(VerifyFlowTest, step1_a_key_whose_tag_differs_from_its_clients_mode_is_refused) {
  // The key's tag is part of the hashed key: a live key re-tagged pg_test_ is not valid, and a
  // test client's key is only ever pg_test_.
  ASSERT_TRUE(key_.starts_with("pg_live_"));
  const std::string retagged = "pg_test_" + key_.substr(8);
  const auto r = service_->authenticate("Bearer " + retagged);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
  // A legacy pgk_ key of a live client still authenticates.
  const std::string legacy = "pgk_" + key_.substr(8);
  Client old = client_;
  old.id = uuid_v4();
  old.key_prefix = api_key_prefix(legacy).value();
  old.key_hash = sha256(legacy);
  // Its own prefix: the fake store finds clients by prefix, so give it a distinct one.
  old.key_prefix[0] = old.key_prefix[0] == 'A' ? 'B' : 'A';
  const std::string legacy_key = "pgk_" + old.key_prefix + legacy.substr(4 + 8);
  old.key_hash = sha256(legacy_key);
  store_.insert_client(old);
  const auto found = service_->authenticate("Bearer " + legacy_key);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->mode, Mode::kLive);
}

TEST_F(VerifyFlowTest, step1_a_key_of_the_right_hash_but_the_other_mode_is_refused) {
  // Rows whose stored key is exactly the key sent (the hash check passes) but whose mode is not
  // the key's tag: only the mode check refuses them.
  for (const Mode key_mode : {Mode::kLive, Mode::kTest}) {
    const ApiKey key = new_api_key(key_mode);
    Client odd = client_;
    odd.id = uuid_v4();
    odd.key_prefix = key.prefix;
    odd.key_hash = key.hash;
    odd.mode = key_mode == Mode::kLive ? Mode::kTest : Mode::kLive;
    store_.insert_client(odd);
    const auto r = service_->authenticate("Bearer " + key.text);
    ASSERT_FALSE(r.ok()) << key.text;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
    // The same row with its mode matching the key is accepted: the hash was right.
    odd.id = uuid_v4();
    const ApiKey right = new_api_key(key_mode);
    odd.key_prefix = right.prefix;
    odd.key_hash = right.hash;
    odd.mode = key_mode;
    store_.insert_client(odd);
    EXPECT_TRUE(service_->authenticate("Bearer " + right.text).ok());
  }
}

// --- 8. the pairing check, and the order of the checks ---

TEST_F(VerifyFlowTest, step8_refuses_a_proof_of_other_signals_and_checks_signals_first) {
  const ProofRequest req = age_request();
  const std::vector<Fr> publics = publics_for(req);
  std::vector<Fr> other = publics;
  other[0] += Fr::one();
  const auto r = verify(body_for(req, publics, other));
  EXPECT_EQ(code(r), ErrorCode::kInvalidProof);
  EXPECT_EQ(refusal(r).field, "proof");
  // Binding before root before pairing: the first failing check names the problem.
  const ProofRequest both = age_request();
  std::vector<Fr> bad = publics_for(both);
  bad[1] = Fr::from_u64(1);  // not a published root
  bad[2] += Fr::one();       // and not the binding
  EXPECT_EQ(refusal(verify(body_for(both, bad, other))).field, "public_signals[2] (binding)");
  const ProofRequest root_only = age_request();
  bad = publics_for(root_only);
  bad[1] = Fr::from_u64(1);
  EXPECT_EQ(code(verify(body_for(root_only, bad, other))), ErrorCode::kStaleRoot);
}

TEST_F(VerifyFlowTest, step8_concurrent_verifies_are_batched_per_key_each_with_its_own_outcome) {
  // Two circuits, four verifies each, one proof of each four forged for other signals. A request
  // kept pending throughout means only a full batch (4) is checked before the window: exactly one
  // batch per key, each bisected to refuse its bad proof alone.
  ServiceSettings s = settings();
  s.pairing_batcher = std::make_shared<PairingBatcher>(
      PairingBatchSettings{.window = std::chrono::seconds(10), .max = 4, .on_check_start = {}});
  ProofService batched(store_, cache_, clock_, catalog_, s);
  PairingBatcher::Pending stays_age(*s.pairing_batcher,
                                    catalog_.find("age_over_18", "1.0.0")->key.get());
  PairingBatcher::Pending stays_income(*s.pairing_batcher,
                                       catalog_.find("income_gte", "1.0.0")->key.get());
  std::vector<std::string> bodies;
  std::vector<bool> good;
  for (int i = 0; i < 8; ++i) {
    const ProofRequest req =
        i % 2 == 0 ? age_request()
                   : request(R"({"claim_type":"income_gte","params":{"threshold":500000,)"
                             R"("fiscal_year":2081}})");
    const std::vector<Fr> publics = publics_for(req);
    std::vector<Fr> other = publics;
    other[0] += Fr::one();
    good.push_back(i / 2 != 1);  // the second request of each circuit is bad
    bodies.push_back(good.back() ? body_for(req, publics) : body_for(req, publics, other));
  }
  std::vector<VerifyOutcome> outcomes(bodies.size(),
                                      {ApiError{ErrorCode::kInternal, "", "not run"}});
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    threads.emplace_back([&, i] {
      auto in = ProofService::decode_verify(bodies[i]);
      if (in.ok()) outcomes[i] = batched.verify(client_, *in, bodies[i], std::nullopt);
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    if (good[i]) {
      EXPECT_TRUE(std::holds_alternative<Verified>(outcomes[i].result)) << i;
    } else {
      EXPECT_EQ(code(outcomes[i]), ErrorCode::kInvalidProof) << i;
    }
  }
  const auto stats = s.pairing_batcher->stats();
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.proofs, 8u);
  EXPECT_EQ(stats.size_buckets[1], 0u);
  EXPECT_EQ(stats.size_buckets[2], 2u);
  EXPECT_EQ(stats.bisected, 2u);
  EXPECT_EQ(store_.proof_count(), 8u);
}

TEST_F(VerifyFlowTest, a_verified_proof_is_recorded_with_its_event_and_nullifier) {
  const ProofRequest req = age_request();
  const auto r = verify(body_for(req));
  ASSERT_TRUE(std::holds_alternative<Verified>(r.result));
  const Verified& v = std::get<Verified>(r.result);
  EXPECT_EQ(v.nullifier, testing::decimal(publics_for(req)[0]));
  const auto row = store_.find_proof(v.proof_id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "verified");
  EXPECT_EQ(row->request_nonce, req.nonce);
  const auto events = store_.pending_events(10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, "proof.verified");
  EXPECT_EQ(events[0].proof_id, v.proof_id);
}

TEST_F(VerifyFlowTest,
       onchain_chain_check_is_asked_after_the_pairing_and_a_refusal_spends_nothing) {
  ServiceSettings s = settings();
  std::optional<ApiError> answer;
  std::vector<bool> asked;  // the server's verdict of each call
  s.chain_check = [&](const VerifyInput& in, bool server_accepts) {
    EXPECT_TRUE(in.onchain);
    asked.push_back(server_accepts);
    return answer;
  };
  ProofService checked(store_, cache_, clock_, catalog_, s);
  const auto run = [&](const std::string& text, std::string_view mode) {
    json::value body = json::parse(text);
    if (!mode.empty()) body.as_object()["mode"] = mode;
    const std::string with_mode = json::serialize(body);
    auto in = ProofService::decode_verify(with_mode);
    EXPECT_TRUE(in.ok());
    return checked.verify(client_, *in, with_mode, std::nullopt);
  };
  // Offchain (absent or explicit) never asks the chain.
  EXPECT_TRUE(std::holds_alternative<Verified>(run(body_for(age_request()), "").result));
  EXPECT_TRUE(std::holds_alternative<Verified>(run(body_for(age_request()), "offchain").result));
  EXPECT_TRUE(asked.empty());
  // The chain disagrees: refused, counted, not recorded, the nonce unspent.
  const ProofRequest req = age_request();
  answer = ApiError{ErrorCode::kChainDisagrees, "", "the chain says false"};
  const auto refused = run(body_for(req), "onchain");
  EXPECT_EQ(code(refused), ErrorCode::kChainDisagrees);
  EXPECT_TRUE(refusal(refused).proof_id.empty());
  EXPECT_EQ(asked, std::vector<bool>{true});
  EXPECT_FALSE(store_.nonce_answered(client_.id, req.nonce));
  EXPECT_EQ(checked.counters().chain_disagreements.load(), 1u);
  answer = ApiError{ErrorCode::kChainUnavailable, "", "the node is down"};
  EXPECT_EQ(code(run(body_for(req), "onchain")), ErrorCode::kChainUnavailable);
  EXPECT_EQ(checked.counters().chain_unavailable.load(), 1u);
  // The chain agrees: verified and recorded.
  answer.reset();
  EXPECT_TRUE(std::holds_alternative<Verified>(run(body_for(req), "onchain").result));
  EXPECT_TRUE(store_.nonce_answered(client_.id, req.nonce));
  // A proof the server refuses at the pairing is asked about too (server_accepts false); one
  // refused earlier (a binding mismatch) is not.
  const ProofRequest bad = age_request();
  std::vector<Fr> other = publics_for(bad);
  other[0] += Fr::one();
  EXPECT_EQ(code(run(body_for(bad, publics_for(bad), other), "onchain")), ErrorCode::kInvalidProof);
  EXPECT_EQ(asked.back(), false);
  const std::size_t calls = asked.size();
  const ProofRequest unbound = age_request();
  std::vector<Fr> wrong = publics_for(unbound);
  wrong[2] += Fr::one();
  EXPECT_EQ(code(run(body_for(unbound, wrong), "onchain")), ErrorCode::kBindingMismatch);
  EXPECT_EQ(asked.size(), calls);
  // Any other mode is refused at decoding, naming it.
  for (const char* mode : {"OnChain", "chain", ""}) {
    json::value body = json::parse(body_for(age_request()));
    body.as_object()["mode"] = mode;
    const auto in = ProofService::decode_verify(json::serialize(body));
    ASSERT_FALSE(in.ok()) << mode;
    EXPECT_EQ(in.error().field, "mode");
  }
}

TEST_F(VerifyFlowTest,
       onchain_chain_checks_beyond_the_concurrency_are_refused_at_once_and_counted) {
  ServiceSettings s = settings();
  s.chain_check_concurrency = 1;
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;         // chain_check calls entered
  bool release = false;  // the first call may answer
  s.chain_check = [&](const VerifyInput&, bool) -> std::optional<ApiError> {
    std::unique_lock lock(mu);
    if (++calls == 1) {
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    return std::nullopt;
  };
  ProofService checked(store_, cache_, clock_, catalog_, s);
  const auto onchain_body = [&](const ProofRequest& req) {
    json::value body = json::parse(body_for(req));
    body.as_object()["mode"] = "onchain";
    return json::serialize(body);
  };
  const auto run = [&](const std::string& body) {
    auto in = ProofService::decode_verify(body);
    EXPECT_TRUE(in.ok());
    return checked.verify(client_, *in, body, std::nullopt);
  };
  const ProofRequest first_req = age_request();
  const ProofRequest second_req = age_request();
  const std::string first_body = onchain_body(first_req);
  const std::string second_body = onchain_body(second_req);
  std::optional<VerifyOutcome> first;
  std::thread holder([&] { first = run(first_body); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return calls == 1; });  // the first verify holds the only slot
  }
  EXPECT_EQ(checked.counters().chain_checks_in_flight.load(), 1u);
  // The second is refused at once, never reaching the chain, with nothing recorded.
  const auto refused = run(second_body);
  EXPECT_EQ(code(refused), ErrorCode::kChainUnavailable);
  EXPECT_EQ(refusal(refused).retry_after_s, 1);
  EXPECT_TRUE(refusal(refused).proof_id.empty());
  EXPECT_FALSE(store_.nonce_answered(client_.id, second_req.nonce));
  EXPECT_EQ(checked.counters().chain_checks_saturated.load(), 1u);
  EXPECT_EQ(checked.counters().chain_unavailable.load(), 0u);  // the node was not asked
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(calls, 1);
    release = true;
  }
  cv.notify_all();
  holder.join();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(std::holds_alternative<Verified>(first->result));
  EXPECT_EQ(checked.counters().chain_checks_in_flight.load(), 0u);
  // The slot is free again: the refused verify succeeds on a retry with the same nonce.
  EXPECT_TRUE(std::holds_alternative<Verified>(run(second_body).result));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(checked.counters().chain_checks_saturated.load(), 1u);
}

// --- the key policy ---

TEST(KeyPolicyTest, refuses_a_development_ceremony_unless_allowed_and_marks_it) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "development");
  try {
    (void)CircuitCatalog::load(artifacts, {});
    FAIL() << "loaded a development key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("age_over_18 1.0.0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not \"production\""), std::string::npos) << e.what();
  }
  const auto catalog = CircuitCatalog::load(artifacts, {.allow_development_keys = true});
  ASSERT_EQ(catalog.all().size(), 1u);
  EXPECT_TRUE(catalog.all()[0]->development);
  EXPECT_EQ(catalog.all()[0]->ceremony_kind, "development");
}

TEST(KeyPolicyTest, refuses_a_manifest_without_a_ceremony) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  json::value m = json::parse(artifacts.files[{"age_over_18", "1.0.0", "manifest.json"}]);
  m.as_object().erase("ceremony");
  artifacts.files[{"age_over_18", "1.0.0", "manifest.json"}] = json::serialize(m);
  EXPECT_THROW((void)CircuitCatalog::load(artifacts, {}), std::runtime_error);
}

TEST(KeyPolicyTest, refuses_the_benchmark_trapdoor_key_whatever_its_manifest_says) {
  // forge_bench_proofs keygen --publics 5 --seed b3e1c4a0de7ec7ab1e5eed00be9c4f00
  std::string seed;
  const std::string hex_seed = "b3e1c4a0de7ec7ab1e5eed00be9c4f00";
  for (std::size_t i = 0; i < hex_seed.size(); i += 2) {
    seed.push_back(static_cast<char>(std::stoi(hex_seed.substr(i, 2), nullptr, 16)));
  }
  const std::string vk = testing::verification_key_json(
      testing::make_trapdoor(seed, 5),
      "BENCHMARK ONLY: trapdoor known (forge_bench_proofs), anyone with the seed can forge proofs");
  EXPECT_TRUE(is_development_key(hex(sha256(vk)))) << hex(sha256(vk));
  MemoryArtifacts artifacts;
  artifacts.add_key("age_over_18", "9.0.0", vk, "production");
  try {
    (void)CircuitCatalog::load(artifacts, {});
    FAIL() << "loaded the benchmark key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("known development or benchmark key"), std::string::npos)
        << e.what();
  }
}

/// The refusal CircuitCatalog::load gives for `artifacts` ("" when it loads).
std::string load_refusal(const MemoryArtifacts& artifacts) {
  try {
    (void)CircuitCatalog::load(artifacts, {});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(KeyPolicyTest, loads_a_production_key_whose_transcript_describes_it) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  EXPECT_EQ(load_refusal(artifacts), "");
  const auto catalog = CircuitCatalog::load(artifacts, {});
  EXPECT_FALSE(catalog.all().at(0)->development);
}

TEST(KeyPolicyTest, refuses_a_production_key_without_a_transcript_naming_the_circuit) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  artifacts.files.erase({"age_over_18", "1.0.0", "transcript.json"});
  const std::string e = load_refusal(artifacts);
  EXPECT_NE(e.find("refused: age_over_18 1.0.0's key has no valid ceremony transcript"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("no transcript.json"), std::string::npos) << e;
  // Under the development policy it loads, marked as a key anyone may forge proofs for.
  const auto catalog = CircuitCatalog::load(artifacts, {.allow_development_keys = true});
  EXPECT_TRUE(catalog.all().at(0)->development);
}

TEST(KeyPolicyTest, refuses_a_manifest_without_a_transcript_digest) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  json::value m = json::parse(artifacts.files[{"age_over_18", "1.0.0", "manifest.json"}]);
  m.at("ceremony").as_object().erase("transcript_sha256");
  artifacts.files[{"age_over_18", "1.0.0", "manifest.json"}] = json::serialize(m);
  EXPECT_NE(load_refusal(artifacts).find("ceremony.transcript_sha256 is missing"),
            std::string::npos);
}

TEST(KeyPolicyTest, refuses_a_transcript_whose_digest_differs_from_the_manifest) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  artifacts.files[{"age_over_18", "1.0.0", "transcript.json"}] += " ";
  const std::string e = load_refusal(artifacts);
  EXPECT_NE(e.find("age_over_18 1.0.0"), std::string::npos) << e;
  EXPECT_NE(e.find("differs from the manifest's ceremony.transcript_sha256"), std::string::npos)
      << e;
}

TEST(KeyPolicyTest, refuses_a_transcript_for_another_key) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  artifacts.set_transcript("age_over_18", "1.0.0",
                           MemoryArtifacts::transcript_for(std::string(64, '0')));
  const std::string e = load_refusal(artifacts);
  EXPECT_NE(e.find("transcript.json is for another key"), std::string::npos) << e;
  EXPECT_NE(e.find(std::string(64, '0')), std::string::npos) << e;
}

TEST(KeyPolicyTest, refuses_a_transcript_without_a_contributor_or_a_beacon) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  const std::string vk =
      hex(sha256(artifacts.files[{"age_over_18", "1.0.0", "verification_key.json"}]));
  json::object beacon_only = MemoryArtifacts::transcript_for(vk);
  beacon_only["contributions"].as_array().erase(beacon_only["contributions"].as_array().begin());
  artifacts.set_transcript("age_over_18", "1.0.0", beacon_only);
  EXPECT_NE(load_refusal(artifacts).find("names no contribution"), std::string::npos);
  json::object no_beacon = MemoryArtifacts::transcript_for(vk);
  no_beacon.erase("beacon");
  artifacts.set_transcript("age_over_18", "1.0.0", no_beacon);
  EXPECT_NE(load_refusal(artifacts).find("names no beacon"), std::string::npos);
  json::object bad_hash = MemoryArtifacts::transcript_for(vk);
  bad_hash["contributions"].as_array()[0].as_object()["hash"] = "abc";
  artifacts.set_transcript("age_over_18", "1.0.0", bad_hash);
  EXPECT_NE(load_refusal(artifacts).find("contributions[0].hash is not 128"), std::string::npos);
  json::object miscounted = MemoryArtifacts::transcript_for(vk);
  miscounted["contributors"] = 3;
  artifacts.set_transcript("age_over_18", "1.0.0", miscounted);
  EXPECT_NE(load_refusal(artifacts).find("contributors is not the 1 contributions"),
            std::string::npos);
  artifacts.set_transcript("age_over_18", "1.0.0", MemoryArtifacts::transcript_for(vk));
  EXPECT_EQ(load_refusal(artifacts), "");
}

TEST(KeyPolicyTest, refuses_a_manifest_that_moves_a_claim_to_another_issuer_or_signal_list) {
  MemoryArtifacts artifacts;
  artifacts.add("age_over_18", "1.0.0", age_key(), "production");
  json::value m = json::parse(artifacts.files[{"age_over_18", "1.0.0", "manifest.json"}]);
  m.at("issuer").as_object()["id"] = 3;
  artifacts.files[{"age_over_18", "1.0.0", "manifest.json"}] = json::serialize(m);
  EXPECT_THROW((void)CircuitCatalog::load(artifacts, {}), std::runtime_error);
  m.at("issuer").as_object()["id"] = 1;
  m.at("public_signals").as_array() = {"root", "nullifier", "binding", "scope", "today"};
  artifacts.files[{"age_over_18", "1.0.0", "manifest.json"}] = json::serialize(m);
  try {
    (void)CircuitCatalog::load(artifacts, {});
    FAIL() << "loaded reordered signals";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("differ from age_over_18's"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pg::core
