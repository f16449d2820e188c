// core::LifecycleService and CircuitGate over the embedded store: the two-person rule (the
// requester cannot approve, an expired or decided action cannot be approved, a cancelled one
// neither), enabling through two approvals (each approver once, two at once both counted),
// disabling and deprecating with partner events and audit entries, the verify path's view (refusal
// naming the successor after the sunset, the cache), and the deprecation headers' formats.
#include "core/lifecycle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_lifecycle.hpp"
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

/// A LifecycleStore that, once armed, lets another approver's vote land between an approve's
/// read and its write (the race two approvers at once can run into), then forwards as usual.
class RacingStore final : public LifecycleStore {
 public:
  explicit RacingStore(LifecycleStore& inner) : inner_(inner) {}
  std::optional<ApprovalVote> racer;  // cast just before the next add_approval_vote
  int lost = 0;                       // add_approval_vote calls that lost their compare-and-set

  void create_approval(const PendingAction& a, const AuditEntry& e) override {
    inner_.create_approval(a, e);
  }
  std::optional<PendingAction> find_approval(std::string_view id) override {
    return inner_.find_approval(id);
  }
  std::vector<PendingAction> list_approvals(std::string_view state, std::size_t limit) override {
    return inner_.list_approvals(state, limit);
  }
  bool finish_approval(std::string_view id, std::string_view state, const Actor& by, UnixMillis at,
                       const LifecycleChange& change) override {
    return inner_.finish_approval(id, state, by, at, change);
  }
  bool add_approval_vote(std::string_view id, const std::vector<ApprovalVote>& seen,
                         const ApprovalVote& vote, bool decide,
                         const LifecycleChange& change) override {
    if (racer) {
      const ApprovalVote other = *std::exchange(racer, std::nullopt);
      const auto current = inner_.find_approval(id);
      EXPECT_TRUE(inner_.add_approval_vote(id, current->approvals, other, false, {}));
    }
    const bool done = inner_.add_approval_vote(id, seen, vote, decide, change);
    if (!done) ++lost;
    return done;
  }
  void apply_lifecycle(const LifecycleChange& change) override { inner_.apply_lifecycle(change); }
  std::optional<CircuitState> find_circuit_state(std::string_view claim_type,
                                                 std::string_view version) override {
    return inner_.find_circuit_state(claim_type, version);
  }
  std::vector<CircuitState> list_circuit_states() override { return inner_.list_circuit_states(); }
  std::vector<CircuitUsage> circuit_usage() override { return inner_.circuit_usage(); }
  bool set_min_version(std::string_view client_id, std::string_view claim_type,
                       std::string_view min_version, UnixMillis now,
                       const AuditEntry& audit) override {
    return inner_.set_min_version(client_id, claim_type, min_version, now, audit);
  }
  std::map<std::string, std::string> min_versions(std::string_view client_id) override {
    return inner_.min_versions(client_id);
  }

 private:
  LifecycleStore& inner_;
};

