// core::AdminService over the embedded store: each use case refuses bad input with an ApiError
// naming the field (and writes nothing), keeps secrets out of the audit, refuses a verifier domain
// another partner holds, and revokes a key so the next lookup finds no partner.
#include "core/admin_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"

namespace pg::core {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr UnixMillis kNow = 1'790'000'000'000;  // 2026-09-21

class FixedClock final : public Clock {
 public:
  UnixMillis now_ms() const override { return now; }
  UnixMillis now = kNow;
};

/// Refuses every URL on "blocked.example"; secrets are numbered.
class FakeWebhooks final : public WebhookPolicy {
 public:
  std::optional<std::string> refuse(std::string_view url, bool) const override {
    if (url.find("blocked.example") != std::string_view::npos) return "resolves to 10.0.0.1";
    return std::nullopt;
  }
  std::string new_secret() const override { return "whsec_" + std::to_string(++issued_); }
  mutable int issued_ = 0;
};

class AdminServiceTest : public ::testing::Test {
 protected:
  AdminServiceTest()
      : dir_(fs::temp_directory_path() /
             ("proofgate-admin-test-" + std::to_string(std::random_device()()) + "-" +
              std::to_string(counter_++))),
        store_((fs::create_directories(dir_), store::SqliteSettings{.path = dir_ / "db.sqlite"})),
        service_(
            {store_, store_, store_, store_, clock_, key_, webhooks_, [this] { ++notified_; }}) {}
  ~AdminServiceTest() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::vector<AuditEntry> trail() { return store_.list_audit(0, kNow * 2, 1000); }
  CreatedClient create(const std::string& name, std::vector<std::string> domains,
                       const std::string& webhook = "") {
    auto created = service_.create_client(actor_, {name, {"age_over_18"}, domains, webhook, false});
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().detail);
    return created.ok() ? created.value() : CreatedClient{};
  }
  void expect_refused(const ApiError& e, ErrorCode code, const std::string& field) {
    EXPECT_EQ(e.code, code) << e.detail;
    EXPECT_EQ(e.field, field) << e.detail;
    EXPECT_FALSE(e.detail.empty());
  }

  static inline std::atomic<unsigned> counter_{0};
  fs::path dir_;
  store::SqliteStore store_;
  FixedClock clock_;
  MasterKey key_{};
  FakeWebhooks webhooks_;
  int notified_ = 0;
  AdminService service_;
  Actor actor_{std::string(kActorAdminCli), "operator"};
};

TEST_F(AdminServiceTest, create_client_refuses_bad_input_naming_the_field_and_writes_nothing) {
  const auto refused = [&](NewClient spec, const std::string& field) {
    auto r = service_.create_client(actor_, spec);
    ASSERT_FALSE(r.ok()) << field;
    expect_refused(r.error(), ErrorCode::kInvalidRequest, field);
  };
  refused({"", {"age_over_18"}, {"a.example"}, "", false}, "name");
  refused({std::string(201, 'n'), {"age_over_18"}, {"a.example"}, "", false}, "name");
  refused({"A", {}, {"a.example"}, "", false}, "scopes");
  refused({"A", {"over_9000"}, {"a.example"}, "", false}, "scopes");
  refused({"A", {"age_over_18"}, {}, "", false}, "domains");
  refused({"A", {"age_over_18"}, {"Bank.Example"}, "", false}, "domains");
  refused({"A", {"age_over_18"}, {"a..example"}, "", false}, "domains");
  refused({"A", {"age_over_18"}, {"a.example", "a.example"}, "", false}, "domains");
  refused({"A", {"age_over_18"}, {"a.example"}, "https://blocked.example/hook", false},
          "webhook_url");
  EXPECT_TRUE(store_.list_clients().empty());
  EXPECT_TRUE(trail().empty());
}

