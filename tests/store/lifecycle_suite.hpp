// What every core::LifecycleStore must do (pending approvals, circuit version states), as one
// value-parameterised suite over backend factories, like audit_suite.hpp: each change with its
// audit entry and outbox events or none of them, a pending action decided once, approvals added
// by compare-and-set (a stale list loses, the last one decides with its change), the version row
// in step with Store::circuit_enabled, a change seen by another connection. Include this header in
// exactly one translation unit per test executable.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/audit.hpp"
#include "core/lifecycle.hpp"
#include "core/outbox.hpp"
#include "core/ports.hpp"
#include "store_suite.hpp"

namespace pg::store::test {

/// One connection's ports (the lifecycle store borrows the store object, which `keep` holds).
struct LifecycleConnection {
  std::shared_ptr<void> keep;
  core::Store* store = nullptr;
  core::AuditStore* audit = nullptr;
  core::OutboxStore* outbox = nullptr;
  std::shared_ptr<core::LifecycleStore> lifecycle;
};

struct LifecycleBackendFactory {
  std::string name;
  /// Fresh, empty storage; each call of the returned function opens another connection to it.
  std::function<std::function<LifecycleConnection()>()> make;
};

inline void PrintTo(const LifecycleBackendFactory& factory, std::ostream* out) {
  *out << factory.name;
}
inline std::string lifecycle_backend_name(
    const ::testing::TestParamInfo<LifecycleBackendFactory>& info) {
  return info.param.name;
}

class LifecycleSuite : public ::testing::TestWithParam<LifecycleBackendFactory> {
 protected:
  void SetUp() override {
    open_ = GetParam().make();
    c_ = open_();
  }

  static core::PendingAction pending(const std::string& id, core::UnixMillis at) {
    core::PendingAction a;
    a.id = id;
    a.kind = std::string(core::kActionCircuitEnable);
    a.params_json = R"({"claim_type":"age_over_18","version":"2.0.0"})";
    a.requested_by = {std::string(core::kActorAdminApi), "token:abc"};
    a.requested_at = at;
    a.expires_at = at + 86'400'000;
    a.state = std::string(core::kApprovalPending);
    return a;
  }
  static core::AuditEntry audit(const std::string& action, core::UnixMillis at) {
    core::AuditEntry e;
    e.actor_type = std::string(core::kActorAdminCli);
    e.actor_id = "second";
    e.action = action;
    e.details_json = R"({"n":1})";
    e.at = at;
    return e;
  }
  static core::CircuitState circuit(std::string_view state, core::UnixMillis at) {
    core::CircuitState s;
    s.claim_type = "age_over_18";
    s.version = "2.0.0";
    s.state = std::string(state);
    s.updated_at = at;
    return s;
  }
  std::vector<std::string> audit_actions() {
    std::vector<std::string> out;
    for (const auto& e : c_.audit->list_audit(0, kNow + 10'000'000, 100)) out.push_back(e.action);
    return out;
  }