class LifecycleTest : public ::testing::Test {
 protected:
  LifecycleTest()
      : dir_(fs::temp_directory_path() /
             ("proofgate-lifecycle-test-" + std::to_string(std::random_device()()) + "-" +
              std::to_string(counter_++))),
        store_((fs::create_directories(dir_), store::SqliteSettings{.path = dir_ / "db.sqlite"})),
        lifecycle_store_(store_),
        gate_(lifecycle_store_, clock_, std::chrono::milliseconds(1000)),
        service_({lifecycle_store_, store_, nullptr, clock_, &gate_, [this] { ++notified_; }, {}},
                 {3600}) {}
  ~LifecycleTest() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::vector<std::string> actions() {
    std::vector<std::string> out;
    for (const auto& e : store_.list_audit(0, kNow * 2, 1000)) out.push_back(e.action);
    return out;
  }
  PendingAction request(const Actor& by, const std::string& version = "2.0.0") {
    auto a = service_.request_enable(by, "age_over_18", version);
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().detail);
    return a.ok() ? *a : PendingAction{};
  }
  void upload(const std::string& version) {
    LifecycleChange c;
    CircuitState s;
    s.claim_type = "age_over_18";
    s.version = version;
    s.state = std::string(kCircuitUploaded);
    s.updated_at = kNow;
    c.circuit = s;
    lifecycle_store_.apply_lifecycle(c);
  }
  static AuditEntry suspended_entry() {
    AuditEntry e;
    e.actor_type = "t";
    e.action = "client.suspended";
    e.at = kNow;
    return e;
  }
  static void expect_conflict(const ApiError& e, const std::string& words) {
    EXPECT_EQ(e.code, ErrorCode::kConflict) << e.detail;
    EXPECT_NE(e.detail.find(words), std::string::npos) << e.detail;
  }

  static inline std::atomic<unsigned> counter_{0};
  fs::path dir_;
  store::SqliteStore store_;
  store::SqliteLifecycleStore lifecycle_store_;
  FixedClock clock_;
  CircuitGate gate_;
  int notified_ = 0;
  LifecycleService service_;
  Actor alice_{std::string(kActorAdminCli), "alice"};
  Actor bob_{std::string(kActorAdminCli), "bob"};
  Actor carol_{std::string(kActorAdminCli), "carol"};
  Actor token_{std::string(kActorAdminApi), "token:0123456789ab"};
};

TEST_F(LifecycleTest, enabling_needs_two_approvers_besides_the_requester) {
  upload("2.0.0");
  EXPECT_TRUE(gate_.refuse("age_over_18", "2.0.0", "circuit_version"));
  const PendingAction a = request(alice_);
  EXPECT_EQ(a.state, kApprovalPending);
  EXPECT_EQ(a.expires_at, kNow + 3'600'000);
  EXPECT_TRUE(a.approvals.empty());

  auto self = service_.approve(alice_, a.id);
  ASSERT_FALSE(self.ok());
  expect_conflict(self.error(), "cannot approve their own");
  EXPECT_TRUE(lifecycle_store_.find_approval(a.id)->approvals.empty());

  // The first approval is recorded; the version stays uploaded.
  clock_.now = kNow + 10;
  auto first = service_.approve(bob_, a.id);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  EXPECT_EQ(first->state, kApprovalPending);
  ASSERT_EQ(first->approvals.size(), 1u);
  EXPECT_EQ(first->approvals[0].actor.id, "bob");
  EXPECT_EQ(first->approvals[0].at, kNow + 10);
  EXPECT_TRUE(first->decided_by.type.empty());
  const auto stored = lifecycle_store_.find_approval(a.id);
  EXPECT_EQ(stored->state, kApprovalPending);
  ASSERT_EQ(stored->approvals.size(), 1u);
  EXPECT_EQ(stored->approvals[0].actor.type, kActorAdminCli);
  EXPECT_EQ(stored->approvals[0].actor.id, "bob");
  EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", "2.0.0")->state, kCircuitUploaded);
  EXPECT_EQ(store_.circuit_enabled("age_over_18", "2.0.0"), std::optional<bool>(false));
  EXPECT_TRUE(gate_.refuse("age_over_18", "2.0.0", "circuit_version"));

  // Neither the same approver again nor the requester count as the second.
  auto again = service_.approve(bob_, a.id);
  ASSERT_FALSE(again.ok());
  expect_conflict(again.error(), "admin_cli:bob has approved already");
  EXPECT_EQ(lifecycle_store_.find_approval(a.id)->approvals.size(), 1u);
  expect_conflict(service_.approve(alice_, a.id).error(), "cannot approve their own");
  EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", "2.0.0")->state, kCircuitUploaded);

  clock_.now = kNow + 20;
  auto second = service_.approve(carol_, a.id);
  ASSERT_TRUE(second.ok()) << second.error().detail;
  EXPECT_EQ(second->state, kApprovalApproved);
  EXPECT_EQ(second->decided_by.id, "carol");
  EXPECT_EQ(second->decided_at, kNow + 20);
  ASSERT_EQ(second->approvals.size(), 2u);
  EXPECT_EQ(second->approvals[1].actor.id, "carol");
  const auto decided = lifecycle_store_.find_approval(a.id);
  EXPECT_EQ(decided->state, kApprovalApproved);
  EXPECT_EQ(decided->decided_by.id, "carol");
  ASSERT_EQ(decided->approvals.size(), 2u);
  EXPECT_EQ(decided->approvals[0].actor.id, "bob");
  EXPECT_EQ(decided->approvals[1].actor.id, "carol");
  EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", "2.0.0")->state, kCircuitEnabled);
  EXPECT_FALSE(gate_.refuse("age_over_18", "2.0.0", "circuit_version"));  // invalidated
  EXPECT_EQ(actions(), (std::vector<std::string>{"approval.requested", "approval.approved",
                                                 "approval.approved", "circuit.enabled"}));
  // The audit trail counts the approvals and names every approver.
  const auto entries = store_.list_audit(0, kNow * 2, 1000);
  ASSERT_EQ(entries.size(), 4u);
  const json::value vote1 = json::parse(entries[1].details_json);
  EXPECT_EQ(entries[1].actor_id, "bob");
  EXPECT_EQ(vote1.at("approvals").to_number<int>(), 1);
  EXPECT_EQ(vote1.at("required").to_number<int>(), 2);
  const json::value vote2 = json::parse(entries[2].details_json);
  EXPECT_EQ(vote2.at("approvals").to_number<int>(), 2);
  EXPECT_EQ(vote2.at("required").to_number<int>(), 2);
  const json::array both{"admin_cli:bob", "admin_cli:carol"};
  EXPECT_EQ(vote2.at("approvers"), both);
  EXPECT_EQ(entries[3].actor_id, "carol");
  EXPECT_EQ(json::parse(entries[3].details_json).at("approvers"), both);
}