TEST_F(AdminServiceTest, create_client_audits_the_partner_but_never_its_key_or_secret) {
  const CreatedClient c = create("Bank", {"bank.example"}, "https://hooks.example/token-in-path");
  ASSERT_FALSE(c.api_key.empty());
  ASSERT_FALSE(c.webhook_secret.empty());
  const auto found = store_.find_client_by_prefix(c.client.key_prefix);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->key_hash, sha256(c.api_key));

  const auto entries = trail();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, "client.created");
  EXPECT_EQ(entries[0].actor_type, kActorAdminCli);
  EXPECT_EQ(entries[0].actor_id, "operator");
  EXPECT_EQ(entries[0].at, kNow);
  const auto& d = entries[0].details_json;
  EXPECT_EQ(json::parse(d).at("webhook_host").as_string(), "hooks.example");
  for (const std::string& secret :
       {c.api_key, c.client.key_prefix, c.webhook_secret, std::string("token-in-path")}) {
    EXPECT_EQ(d.find(secret), std::string::npos) << secret;
  }
}

TEST_F(AdminServiceTest, create_client_makes_the_live_partner_and_its_test_twin) {
  const CreatedClient c = create("Bank", {"bank.example"}, "https://hooks.example/x");
  EXPECT_TRUE(c.api_key.starts_with("pg_live_"));
  EXPECT_EQ(c.client.mode, Mode::kLive);
  ASSERT_TRUE(c.test.has_value());
  EXPECT_TRUE(c.test->api_key.starts_with("pg_test_"));
  EXPECT_EQ(c.test->client.mode, Mode::kTest);
  EXPECT_EQ(c.test->client.live_client_id, c.client.id);
  EXPECT_EQ(c.test->client.domains, c.client.domains);
  // The twin does not inherit the live webhook URL: test events never reach the live receiver.
  EXPECT_EQ(c.client.webhook_url, "https://hooks.example/x");
  EXPECT_TRUE(c.test->client.webhook_url.empty());
  EXPECT_TRUE(c.test->webhook_secret.empty());
  EXPECT_TRUE(c.test->client.webhook_secret_sealed.empty());
  EXPECT_NE(c.test->client_secret, c.client_secret);
  const auto twin = store_.find_client_by_prefix(c.test->client.key_prefix);
  ASSERT_TRUE(twin.has_value());
  EXPECT_EQ(twin->key_hash, sha256(c.test->api_key));
  EXPECT_TRUE(twin->webhook_url.empty());
  EXPECT_EQ(twin->mode, Mode::kTest);
  const auto details = json::parse(trail().at(0).details_json);
  EXPECT_EQ(details.at("test_client_id").as_string(), c.test->client.id);
  EXPECT_EQ(details.at("mode"), "live");
  EXPECT_EQ(trail().at(0).details_json.find(c.test->api_key), std::string::npos);
  // A test client alone: no twin, no domain claimed (the live partner above keeps its own).
  NewClient spec{"Sandbox", {"age_over_18"}, {"bank.example"}, "", false};
  spec.test_only = true;
  const auto alone = service_.create_client(actor_, spec);
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(alone->api_key.starts_with("pg_test_"));
  EXPECT_FALSE(alone->test.has_value());
  // Its keys stay test keys when rotated.
  const auto rotated = service_.rotate_key(actor_, alone->client.id, 0);
  ASSERT_TRUE(rotated.ok());
  EXPECT_TRUE(rotated->api_key.starts_with("pg_test_"));
}

TEST_F(AdminServiceTest, a_verifier_domain_another_partner_holds_is_refused_by_name) {
  create("First", {"bank.example", "shared.example"});
  auto second = service_.create_client(
      actor_, {"Second", {"age_over_18"}, {"own.example", "shared.example"}, "", false});
  ASSERT_FALSE(second.ok());
  expect_refused(second.error(), ErrorCode::kConflict, "domains");
  EXPECT_NE(second.error().detail.find("'shared.example'"), std::string::npos)
      << second.error().detail;
  EXPECT_EQ(store_.list_clients().size(), 2u);  // the first partner and its test twin
  EXPECT_EQ(trail().size(), 1u);                // only the first partner's creation
  create("Third", {"own.example"});             // nothing of the refused partner was kept
}