  std::function<LifecycleConnection()> open_;
  LifecycleConnection c_;
};

TEST_P(LifecycleSuite, stores_a_pending_action_with_its_audit_entry) {
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  const auto found = c_.lifecycle->find_approval("a1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->kind, core::kActionCircuitEnable);
  EXPECT_EQ(found->state, core::kApprovalPending);
  EXPECT_EQ(found->requested_by.type, core::kActorAdminApi);
  EXPECT_EQ(found->requested_by.id, "token:abc");
  EXPECT_EQ(found->requested_at, kNow);
  EXPECT_EQ(found->expires_at, kNow + 86'400'000);
  EXPECT_EQ(boost::json::parse(found->params_json),
            boost::json::parse(R"({"claim_type":"age_over_18","version":"2.0.0"})"));
  EXPECT_TRUE(found->decided_by.type.empty());
  EXPECT_EQ(found->decided_at, 0);
  EXPECT_FALSE(c_.lifecycle->find_approval("nope"));
  EXPECT_EQ(audit_actions(), std::vector<std::string>{"approval.requested"});
}

TEST_P(LifecycleSuite, lists_approvals_newest_first_and_by_state) {
  c_.lifecycle->create_approval(pending("old", kNow), audit("approval.requested", kNow));
  c_.lifecycle->create_approval(pending("new", kNow + 5), audit("approval.requested", kNow + 5));
  ASSERT_TRUE(c_.lifecycle->finish_approval("old", core::kApprovalCancelled, {"admin_cli", "x"},
                                            kNow + 6, {}));
  const auto all = c_.lifecycle->list_approvals("", 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "new");
  EXPECT_EQ(all[1].id, "old");
  const auto pending_only = c_.lifecycle->list_approvals(core::kApprovalPending, 10);
  ASSERT_EQ(pending_only.size(), 1u);
  EXPECT_EQ(pending_only[0].id, "new");
  EXPECT_EQ(c_.lifecycle->list_approvals("", 1).size(), 1u);
}

TEST_P(LifecycleSuite, decides_a_pending_action_once_with_its_change) {
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  core::LifecycleChange change;
  change.circuit = circuit(core::kCircuitEnabled, kNow + 10);
  change.audit = {audit("approval.approved", kNow + 10), audit("circuit.enabled", kNow + 10)};
  ASSERT_TRUE(c_.lifecycle->finish_approval("a1", core::kApprovalApproved, {"admin_cli", "second"},
                                            kNow + 10, change));
  // The second decision loses, and writes none of its change.
  core::LifecycleChange again;
  again.circuit = circuit(core::kCircuitDisabled, kNow + 20);
  again.audit = {audit("approval.approved", kNow + 20)};
  EXPECT_FALSE(c_.lifecycle->finish_approval("a1", core::kApprovalApproved, {"admin_cli", "third"},
                                             kNow + 20, again));
  const auto found = c_.lifecycle->find_approval("a1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->state, core::kApprovalApproved);
  EXPECT_EQ(found->decided_by.id, "second");
  EXPECT_EQ(found->decided_at, kNow + 10);
  const auto s = c_.lifecycle->find_circuit_state("age_over_18", "2.0.0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, core::kCircuitEnabled);
  EXPECT_EQ(c_.store->circuit_enabled("age_over_18", "2.0.0"), std::optional<bool>(true));
  EXPECT_EQ(audit_actions(), (std::vector<std::string>{"approval.requested", "approval.approved",
                                                       "circuit.enabled"}));
}

TEST_P(LifecycleSuite, a_refused_audit_entry_rolls_the_decision_back) {
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  core::LifecycleChange change;
  change.circuit = circuit(core::kCircuitEnabled, kNow + 10);
  core::AuditEntry bad = audit("", kNow + 10);  // an empty action is refused
  change.audit = {bad};
  EXPECT_THROW(c_.lifecycle->finish_approval("a1", core::kApprovalApproved, {"admin_cli", "b"},
                                             kNow + 10, change),
               core::StoreError);
  EXPECT_EQ(c_.lifecycle->find_approval("a1")->state, core::kApprovalPending);
  EXPECT_FALSE(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0"));
}

TEST_P(LifecycleSuite, keeps_deprecation_and_the_enabled_column_in_step) {
  core::CircuitState s = circuit(core::kCircuitDeprecated, kNow);
  s.sunset_at = kNow + 3'600'000;
  s.successor = "3.0.0";
  s.deprecated_at = kNow;
  core::LifecycleChange change;
  change.circuit = s;
  change.audit = {audit("circuit.deprecated", kNow)};
  c_.lifecycle->apply_lifecycle(change);
  auto found = c_.lifecycle->find_circuit_state("age_over_18", "2.0.0");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->state, core::kCircuitDeprecated);
  EXPECT_EQ(found->sunset_at, kNow + 3'600'000);
  EXPECT_EQ(found->successor, "3.0.0");
  EXPECT_EQ(found->deprecated_at, kNow);
  EXPECT_EQ(c_.store->circuit_enabled("age_over_18", "2.0.0"), std::optional<bool>(true));

  change.circuit = circuit(core::kCircuitUploaded, kNow + 1);
  c_.lifecycle->apply_lifecycle(change);
  EXPECT_EQ(c_.store->circuit_enabled("age_over_18", "2.0.0"), std::optional<bool>(false));
  EXPECT_EQ(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0")->successor, "");
}

TEST_P(LifecycleSuite, reads_rows_the_old_switch_wrote) {
  c_.store->set_circuit_enabled("age_over_18", "1.0.0", false, kNow);
  auto legacy = c_.lifecycle->find_circuit_state("age_over_18", "1.0.0");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->state, core::kCircuitDisabled);
  // The switch turning off an enabled version wins; turning on an uploaded one does not.
  core::LifecycleChange change;
  change.circuit = circuit(core::kCircuitEnabled, kNow);
  c_.lifecycle->apply_lifecycle(change);
  c_.store->set_circuit_enabled("age_over_18", "2.0.0", false, kNow + 1);
  EXPECT_EQ(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0")->state,
            core::kCircuitDisabled);
  change.circuit = circuit(core::kCircuitUploaded, kNow + 2);
  c_.lifecycle->apply_lifecycle(change);
  c_.store->set_circuit_enabled("age_over_18", "2.0.0", true, kNow + 3);
  EXPECT_EQ(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0")->state,
            core::kCircuitUploaded);
}

TEST_P(LifecycleSuite, writes_partner_events_with_the_state_change) {
  const core::Client partner = sample_client(2);
  c_.store->insert_client(partner);
  core::LifecycleChange change;
  change.circuit = circuit(core::kCircuitDisabled, kNow);
  change.events = {core::OutboxEvent{"ev-1", partner.id, "", "circuit.disabled",
                                     R"({"event":"circuit.disabled"})", kNow}};
  change.audit = {audit("circuit.disabled", kNow)};
  c_.lifecycle->apply_lifecycle(change);
  const auto events = c_.store->pending_events(10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_type, "circuit.disabled");
  EXPECT_EQ(events[0].client_id, partner.id);
  EXPECT_EQ(audit_actions(), std::vector<std::string>{"circuit.disabled"});
}

TEST_P(LifecycleSuite, lists_states_and_usage_by_partner) {
  const core::Client partner = sample_client(1);
  c_.store->insert_client(partner);
  ASSERT_EQ(c_.store->record_proof(sample_proof("p1", partner.id, "n1"), nullptr, nullptr),
            core::RecordOutcome::kStored);
  ASSERT_EQ(c_.store->record_proof(sample_proof("p2", partner.id, "n2"), nullptr, nullptr),
            core::RecordOutcome::kStored);
  core::LifecycleChange change;
  change.circuit = circuit(core::kCircuitUploaded, kNow);
  c_.lifecycle->apply_lifecycle(change);
  const auto states = c_.lifecycle->list_circuit_states();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state, core::kCircuitUploaded);
  const auto usage = c_.lifecycle->circuit_usage();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].claim_type, "income_gte");
  EXPECT_EQ(usage[0].version, "1.0.0");
  EXPECT_EQ(usage[0].client_id, partner.id);
  EXPECT_EQ(usage[0].proofs, 2);
}

TEST_P(LifecycleSuite, another_connection_sees_the_change) {
  LifecycleConnection other = open_();
  core::LifecycleChange change;
  change.circuit = circuit(core::kCircuitDisabled, kNow);
  other.lifecycle->apply_lifecycle(change);
  EXPECT_EQ(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0")->state,
            core::kCircuitDisabled);
}

TEST_P(LifecycleSuite, keeps_a_partner_s_minimum_versions_with_their_audit_entries) {
  const core::Client partner = sample_client(1);
  c_.store->insert_client(partner);
  EXPECT_FALSE(c_.lifecycle->set_min_version("nobody", "age_over_18", "1.0.1", kNow,
                                             audit("client.min_version_set", kNow)));
  ASSERT_TRUE(c_.lifecycle->set_min_version(partner.id, "age_over_18", "1.0.1", kNow,
                                            audit("client.min_version_set", kNow)));
  ASSERT_TRUE(c_.lifecycle->set_min_version(partner.id, "income_gte", "2.0.0", kNow,
                                            audit("client.min_version_set", kNow)));
  ASSERT_TRUE(c_.lifecycle->set_min_version(partner.id, "age_over_18", "1.2.0", kNow + 1,
                                            audit("client.min_version_set", kNow + 1)));
  EXPECT_EQ(
      c_.lifecycle->min_versions(partner.id),
      (std::map<std::string, std::string>{{"age_over_18", "1.2.0"}, {"income_gte", "2.0.0"}}));
  ASSERT_TRUE(c_.lifecycle->set_min_version(partner.id, "income_gte", "", kNow + 2,
                                            audit("client.min_version_set", kNow + 2)));
  EXPECT_EQ(open_().lifecycle->min_versions(partner.id),
            (std::map<std::string, std::string>{{"age_over_18", "1.2.0"}}));
  EXPECT_TRUE(c_.lifecycle->min_versions("nobody").empty());
  EXPECT_EQ(audit_actions().size(), 4u);
}

TEST_P(LifecycleSuite, an_approved_resume_clears_the_suspension_in_the_same_transaction) {
  const core::Client partner = sample_client(2);
  c_.store->insert_client(partner);
  auto* admin = dynamic_cast<core::AdminStore*>(c_.store);
  ASSERT_NE(admin, nullptr);
  ASSERT_EQ(admin->set_client_suspended(partner.id, kNow, audit("client.suspended", kNow)),
            core::ClientChange::kChanged);
  ASSERT_NE(c_.store->find_client(partner.id)->suspended_at, 0);
  core::PendingAction a = pending("r1", kNow);
  a.kind = std::string(core::kActionClientResume);
  a.params_json = R"({"client_id":")" + partner.id + R"("})";
  c_.lifecycle->create_approval(a, audit("approval.requested", kNow));
  core::LifecycleChange change;
  change.resume_client = partner.id;
  change.audit = {audit("approval.approved", kNow + 1), audit("client.resumed", kNow + 1)};
  ASSERT_TRUE(c_.lifecycle->finish_approval("r1", core::kApprovalApproved, {"admin_cli", "b"},
                                            kNow + 1, change));
  EXPECT_EQ(open_().store->find_client(partner.id)->suspended_at, 0);
  // Decided once: a second approval writes nothing (the partner suspended again stays so).
  ASSERT_EQ(admin->set_client_suspended(partner.id, kNow + 2, audit("client.suspended", kNow + 2)),
            core::ClientChange::kChanged);
  EXPECT_FALSE(c_.lifecycle->finish_approval("r1", core::kApprovalApproved, {"admin_cli", "c"},
                                             kNow + 3, change));
  EXPECT_NE(c_.store->find_client(partner.id)->suspended_at, 0);
  EXPECT_EQ(audit_actions(),
            (std::vector<std::string>{"client.suspended", "approval.requested", "approval.approved",
                                      "client.resumed", "client.suspended"}));
}

TEST_P(LifecycleSuite, records_an_approval_with_its_audit_entry_and_keeps_it_pending) {
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  const core::ApprovalVote bob{{std::string(core::kActorAdminCli), "bob"}, kNow + 5};
  core::LifecycleChange change;
  change.audit = {audit("approval.approved", kNow + 5)};
  ASSERT_TRUE(c_.lifecycle->add_approval_vote("a1", {}, bob, false, change));
  const auto found = open_().lifecycle->find_approval("a1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->state, core::kApprovalPending);
  EXPECT_TRUE(found->decided_by.type.empty());
  EXPECT_EQ(found->decided_at, 0);
  ASSERT_EQ(found->approvals.size(), 1u);
  EXPECT_EQ(found->approvals[0].actor.type, core::kActorAdminCli);
  EXPECT_EQ(found->approvals[0].actor.id, "bob");
  EXPECT_EQ(found->approvals[0].at, kNow + 5);
  EXPECT_EQ(c_.lifecycle->list_approvals(core::kApprovalPending, 10).at(0).approvals.size(), 1u);
  EXPECT_FALSE(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0"));
  EXPECT_EQ(audit_actions(), (std::vector<std::string>{"approval.requested", "approval.approved"}));
}

TEST_P(LifecycleSuite, an_approval_over_stale_approvals_loses_and_writes_nothing) {
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  const core::ApprovalVote bob{{std::string(core::kActorAdminCli), "bob"}, kNow + 5};
  const core::ApprovalVote carol{{std::string(core::kActorAdminCli), "carol"}, kNow + 6};
  core::LifecycleChange change;
  change.audit = {audit("approval.approved", kNow + 5)};
  // Both read the action with no approvals; bob's lands first, carol's (on another connection)
  // was computed from what it read before and loses, even when it would decide.
  LifecycleConnection other = open_();
  ASSERT_TRUE(c_.lifecycle->add_approval_vote("a1", {}, bob, false, change));
  core::LifecycleChange deciding = change;
  deciding.circuit = circuit(core::kCircuitEnabled, kNow + 6);
  EXPECT_FALSE(other.lifecycle->add_approval_vote("a1", {}, carol, false, change));
  EXPECT_FALSE(other.lifecycle->add_approval_vote("a1", {}, carol, true, deciding));
  const auto found = c_.lifecycle->find_approval("a1");
  EXPECT_EQ(found->state, core::kApprovalPending);
  ASSERT_EQ(found->approvals.size(), 1u);
  EXPECT_EQ(found->approvals[0].actor.id, "bob");
  EXPECT_FALSE(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0"));
  EXPECT_EQ(audit_actions(), (std::vector<std::string>{"approval.requested", "approval.approved"}));
  // An unknown or decided action takes no approval either.
  EXPECT_FALSE(c_.lifecycle->add_approval_vote("nope", {}, bob, false, change));
  ASSERT_TRUE(
      c_.lifecycle->finish_approval("a1", core::kApprovalCancelled, bob.actor, kNow + 7, {}));
  EXPECT_FALSE(c_.lifecycle->add_approval_vote("a1", found->approvals, carol, true, deciding));
  EXPECT_EQ(c_.lifecycle->find_approval("a1")->approvals.size(), 1u);
}

TEST_P(LifecycleSuite, the_second_approval_decides_and_executes_in_one_transaction) {
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  const core::ApprovalVote bob{{std::string(core::kActorAdminCli), "bob"}, kNow + 5};
  const core::ApprovalVote carol{{std::string(core::kActorAdminApi), "carol"}, kNow + 9};
  core::LifecycleChange first;
  first.audit = {audit("approval.approved", kNow + 5)};
  ASSERT_TRUE(c_.lifecycle->add_approval_vote("a1", {}, bob, false, first));
  const auto seen = open_().lifecycle->find_approval("a1")->approvals;
  core::LifecycleChange second;
  second.circuit = circuit(core::kCircuitEnabled, kNow + 9);
  second.audit = {audit("approval.approved", kNow + 9), audit("circuit.enabled", kNow + 9)};
  ASSERT_TRUE(open_().lifecycle->add_approval_vote("a1", seen, carol, true, second));
  const auto found = c_.lifecycle->find_approval("a1");
  EXPECT_EQ(found->state, core::kApprovalApproved);
  EXPECT_EQ(found->decided_by.type, core::kActorAdminApi);
  EXPECT_EQ(found->decided_by.id, "carol");
  EXPECT_EQ(found->decided_at, kNow + 9);
  ASSERT_EQ(found->approvals.size(), 2u);
  EXPECT_EQ(found->approvals[0].actor.id, "bob");
  EXPECT_EQ(found->approvals[1].actor.id, "carol");
  EXPECT_EQ(found->approvals[1].at, kNow + 9);
  EXPECT_EQ(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0")->state, core::kCircuitEnabled);
  EXPECT_EQ(c_.store->circuit_enabled("age_over_18", "2.0.0"), std::optional<bool>(true));
  EXPECT_EQ(audit_actions(), (std::vector<std::string>{"approval.requested", "approval.approved",
                                                       "approval.approved", "circuit.enabled"}));
  // Decided: a vote over the same approvals loses.
  EXPECT_FALSE(c_.lifecycle->add_approval_vote("a1", seen, carol, true, second));
}

TEST_P(LifecycleSuite, approvals_cast_at_once_on_several_connections_are_all_kept) {
  // Each thread on its own connection reads the approvals and adds its own by compare-and-set,
  // reading again when it loses: none is lost, none is written twice.
  constexpr int kThreads = 4;
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  std::vector<LifecycleConnection> connections;
  for (int i = 0; i < kThreads; ++i) connections.push_back(open_());
  std::atomic<int> ready{0};
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      const core::ApprovalVote vote{{std::string(core::kActorAdminCli), "v" + std::to_string(i)},
                                    kNow + 1 + i};
      core::LifecycleChange change;
      change.audit = {audit("approval.approved", kNow + 1 + i)};
      for (int attempt = 0; attempt < 100; ++attempt) {
        const auto seen = connections[i].lifecycle->find_approval("a1")->approvals;
        if (connections[i].lifecycle->add_approval_vote("a1", seen, vote, false, change)) return;
        lost.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto found = c_.lifecycle->find_approval("a1");
  ASSERT_EQ(found->approvals.size(), std::size_t{kThreads});
  std::set<std::string> voters;
  for (const auto& v : found->approvals) voters.insert(v.actor.id);
  EXPECT_EQ(voters, (std::set<std::string>{"v0", "v1", "v2", "v3"}));
  EXPECT_EQ(audit_actions().size(), std::size_t{kThreads + 1});
  RecordProperty("compare_and_set_rounds_lost", lost.load());
}

TEST_P(LifecycleSuite, a_refused_audit_entry_rolls_an_approval_back) {
  c_.lifecycle->create_approval(pending("a1", kNow), audit("approval.requested", kNow));
  core::LifecycleChange change;
  change.circuit = circuit(core::kCircuitEnabled, kNow + 10);
  change.audit = {audit("", kNow + 10)};  // an empty action is refused
  EXPECT_THROW(c_.lifecycle->add_approval_vote(
                   "a1", {}, {{std::string(core::kActorAdminCli), "bob"}, kNow + 10}, true, change),
               core::StoreError);
  const auto found = c_.lifecycle->find_approval("a1");
  EXPECT_EQ(found->state, core::kApprovalPending);
  EXPECT_TRUE(found->approvals.empty());
  EXPECT_FALSE(c_.lifecycle->find_circuit_state("age_over_18", "2.0.0"));
}

}  // namespace pg::store::test