TEST_F(LifecycleTest, only_enabling_a_circuit_needs_two_approvals) {
  static_assert(approvals_required(kActionCircuitEnable) == 2);
  static_assert(approvals_required(kActionClientResume) == 1);
  static_assert(approvals_required(kActionAuditExport) == 1);
  // An export runs on its first approval (resume: a_resume_waits_for_a_second_actor...).
  auto a = service_.request_export(alice_, 0, 5000);
  ASSERT_TRUE(a.ok()) << a.error().detail;
  auto approved = service_.approve(bob_, a->id);
  ASSERT_TRUE(approved.ok()) << approved.error().detail;
  EXPECT_EQ(approved->state, kApprovalApproved);
  ASSERT_EQ(approved->approvals.size(), 1u);
  const json::value details = json::parse(store_.list_audit(0, kNow * 2, 10)[1].details_json);
  EXPECT_EQ(details.at("approvals").to_number<int>(), 1);
  EXPECT_EQ(details.at("required").to_number<int>(), 1);
}

TEST_F(LifecycleTest, an_action_expiring_between_two_approvals_is_not_executed) {
  upload("2.0.0");
  const PendingAction a = request(alice_);
  ASSERT_TRUE(service_.approve(bob_, a.id).ok());
  clock_.now = a.expires_at;
  auto late = service_.approve(carol_, a.id);
  ASSERT_FALSE(late.ok());
  expect_conflict(late.error(), "expired");
  const auto stored = lifecycle_store_.find_approval(a.id);
  EXPECT_EQ(stored->state, kApprovalExpired);
  ASSERT_EQ(stored->approvals.size(), 1u);  // the earlier approval stays on record
  EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", "2.0.0")->state, kCircuitUploaded);
  EXPECT_EQ(actions(), (std::vector<std::string>{"approval.requested", "approval.approved",
                                                 "approval.expired"}));
}