TEST_F(AdminServiceTest, revoke_key_stops_the_key_at_once_and_audits_only_the_partner) {
  const CreatedClient c = create("Bank", {"bank.example"});
  clock_.now = kNow + 60'000;
  auto revoked = service_.revoke_key(actor_, c.client.id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_FALSE(revoked->already_revoked);
  EXPECT_EQ(revoked->revoked_at, kNow + 60'000);
  EXPECT_EQ(store_.find_client_by_prefix(c.client.key_prefix), std::nullopt);

  auto again = service_.revoke_key(actor_, c.client.id);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_revoked);

  auto unknown = service_.revoke_key(actor_, "00000000-0000-4000-8000-000000000000");
  ASSERT_FALSE(unknown.ok());
  expect_refused(unknown.error(), ErrorCode::kNotFound, "client_id");

  const auto entries = trail();
  ASSERT_EQ(entries.size(), 2u);  // created, revoked once
  EXPECT_EQ(entries[1].action, "client.key_revoked");
  EXPECT_EQ(json::parse(entries[1].details_json),
            json::parse(R"({"client_id":")" + c.client.id + R"("})"));
}

TEST_F(AdminServiceTest, roots_and_circuits_refuse_malformed_values) {
  auto zero = service_.publish_root(actor_, 0, "1");
  ASSERT_FALSE(zero.ok());
  expect_refused(zero.error(), ErrorCode::kInvalidRequest, "issuer_id");
  for (const char* root : {"", "01", "-1", "abc",
                           "218882428718392752222464057452572750885483644004160343436982041865758"
                           "08495617"}) {
    auto r = service_.publish_root(actor_, 1, root);
    ASSERT_FALSE(r.ok()) << root;
    expect_refused(r.error(), ErrorCode::kInvalidRequest, "root");
  }
  auto published = service_.publish_root(actor_, 1, "42");
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(store_.recent_roots(1, 0).at(0).root, "42");
  // The emergency override cannot make a replaced root current again (that would un-revoke).
  ASSERT_TRUE(service_.publish_root(actor_, 1, "43").ok());
  auto again = service_.publish_root(actor_, 1, "42");
  ASSERT_FALSE(again.ok());
  expect_refused(again.error(), ErrorCode::kConflict, "root");
  EXPECT_EQ(store_.recent_roots(1, 0).at(0).root, "43");
  // A root belongs to one side: a live root is refused in the sandbox and the other way round,
  // naming the side, and nothing is written (not even the audit entry).
  const std::size_t audited = trail().size();
  auto live_as_sandbox = service_.publish_root(actor_, 1, "42", true);
  ASSERT_FALSE(live_as_sandbox.ok());
  expect_refused(live_as_sandbox.error(), ErrorCode::kConflict, "root");
  EXPECT_NE(live_as_sandbox.error().detail.find("live root"), std::string::npos);
  ASSERT_TRUE(service_.publish_root(actor_, 1, "44", true).ok());
  auto sandbox_as_live = service_.publish_root(actor_, 1, "44");
  ASSERT_FALSE(sandbox_as_live.ok());
  expect_refused(sandbox_as_live.error(), ErrorCode::kConflict, "root");
  EXPECT_NE(sandbox_as_live.error().detail.find("sandbox root"), std::string::npos);
  EXPECT_EQ(store_.recent_roots(1, 0).at(0).root, "43");
  EXPECT_EQ(trail().size(), audited + 1);  // only the sandbox publish of 44

  auto claim = service_.set_circuit_enabled(actor_, "no_such_claim", "1.0.0", false);
  ASSERT_FALSE(claim.ok());
  expect_refused(claim.error(), ErrorCode::kInvalidRequest, "claim_type");
  auto version = service_.set_circuit_enabled(actor_, "age_over_18", "1.0", false);
  ASSERT_FALSE(version.ok());
  expect_refused(version.error(), ErrorCode::kInvalidRequest, "version");
  ASSERT_TRUE(service_.set_circuit_enabled(actor_, "age_over_18", "1.0.0", false).ok());
  EXPECT_EQ(store_.circuit_enabled("age_over_18", "1.0.0"), std::optional<bool>(false));

  std::vector<std::string> actions;
  for (const auto& e : trail()) actions.push_back(e.action);
  // Three roots published; the refused ones (replaced, other side) left no entry.
  EXPECT_EQ(actions, (std::vector<std::string>{"root.published", "root.published", "root.published",
                                               "circuit.enabled_set"}));
}

TEST_F(AdminServiceTest, webhook_use_cases_refuse_what_they_cannot_do) {
  const CreatedClient plain = create("Plain", {"plain.example"});
  auto no_url = service_.rotate_webhook_secret(actor_, plain.client.id, 60, "", false);
  ASSERT_FALSE(no_url.ok());
  expect_refused(no_url.error(), ErrorCode::kInvalidRequest, "webhook_url");
  auto blocked = service_.rotate_webhook_secret(actor_, plain.client.id, 60,
                                                "https://blocked.example/h", false);
  ASSERT_FALSE(blocked.ok());
  expect_refused(blocked.error(), ErrorCode::kInvalidRequest, "webhook_url");
  auto overlap = service_.rotate_webhook_secret(actor_, plain.client.id, -1, "", false);
  ASSERT_FALSE(overlap.ok());
  expect_refused(overlap.error(), ErrorCode::kInvalidRequest, "overlap_seconds");
  auto unknown = service_.rotate_webhook_secret(actor_, "nobody", 60, "https://h.example/", false);
  ASSERT_FALSE(unknown.ok());
  expect_refused(unknown.error(), ErrorCode::kNotFound, "client_id");
  auto test_plain = service_.test_webhook(actor_, plain.client.id);
  ASSERT_FALSE(test_plain.ok());
  expect_refused(test_plain.error(), ErrorCode::kInvalidRequest, "client_id");

  const CreatedClient hooked = create("Hooked", {"hooked.example"}, "https://hooks.example/");
  auto rotated = service_.rotate_webhook_secret(actor_, hooked.client.id, 60, "", false);
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->previous_signs_until, kNow + 60'000);
  EXPECT_EQ(unseal(key_, store_.webhook_target(hooked.client.id)->secret_sealed, hooked.client.id),
            std::optional<std::string>(rotated->webhook_secret));

  auto sent = service_.test_webhook(actor_, hooked.client.id);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(notified_, 1);
  auto pending = service_.replay(actor_, sent->event_id);
  ASSERT_FALSE(pending.ok());
  expect_refused(pending.error(), ErrorCode::kConflict, "event_id");
  auto missing = service_.find_delivery("no-such-event");
  ASSERT_FALSE(missing.ok());
  expect_refused(missing.error(), ErrorCode::kNotFound, "event_id");
  auto status = service_.list_deliveries("", "lost", 10);
  ASSERT_FALSE(status.ok());
  expect_refused(status.error(), ErrorCode::kInvalidRequest, "status");
  auto limit = service_.list_deliveries("", "", 1001);
  ASSERT_FALSE(limit.ok());
  expect_refused(limit.error(), ErrorCode::kInvalidRequest, "limit");
  auto listed = service_.list_deliveries(hooked.client.id, "pending", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).event.event_id, sent->event_id);
}

TEST_F(AdminServiceTest, retention_and_anonymisation_are_audited) {
  create("Bank", {"bank.example"});
  clock_.now = kNow + 2 * 86'400'000;
  std::vector<std::size_t> batches;
  auto run = service_.retention(actor_, 1, 10, [&](const std::vector<AuditEntry>& rows) {
    batches.push_back(rows.size());
    return "archive-" + std::to_string(batches.size());
  });
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->archived, 1u);
  EXPECT_EQ(run->files, std::vector<std::string>{"archive-1"});
  auto nothing = service_.retention(actor_, 1, 10, [&](const auto&) { return std::string("x"); });
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->archived, 0u);
  const auto entries = trail();
  ASSERT_EQ(entries.size(), 2u);  // the creation is archived; two runs are on record
  EXPECT_EQ(json::parse(entries[0].details_json).at("archived").to_number<int>(), 1);
  EXPECT_EQ(json::parse(entries[1].details_json).at("archived").to_number<int>(), 0);

  auto bad = service_.retention(actor_, -1, 10, [](const auto&) { return std::string(); });
  ASSERT_FALSE(bad.ok());
  expect_refused(bad.error(), ErrorCode::kInvalidRequest, "older_than_days");

  auto empty = service_.anonymise_user(actor_, "");
  ASSERT_FALSE(empty.ok());
  expect_refused(empty.error(), ErrorCode::kInvalidRequest, "user_id");
  auto anonymised = service_.anonymise_user(actor_, "alice@example.com");
  ASSERT_TRUE(anonymised.ok());
  EXPECT_EQ(anonymised->proofs_anonymised, 0u);
  const auto last = trail().back();
  EXPECT_EQ(last.action, "user.anonymised");
  EXPECT_EQ(last.details_json.find("alice"), std::string::npos);
}

}  // namespace
}  // namespace pg::core