TEST_F(LifecycleTest, an_approval_that_loses_to_another_is_retried_and_then_enables) {
  upload("2.0.0");
  const PendingAction a = request(alice_);
  RacingStore racing(lifecycle_store_);
  LifecycleService service({racing, store_, nullptr, clock_, &gate_, nullptr, {}}, {3600});
  // carol reads no approvals; bob's lands before her write, so hers loses, is read again and is
  // the second: it enables, and both count.
  racing.racer = ApprovalVote{bob_, kNow + 1};
  auto approved = service.approve(carol_, a.id);
  ASSERT_TRUE(approved.ok()) << approved.error().detail;
  EXPECT_EQ(racing.lost, 1);
  EXPECT_EQ(approved->state, kApprovalApproved);
  const auto stored = lifecycle_store_.find_approval(a.id);
  EXPECT_EQ(stored->state, kApprovalApproved);
  EXPECT_EQ(stored->decided_by.id, "carol");
  ASSERT_EQ(stored->approvals.size(), 2u);
  EXPECT_EQ(stored->approvals[0].actor.id, "bob");
  EXPECT_EQ(stored->approvals[1].actor.id, "carol");
  EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", "2.0.0")->state, kCircuitEnabled);
  EXPECT_EQ(actions(), (std::vector<std::string>{"approval.requested", "approval.approved",
                                                 "circuit.enabled"}));
}

TEST_F(LifecycleTest, an_approval_racing_the_same_approver_is_refused_on_the_retry) {
  upload("2.0.0");
  const PendingAction a = request(alice_);
  RacingStore racing(lifecycle_store_);
  LifecycleService service({racing, store_, nullptr, clock_, &gate_, nullptr, {}}, {3600});
  racing.racer = ApprovalVote{bob_, kNow + 1};  // bob's own approval, from another console tab
  auto twice = service.approve(bob_, a.id);
  ASSERT_FALSE(twice.ok());
  expect_conflict(twice.error(), "has approved already");
  EXPECT_EQ(racing.lost, 1);
  const auto stored = lifecycle_store_.find_approval(a.id);
  EXPECT_EQ(stored->state, kApprovalPending);
  EXPECT_EQ(stored->approvals.size(), 1u);
}

TEST_F(LifecycleTest, two_approvers_at_once_both_count_and_enable_once) {
  // Each round: two threads approve the same fresh action at the same moment. Whatever the
  // interleaving, one answer is the pending first approval and the other the enabling second.
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string version = "2.1." + std::to_string(round);
    upload(version);
    const PendingAction a = request(alice_, version);
    std::atomic<int> ready{0};
    Outcome<PendingAction> results[2] = {conflict("id", "not run"), conflict("id", "not run")};
    const Actor voters[2] = {bob_, carol_};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();
        results[t] = service_.approve(voters[t], a.id);
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_TRUE(results[0].ok()) << results[0].error().detail;
    ASSERT_TRUE(results[1].ok()) << results[1].error().detail;
    EXPECT_EQ(
        int(results[0]->state == kApprovalApproved) + int(results[1]->state == kApprovalApproved),
        1)
        << "round " << round;
    const auto stored = lifecycle_store_.find_approval(a.id);
    EXPECT_EQ(stored->state, kApprovalApproved);
    EXPECT_EQ(stored->approvals.size(), 2u);
    EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", version)->state, kCircuitEnabled);
  }
  const auto all = actions();
  EXPECT_EQ(std::count(all.begin(), all.end(), "circuit.enabled"), kRounds);
  EXPECT_EQ(std::count(all.begin(), all.end(), "approval.approved"), 2 * kRounds);
}

TEST_F(LifecycleTest, the_same_id_under_another_actor_type_is_another_person) {
  upload("2.0.0");
  const PendingAction a = request(Actor{std::string(kActorAdminApi), "alice"});
  EXPECT_TRUE(service_.approve(alice_, a.id).ok());
}

TEST_F(LifecycleTest, an_expired_action_is_refused_and_marked_expired) {
  upload("2.0.0");
  const PendingAction a = request(token_);
  clock_.now = a.expires_at;
  auto late = service_.approve(bob_, a.id);
  ASSERT_FALSE(late.ok());
  expect_conflict(late.error(), "expired");
  EXPECT_EQ(lifecycle_store_.find_approval(a.id)->state, kApprovalExpired);
  EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", "2.0.0")->state, kCircuitUploaded);
  // Once marked, it is not pending any more.
  auto again = service_.approve(alice_, a.id);
  ASSERT_FALSE(again.ok());
  expect_conflict(again.error(), "not pending");
}

TEST_F(LifecycleTest, a_pending_action_past_its_time_lists_as_expired) {
  upload("2.0.0");
  const PendingAction a = request(token_);
  clock_.now = a.expires_at + 1;
  auto listed = service_.list_approvals("", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].state, kApprovalExpired);
}

TEST_F(LifecycleTest, an_action_is_approved_once) {
  upload("2.0.0");
  const PendingAction a = request(token_);
  ASSERT_TRUE(service_.approve(alice_, a.id).ok());
  ASSERT_TRUE(service_.approve(bob_, a.id).ok());
  auto thrice = service_.approve(carol_, a.id);
  ASSERT_FALSE(thrice.ok());
  expect_conflict(thrice.error(), "approved, not pending");
  EXPECT_EQ(lifecycle_store_.find_approval(a.id)->decided_by.id, "bob");
  EXPECT_EQ(lifecycle_store_.find_approval(a.id)->approvals.size(), 2u);
}

TEST_F(LifecycleTest, a_cancelled_action_cannot_be_approved) {
  upload("2.0.0");
  const PendingAction a = request(token_);
  auto cancelled = service_.cancel(alice_, a.id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, kApprovalCancelled);
  auto approved = service_.approve(bob_, a.id);
  ASSERT_FALSE(approved.ok());
  expect_conflict(approved.error(), "cancelled");
  EXPECT_EQ(lifecycle_store_.find_circuit_state("age_over_18", "2.0.0")->state, kCircuitUploaded);
}

TEST_F(LifecycleTest, unknown_ids_and_bad_requests_are_refused_naming_the_field) {
  auto missing = service_.approve(bob_, "00000000-0000-4000-8000-000000000000");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().field, "id");
  auto bad_claim = service_.request_enable(alice_, "over_9000", "1.0.0");
  ASSERT_FALSE(bad_claim.ok());
  EXPECT_EQ(bad_claim.error().field, "claim_type");
  auto bad_version = service_.request_enable(alice_, "age_over_18", "1.0");
  ASSERT_FALSE(bad_version.ok());
  EXPECT_EQ(bad_version.error().field, "version");
  auto bad_state = service_.list_approvals("maybe", 10);
  ASSERT_FALSE(bad_state.ok());
  EXPECT_EQ(bad_state.error().field, "state");
}

TEST_F(LifecycleTest, enabling_an_enabled_version_or_twice_is_a_conflict) {
  // No row: a version in the artifacts directory is enabled.
  auto enabled = service_.request_enable(alice_, "age_over_18", "1.0.0");
  ASSERT_FALSE(enabled.ok());
  expect_conflict(enabled.error(), "enabled already");
  upload("2.0.0");
  const PendingAction first = request(alice_);
  auto second = service_.request_enable(bob_, "age_over_18", "2.0.0");
  ASSERT_FALSE(second.ok());
  expect_conflict(second.error(), first.id);
}

TEST_F(LifecycleTest, disabling_tells_every_partner_with_a_webhook_in_the_same_change) {
  Client with_hook;
  with_hook.id = "c1";
  with_hook.name = "Bank";
  with_hook.key_prefix = "pfx00001";
  with_hook.scopes = {"age_over_18"};
  with_hook.domains = {"bank.example"};
  with_hook.webhook_url = "https://hooks.bank.example/pg";
  with_hook.created_at = kNow;
  Client without = with_hook;
  without.id = "c2";
  without.key_prefix = "pfx00002";
  without.domains = {"shop.example"};
  without.webhook_url.clear();
  store_.insert_client(with_hook);
  store_.insert_client(without);

  auto disabled = service_.disable(alice_, "age_over_18", "1.0.0");
  ASSERT_TRUE(disabled.ok()) << disabled.error().detail;
  EXPECT_EQ(disabled->state, kCircuitDisabled);
  const auto events = store_.pending_events(10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].client_id, "c1");
  EXPECT_EQ(events[0].event_type, "circuit.disabled");
  const json::object payload = json::parse(events[0].payload).as_object();
  EXPECT_EQ(payload.at("data").at("version").as_string(), "1.0.0");
  EXPECT_EQ(actions(), std::vector<std::string>{"circuit.disabled"});
  EXPECT_EQ(notified_, 1);
  EXPECT_EQ(store_.circuit_enabled("age_over_18", "1.0.0"), std::optional<bool>(false));
  const auto refused = gate_.refuse("age_over_18", "1.0.0", "circuit_version");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::kCircuitDisabled);
  auto again = service_.disable(bob_, "age_over_18", "1.0.0");
  ASSERT_FALSE(again.ok());
  expect_conflict(again.error(), "disabled already");
}