// --- Partners: rotation with an overlap, suspension, updates, pages ---

namespace pg::core {
namespace {

class PartnersTest : public AdminServiceTest {};

ClientUpdate with_name(std::string v) {
  ClientUpdate u;
  u.name = std::move(v);
  return u;
}
ClientUpdate with_scopes(std::vector<std::string> v) {
  ClientUpdate u;
  u.scopes = std::move(v);
  return u;
}
ClientUpdate with_domains(std::vector<std::string> v) {
  ClientUpdate u;
  u.domains = std::move(v);
  return u;
}
ClientUpdate with_webhook(std::string v) {
  ClientUpdate u;
  u.webhook_url = std::move(v);
  return u;
}

TEST_F(PartnersTest, a_rotated_key_and_the_old_one_both_work_until_the_overlap_ends) {
  const CreatedClient c = create("Bank", {"bank.example"});
  for (const std::int64_t bad : {std::int64_t{-1}, std::int64_t{30} * 86400 + 1}) {
    auto refused = service_.rotate_key(actor_, c.client.id, bad);
    ASSERT_FALSE(refused.ok());
    expect_refused(refused.error(), ErrorCode::kInvalidRequest, "overlap_seconds");
  }
  auto unknown = service_.rotate_key(actor_, uuid_v4(), 60);
  ASSERT_FALSE(unknown.ok());
  expect_refused(unknown.error(), ErrorCode::kNotFound, "client_id");

  auto rotated = service_.rotate_key(actor_, c.client.id, 60);
  ASSERT_TRUE(rotated.ok());
  EXPECT_NE(rotated->api_key, c.api_key);
  EXPECT_EQ(rotated->previous_expires_at, kNow + 60'000);
  const auto new_prefix = api_key_prefix(rotated->api_key);
  ASSERT_TRUE(new_prefix.has_value());
  EXPECT_EQ(*new_prefix, rotated->key_prefix);
  EXPECT_TRUE(store_.find_client_by_prefix(c.client.key_prefix, kNow + 59'999).has_value());
  EXPECT_EQ(store_.find_client_by_prefix(c.client.key_prefix, kNow + 60'000), std::nullopt);
  const auto by_new = store_.find_client_by_prefix(*new_prefix, kNow + 60'000);
  ASSERT_TRUE(by_new.has_value());
  EXPECT_EQ(by_new->key_hash, sha256(rotated->api_key));

  const auto shown = service_.show_client(c.client.id);
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->keys.size(), 2u);
  const auto entries = trail();
  ASSERT_EQ(entries.back().action, "client.key_rotated");
  EXPECT_EQ(entries.back().details_json.find(rotated->api_key), std::string::npos);
  EXPECT_EQ(entries.back().details_json.find(rotated->key_prefix), std::string::npos);
}

TEST_F(PartnersTest, suspend_and_resume_change_once_and_are_audited_once) {
  const CreatedClient c = create("Bank", {"bank.example"});
  auto s = service_.suspend_client(actor_, c.client.id);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->changed);
  EXPECT_EQ(s->at, kNow);
  EXPECT_EQ(store_.find_client_by_prefix(c.client.key_prefix, kNow)->suspended_at, kNow);
  auto again = service_.suspend_client(actor_, c.client.id);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed);
  auto resumed = service_.resume_client(actor_, c.client.id);
  ASSERT_TRUE(resumed.ok());
  EXPECT_TRUE(resumed->changed);
  EXPECT_FALSE(resumed->suspended);
  EXPECT_EQ(store_.find_client(c.client.id)->suspended_at, 0);
  auto unknown = service_.suspend_client(actor_, "not-a-partner");
  ASSERT_FALSE(unknown.ok());
  expect_refused(unknown.error(), ErrorCode::kNotFound, "client_id");
  std::vector<std::string> names;
  for (const auto& e : trail()) names.push_back(e.action);
  EXPECT_EQ(names,
            (std::vector<std::string>{"client.created", "client.suspended", "client.resumed"}));
}

TEST_F(PartnersTest, a_test_twin_is_not_resumed_rekeyed_or_widened_beyond_its_partner) {
  const CreatedClient c = create("Bank", {"bank.example", "loans.example"});
  ASSERT_TRUE(c.test.has_value());
  const std::string twin = c.test->client.id;
  ASSERT_TRUE(service_.suspend_client(actor_, c.client.id).ok());
  auto resumed = service_.resume_client(actor_, twin);
  ASSERT_FALSE(resumed.ok());
  expect_refused(resumed.error(), ErrorCode::kConflict, "client_id");
  EXPECT_NE(store_.find_client(twin)->suspended_at, 0);
  auto rekeyed = service_.rotate_key(actor_, twin, 0);
  ASSERT_FALSE(rekeyed.ok());
  expect_refused(rekeyed.error(), ErrorCode::kConflict, "client_id");
  ASSERT_TRUE(service_.resume_client(actor_, c.client.id).ok());
  EXPECT_EQ(store_.find_client(twin)->suspended_at, 0);
  EXPECT_TRUE(service_.rotate_key(actor_, twin, 0).ok());
  ASSERT_TRUE(service_.revoke_key(actor_, c.client.id).ok());
  auto after_revoke = service_.rotate_key(actor_, twin, 0);
  ASSERT_FALSE(after_revoke.ok());
  expect_refused(after_revoke.error(), ErrorCode::kConflict, "client_id");
  // A PATCH on the twin narrows, never widens.
  auto scopes = service_.update_client(actor_, twin, with_scopes({"age_over_18", "income_gte"}));
  ASSERT_FALSE(scopes.ok());
  expect_refused(scopes.error(), ErrorCode::kInvalidRequest, "scopes");
  auto domains = service_.update_client(actor_, twin, with_domains({"other.example"}));
  ASSERT_FALSE(domains.ok());
  expect_refused(domains.error(), ErrorCode::kInvalidRequest, "domains");
  auto narrowed = service_.update_client(actor_, twin, with_domains({"loans.example"}));
  ASSERT_TRUE(narrowed.ok()) << narrowed.error().detail;
  EXPECT_EQ(store_.find_client(twin)->domains, std::vector<std::string>{"loans.example"});
}

TEST_F(PartnersTest, an_update_changes_only_the_given_fields_under_the_create_rules) {
  const CreatedClient bank = create("Bank", {"bank.example"}, "https://hooks.bank.example/t0ken");
  create("Shop", {"shop.example"});
  const auto refused = [&](ClientUpdate u, ErrorCode code, const std::string& field) {
    auto r = service_.update_client(actor_, bank.client.id, u);
    ASSERT_FALSE(r.ok()) << field;
    expect_refused(r.error(), code, field);
  };
  refused({}, ErrorCode::kInvalidRequest, "");
  refused(with_name(""), ErrorCode::kInvalidRequest, "name");
  refused(with_scopes({"over_9000"}), ErrorCode::kInvalidRequest, "scopes");
  refused(with_domains({"Bank.Example"}), ErrorCode::kInvalidRequest, "domains");
  refused(with_domains({"shop.example"}), ErrorCode::kConflict, "domains");
  refused(with_webhook("https://blocked.example/x"), ErrorCode::kInvalidRequest, "webhook_url");
  const std::size_t audited = trail().size();

  ClientUpdate change = with_domains({"bank.example", "loans.example"});
  change.webhook_url = "https://hooks2.bank.example/s3cret";
  auto updated = service_.update_client(actor_, bank.client.id, change);
  ASSERT_TRUE(updated.ok()) << updated.error().detail;
  EXPECT_EQ(updated->client.name, "Bank");  // not given: kept
  EXPECT_EQ(updated->client.scopes, bank.client.scopes);
  EXPECT_EQ(updated->client.domains, (std::vector<std::string>{"bank.example", "loans.example"}));
  EXPECT_EQ(updated->client.webhook_url, "https://hooks2.bank.example/s3cret");
  const auto entries = trail();
  ASSERT_EQ(entries.size(), audited + 1);
  EXPECT_EQ(entries.back().action, "client.updated");
  EXPECT_EQ(entries.back().details_json.find("s3cret"), std::string::npos);  // host only

  const CreatedClient plain = create("Plain", {"plain.example"});
  auto first_url =
      service_.update_client(actor_, plain.client.id, with_webhook("https://hooks.plain.example/"));
  ASSERT_FALSE(first_url.ok());
  expect_refused(first_url.error(), ErrorCode::kInvalidRequest, "webhook_url");
}

TEST_F(PartnersTest, pages_follow_the_cursor_to_the_end_without_repeats) {
  std::vector<std::string> created;
  for (int n = 0; n < 5; ++n) {
    clock_.now = kNow + n;
    const CreatedClient c = create("P" + std::to_string(n), {"p" + std::to_string(n) + ".example"});
    created.push_back(c.client.id);
    created.push_back(c.test->client.id);  // its test twin: a partner row of its own
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = service_.list_clients_page(cursor, 2);
    ASSERT_TRUE(page.ok());
    for (const auto& c : page->clients) seen.push_back(c.id);
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()),
            std::set<std::string>(created.begin(), created.end()));
  EXPECT_EQ(seen.size(), created.size());
  for (const std::size_t bad : {std::size_t{0}, std::size_t{201}}) {
    auto r = service_.list_clients_page("", bad);
    ASSERT_FALSE(r.ok());
    expect_refused(r.error(), ErrorCode::kInvalidRequest, "limit");
  }
  for (const std::string& bad : std::vector<std::string>{"x", "%%%", base64url("12.not-a-uuid"),
                                                         base64url("-1." + created[0])}) {
    auto r = service_.list_clients_page(bad, 2);
    ASSERT_FALSE(r.ok()) << bad;
    expect_refused(r.error(), ErrorCode::kInvalidRequest, "cursor");
  }
}

}  // namespace
}  // namespace pg::core