TEST_F(LifecycleTest, deprecation_verifies_until_the_sunset_then_names_the_successor) {
  auto past = service_.deprecate(alice_, "age_over_18", "1.0.0", kNow, "2.0.0");
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().field, "sunset");
  auto self = service_.deprecate(alice_, "age_over_18", "1.0.0", kNow + 5000, "1.0.0");
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().field, "successor");

  auto deprecated = service_.deprecate(alice_, "age_over_18", "1.0.0", kNow + 5000, "2.0.0");
  ASSERT_TRUE(deprecated.ok()) << deprecated.error().detail;
  EXPECT_EQ(deprecated->deprecated_at, kNow);
  EXPECT_FALSE(gate_.refuse("age_over_18", "1.0.0", "circuit_version"));
  const auto headers = deprecation_headers(gate_.state("age_over_18", "1.0.0"));
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"Deprecation",
                                                             "@" + std::to_string(kNow / 1000)}));
  EXPECT_EQ(headers[1].first, "Sunset");
  EXPECT_EQ(headers[1].second, http_date(kNow + 5000));
  EXPECT_EQ(headers[2],
            (std::pair<std::string, std::string>{"Link",
                                                 "</artifacts/age_over_18/2.0.0/manifest.json>; "
                                                 "rel=\"successor-version\""}));

  clock_.now = kNow + 5000;
  const auto refused = gate_.refuse("age_over_18", "1.0.0", "circuit_version");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::kCircuitDisabled);
  EXPECT_NE(refused->detail.find("move to age_over_18 2.0.0"), std::string::npos)
      << refused->detail;
}

TEST_F(LifecycleTest, the_gate_sees_another_connection_s_change_after_its_cache_time) {
  EXPECT_FALSE(gate_.refuse("age_over_18", "1.0.0", "circuit_version"));
  store::SqliteStore other_store(store::SqliteSettings{.path = dir_ / "db.sqlite"});
  store::SqliteLifecycleStore other(other_store);
  LifecycleChange c;
  CircuitState s;
  s.claim_type = "age_over_18";
  s.version = "1.0.0";
  s.state = std::string(kCircuitDisabled);
  c.circuit = s;
  other.apply_lifecycle(c);
  EXPECT_FALSE(gate_.refuse("age_over_18", "1.0.0", "circuit_version"));  // cached
  clock_.now += 1000;
  EXPECT_TRUE(gate_.refuse("age_over_18", "1.0.0", "circuit_version"));
}

TEST_F(LifecycleTest, a_partner_s_minimum_refuses_older_versions_naming_the_minimum) {
  Client partner;
  partner.id = "c1";
  partner.name = "Bank";
  partner.key_prefix = "pfx00001";
  partner.scopes = {"age_over_18"};
  partner.domains = {"bank.example"};
  partner.created_at = kNow;
  store_.insert_client(partner);
  auto bad = service_.set_min_version(alice_, "c1", "age_over_18", "1.0");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "min_version");
  auto unknown = service_.set_min_version(alice_, "nobody", "age_over_18", "1.0.1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  EXPECT_FALSE(gate_.refuse_for("c1", "age_over_18", "1.0.0", "circuit_version"));
  auto set = service_.set_min_version(alice_, "c1", "age_over_18", "1.0.10");
  ASSERT_TRUE(set.ok()) << set.error().detail;
  EXPECT_EQ(set->at("age_over_18"), "1.0.10");
  const auto refused = gate_.refuse_for("c1", "age_over_18", "1.0.9", "circuit_version");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, ErrorCode::kCircuitDisabled);
  EXPECT_NE(refused->detail.find("move to age_over_18 1.0.10 or newer"), std::string::npos)
      << refused->detail;
  EXPECT_FALSE(gate_.refuse_for("c1", "age_over_18", "1.0.10", "circuit_version"));
  EXPECT_FALSE(gate_.refuse_for("c1", "age_over_18", "2.0.0", "circuit_version"));
  EXPECT_FALSE(gate_.refuse_for("c2", "age_over_18", "1.0.0", "circuit_version"));
  EXPECT_EQ(actions(), std::vector<std::string>{"client.min_version_set"});
}

TEST(LifecycleFormats, semver_compares_number_by_number) {
  EXPECT_EQ(compare_semver("1.0.0", "1.0.0"), 0);
  EXPECT_LT(compare_semver("1.0.9", "1.0.10"), 0);
  EXPECT_GT(compare_semver("1.10.0", "1.9.99"), 0);
  EXPECT_LT(compare_semver("0.9.9", "1.0.0"), 0);
  EXPECT_GT(compare_semver("10.0.0", "9.0.0"), 0);
}

TEST(LifecycleFormats, http_date_is_rfc_9110_imf_fixdate) {
  // RFC 9110 §5.6.7's example.
  EXPECT_EQ(http_date(784'111'777'000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(LifecycleFormats, parse_utc_time_takes_rfc_3339_utc_or_unix_seconds_only) {
  EXPECT_EQ(parse_utc_time("1994-11-06T08:49:37Z"), std::optional<UnixMillis>(784'111'777'000));
  EXPECT_EQ(parse_utc_time("784111777"), std::optional<UnixMillis>(784'111'777'000));
  EXPECT_FALSE(parse_utc_time("1994-11-06T08:49:37+01:00"));
  EXPECT_FALSE(parse_utc_time("1994-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_utc_time("1994-11-06 08:49:37Z"));
  EXPECT_FALSE(parse_utc_time(""));
  EXPECT_FALSE(parse_utc_time("1994-11-06T24:00:00Z"));
}

TEST_F(LifecycleTest, a_resume_waits_for_a_second_actor_and_runs_in_the_approval) {
  Client c;
  c.id = "0b6f3c1e-6f1a-4c8e-9a53-1d2f3e4a5b6c";
  c.name = "Bank";
  c.key_prefix = "pfx00003";
  c.scopes = {"age_over_18"};
  c.domains = {"bank.example"};
  c.created_at = kNow;
  store_.insert_client(c);
  // Its test twin: suspended with it, resumed with it.
  Client twin = c;
  twin.id = "0b6f3c1e-6f1a-4c8e-9a53-1d2f3e4a5b7c";
  twin.key_prefix = "pfx00013";
  twin.mode = Mode::kTest;
  twin.live_client_id = c.id;
  store_.insert_client(twin);

  auto active = service_.request_resume(alice_, c.id);
  ASSERT_FALSE(active.ok());
  expect_conflict(active.error(), "not suspended");
  auto unknown = service_.request_resume(alice_, "0b6f3c1e-6f1a-4c8e-9a53-000000000000");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().field, "client_id");

  ASSERT_EQ(store_.set_client_suspended(c.id, kNow, suspended_entry()), ClientChange::kChanged);
  ASSERT_NE(store_.find_client(twin.id)->suspended_at, 0);
  // The twin alone is not resumed while its partner is suspended.
  auto twin_alone = service_.request_resume(alice_, twin.id);
  ASSERT_FALSE(twin_alone.ok());
  expect_conflict(twin_alone.error(), "test twin");
  auto a = service_.request_resume(alice_, c.id);
  ASSERT_TRUE(a.ok()) << a.error().detail;
  EXPECT_EQ(a->kind, kActionClientResume);
  EXPECT_EQ(json::parse(a->params_json).at("client_id").as_string(), c.id);
  auto twice = service_.request_resume(bob_, c.id);
  ASSERT_FALSE(twice.ok());
  expect_conflict(twice.error(), "pending already");

  auto self = service_.approve(alice_, a->id);
  ASSERT_FALSE(self.ok());
  expect_conflict(self.error(), "cannot approve their own");
  EXPECT_NE(store_.find_client(c.id)->suspended_at, 0);

  const int before = notified_;
  auto approved = service_.approve(bob_, a->id);
  ASSERT_TRUE(approved.ok()) << approved.error().detail;
  EXPECT_EQ(approved->state, kApprovalApproved);  // one approval is enough for a resume
  EXPECT_EQ(store_.find_client(c.id)->suspended_at, 0);
  EXPECT_EQ(store_.find_client(twin.id)->suspended_at, 0);  // the twin follows its partner
  EXPECT_EQ(notified_, before + 1);  // the held webhooks are due: the worker is woken
  EXPECT_EQ(actions(), (std::vector<std::string>{"client.suspended", "approval.requested",
                                                 "approval.approved", "client.resumed"}));
}

TEST_F(LifecycleTest, a_resume_approved_after_the_partner_was_resumed_otherwise_is_refused) {
  Client c;
  c.id = "0b6f3c1e-6f1a-4c8e-9a53-1d2f3e4a5b6d";
  c.name = "Shop";
  c.key_prefix = "pfx00004";
  c.scopes = {"age_over_18"};
  c.domains = {"shop.example"};
  c.created_at = kNow;
  store_.insert_client(c);
  const AuditEntry audit = suspended_entry();
  store_.set_client_suspended(c.id, kNow, audit);
  auto a = service_.request_resume(alice_, c.id);
  ASSERT_TRUE(a.ok()) << a.error().detail;
  store_.set_client_suspended(c.id, 0, audit);  // resumed from the shell meanwhile
  auto approved = service_.approve(bob_, a->id);
  ASSERT_FALSE(approved.ok());
  expect_conflict(approved.error(), "not suspended any more");
  EXPECT_EQ(lifecycle_store_.find_approval(a->id)->state, kApprovalPending);
}

TEST_F(LifecycleTest, an_audit_export_is_downloaded_only_by_its_requester_once_approved) {
  auto backwards = service_.request_export(alice_, 2000, 1000);
  ASSERT_FALSE(backwards.ok());
  EXPECT_EQ(backwards.error().field, "to");
  auto a = service_.request_export(alice_, 0, 5000);
  ASSERT_TRUE(a.ok()) << a.error().detail;
  EXPECT_EQ(a->kind, kActionAuditExport);
  const auto refused = [&](const Actor& who, std::string_view id, const std::string& words) {
    auto g = service_.export_grant(who, id);
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code, ErrorCode::kUnauthorizedScope);
    EXPECT_EQ(g.error().field, "approval");
    EXPECT_NE(g.error().detail.find(words), std::string::npos) << g.error().detail;
  };
  refused(alice_, "", "no audit.export approval");
  refused(alice_, a->id, "it is pending");
  ASSERT_FALSE(service_.approve(alice_, a->id).ok());
  ASSERT_TRUE(service_.approve(bob_, a->id).ok());
  refused(bob_, a->id, "only its requester (admin_cli:alice)");
  auto granted = service_.export_grant(alice_, a->id);
  ASSERT_TRUE(granted.ok()) << granted.error().detail;
  EXPECT_EQ(json::parse(granted->params_json), json::parse(R"({"from":0,"to":5000})"));
  EXPECT_TRUE(service_.export_grant(alice_, a->id).ok());  // again, until it expires
  EXPECT_EQ(actions(), (std::vector<std::string>{"approval.requested", "approval.approved",
                                                 "audit.exported", "audit.exported"}));
  clock_.now = a->expires_at;
  refused(alice_, a->id, "expired");

  upload("2.0.0");
  const PendingAction enable = request(alice_);
  refused(alice_, enable.id, "no audit.export approval");  // another kind is no grant
}

}  // namespace
}  // namespace pg::core
