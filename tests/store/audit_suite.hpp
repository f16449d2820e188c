// What every core::AuditStore must do, as one value-parameterised GoogleTest suite over backend
// factories (the shape of store_suite.hpp): the audit trail by time range, retention's archive-
// then-delete in batches (and nothing deleted when archiving fails), account anonymisation; and
// what every core::AdminStore must do: each change written with its audit entry or neither, one
// partner per verifier domain, revoked API keys. A
// backend's test file instantiates AuditSuite with its own factory; include this header in exactly
// one translation unit per test executable.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/audit.hpp"
#include "core/audit_chain.hpp"
#include "core/model.hpp"
#include "core/ports.hpp"
#include "core/usage.hpp"
#include "outbox_suite.hpp"
#include "store_suite.hpp"

namespace pg::store::test {

/// One connection to a test's storage, seen through its ports (one object in both backends).
struct AuditConnection {
  std::shared_ptr<core::Store> store;
  std::shared_ptr<core::AuditStore> audit;
  std::shared_ptr<core::AdminStore> admin;
};

/// Storage a test owns, and raw access to what the ports cannot write or read: proofs.user_id
/// (no port sets it yet; accounts will).
class AuditBackend {
 public:
  virtual ~AuditBackend() = default;
  /// Another connection to the same storage at every call.
  virtual AuditConnection open() = 0;
  virtual void set_proof_user(const std::string& proof_id, const std::string& user_id) = 0;
  /// The proof's user_id, nullopt when NULL.
  virtual std::optional<std::string> proof_user(const std::string& proof_id) = 0;
};

struct AuditBackendFactory {
  std::string name;                                     // test-name suffix: [A-Za-z0-9_]
  std::function<std::unique_ptr<AuditBackend>()> make;  // fresh, empty storage at every call
};

inline void PrintTo(const AuditBackendFactory& factory, std::ostream* out) {
  *out << factory.name;
}

/// For INSTANTIATE_TEST_SUITE_P: names each instance after its backend.
inline std::string audit_backend_name(const ::testing::TestParamInfo<AuditBackendFactory>& info) {
  return info.param.name;
}

inline core::AuditEntry audit_entry(const std::string& action, core::UnixMillis at,
                                    const std::string& details = R"({"n":1})") {
  core::AuditEntry entry;
  entry.actor_type = std::string(core::kActorAdminCli);
  entry.actor_id = "operator";
  entry.action = action;
  entry.details_json = details;
  entry.at = at;
  return entry;
}

inline std::vector<std::string> actions(const std::vector<core::AuditEntry>& entries) {
  std::vector<std::string> out;
  for (const core::AuditEntry& entry : entries) out.push_back(entry.action);
  return out;
}

/// The same JSON value (objects compare member by member, in any order).
inline bool same_json(const std::string& a, const std::string& b) {
  boost::system::error_code ec_a, ec_b;
  const boost::json::value va = boost::json::parse(a, ec_a);
  const boost::json::value vb = boost::json::parse(b, ec_b);
  return !ec_a && !ec_b && va == vb;
}

class AuditSuite : public ::testing::TestWithParam<AuditBackendFactory> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    connection_ = backend_->open();
  }
  void TearDown() override {
    connection_ = {};
    backend_.reset();
  }
  void reopen() {
    connection_ = {};
    connection_ = backend_->open();
  }
  core::Store& store() { return *connection_.store; }
  core::AuditStore& audit() { return *connection_.audit; }
  core::AdminStore& admin() { return *connection_.admin; }
  /// The outbox port of the same object (both backends fill every port with one object).
  core::OutboxStore& outbox() { return dynamic_cast<core::OutboxStore&>(*connection_.store); }
  /// Everything in the trail, oldest first.
  std::vector<core::AuditEntry> everything() { return audit().list_audit(0, kNow * 10, 10'000); }

  std::unique_ptr<AuditBackend> backend_;
  AuditConnection connection_;
};

// --- record and list ---

TEST_P(AuditSuite, lists_entries_in_a_half_open_time_range_oldest_first_up_to_the_limit) {
  for (const int offset : {10, 20, 30, 40, 50}) {
    audit().record_audit(audit_entry("at." + std::to_string(offset), kNow + offset));
  }
  EXPECT_EQ(actions(audit().list_audit(kNow + 10, kNow + 40, 100)),
            (std::vector<std::string>{"at.10", "at.20", "at.30"}));
  EXPECT_EQ(actions(audit().list_audit(kNow + 10, kNow + 40, 2)),
            (std::vector<std::string>{"at.10", "at.20"}));
  EXPECT_TRUE(audit().list_audit(kNow + 51, kNow + 100, 100).empty());
  EXPECT_TRUE(audit().list_audit(kNow + 30, kNow + 30, 100).empty());
  EXPECT_EQ(everything().size(), 5u);
}

TEST_P(AuditSuite, lists_the_latest_entries_newest_first_with_their_chain) {
  EXPECT_TRUE(audit().latest_audit(5).empty());
  for (const int offset : {10, 20, 30, 40}) {
    audit().record_audit(audit_entry("at." + std::to_string(offset), kNow + offset));
  }
  const auto latest = audit().latest_audit(3);
  EXPECT_EQ(actions(latest), (std::vector<std::string>{"at.40", "at.30", "at.20"}));
  ASSERT_EQ(latest.size(), 3u);
  EXPECT_EQ(latest[0].seq, 4);
  EXPECT_EQ(latest[0].prev_hash, latest[1].hash);
  EXPECT_EQ(latest[1].prev_hash, latest[2].hash);
  EXPECT_EQ(audit().latest_audit(100).size(), 4u);
}

TEST_P(AuditSuite, entries_of_one_millisecond_keep_the_order_they_were_recorded_in) {
  for (int n = 0; n < 5; ++n) audit().record_audit(audit_entry("same." + std::to_string(n), kNow));
  const auto entries = everything();
  EXPECT_EQ(actions(entries),
            (std::vector<std::string>{"same.0", "same.1", "same.2", "same.3", "same.4"}));
  for (std::size_t i = 1; i < entries.size(); ++i) EXPECT_GT(entries[i].id, entries[i - 1].id);
}

TEST_P(AuditSuite, an_entry_reads_back_with_every_field_and_survives_a_reopen) {
  core::AuditEntry entry = audit_entry("client.created", kNow, "");
  entry.actor_type = std::string(core::kActorAdminApi);
  entry.actor_id = "";  // unknown actor
  entry.details_json = R"({"client_id":"c-1","scopes":["age_over_18"],"webhook_host":"h.example"})";
  entry.id = 999'999;  // ignored: the store numbers entries
  audit().record_audit(entry);
  reopen();
  const auto entries = everything();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].id, 999'999);
  EXPECT_EQ(entries[0].actor_type, "admin_api");
  EXPECT_EQ(entries[0].actor_id, "");
  EXPECT_EQ(entries[0].action, "client.created");
  EXPECT_EQ(entries[0].at, kNow);
  EXPECT_TRUE(same_json(entries[0].details_json, entry.details_json)) << entries[0].details_json;
}

TEST_P(AuditSuite, details_hold_exactly_what_the_caller_put_and_empty_details_are_an_empty_object) {
  const std::string details =
      R"({"b":2,"a":"ünïcode \"quoted\" \\ back","nested":{"list":[1,"two",null,true]}})";
  audit().record_audit(audit_entry("with.details", kNow, details));
  audit().record_audit(audit_entry("without.details", kNow + 1, ""));
  const auto entries = everything();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(same_json(entries[0].details_json, details)) << entries[0].details_json;
  const boost::json::object read = boost::json::parse(entries[0].details_json).as_object();
  EXPECT_EQ(read.size(), 3u);  // no member added (no ip, no actor, no id)
  EXPECT_EQ(entries[1].details_json, "{}");
}

TEST_P(AuditSuite, refuses_an_entry_without_action_or_actor_or_with_details_that_are_no_object) {
  for (const std::string bad : {"[1,2]", "\"text\"", "not json", "{", "null", "{} {}"}) {
    EXPECT_THROW(audit().record_audit(audit_entry("bad.details", kNow, bad)), core::StoreError)
        << bad;
  }
  EXPECT_THROW(audit().record_audit(audit_entry("", kNow)), core::StoreError);
  core::AuditEntry no_actor = audit_entry("no.actor", kNow);
  no_actor.actor_type.clear();
  EXPECT_THROW(audit().record_audit(no_actor), core::StoreError);
  EXPECT_TRUE(everything().empty());
}

// --- retention: archive, then delete ---

TEST_P(AuditSuite, take_audit_before_archives_oldest_first_in_batches_and_deletes_exactly_those) {
  // Seven entries before the cutoff; two at or after it.
  for (const int offset : {1, 2, 3, 4, 5, 6, 7}) {
    audit().record_audit(audit_entry("old." + std::to_string(offset), kNow + offset));
  }
  audit().record_audit(audit_entry("new.at_cutoff", kNow + 100));
  audit().record_audit(audit_entry("new.after", kNow + 101));

  std::vector<std::size_t> batch_sizes;
  std::vector<core::AuditEntry> archived;
  const std::size_t taken =
      audit().take_audit_before(kNow + 100, 3, [&](const std::vector<core::AuditEntry>& rows) {
        batch_sizes.push_back(rows.size());
        archived.insert(archived.end(), rows.begin(), rows.end());
      });
  EXPECT_EQ(taken, 7u);
  EXPECT_EQ(batch_sizes, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(actions(archived), (std::vector<std::string>{"old.1", "old.2", "old.3", "old.4",
                                                         "old.5", "old.6", "old.7"}));
  for (const core::AuditEntry& row : archived) {
    EXPECT_EQ(row.actor_type, "admin_cli");
    EXPECT_EQ(row.actor_id, "operator");
    EXPECT_TRUE(same_json(row.details_json, R"({"n":1})")) << row.details_json;
  }
  EXPECT_EQ(actions(everything()), (std::vector<std::string>{"new.at_cutoff", "new.after"}));

  // Nothing is left before the cutoff: no batch, no call.
  int calls = 0;
  EXPECT_EQ(audit().take_audit_before(kNow + 100, 3, [&](const auto&) { ++calls; }), 0u);
  EXPECT_EQ(calls, 0);
}

TEST_P(AuditSuite, a_batch_exactly_the_size_of_what_is_old_ends_with_an_empty_read) {
  for (int n = 0; n < 4; ++n) audit().record_audit(audit_entry("old", kNow + n));
  std::vector<std::size_t> batch_sizes;
  EXPECT_EQ(audit().take_audit_before(
                kNow + 10, 2, [&](const auto& rows) { batch_sizes.push_back(rows.size()); }),
            4u);
  EXPECT_EQ(batch_sizes, (std::vector<std::size_t>{2, 2}));
  EXPECT_TRUE(everything().empty());
}

TEST_P(AuditSuite, an_archive_that_throws_deletes_nothing_of_its_batch) {
  for (int n = 0; n < 5; ++n)
    audit().record_audit(audit_entry("old." + std::to_string(n), kNow + n));
  EXPECT_THROW(audit().take_audit_before(
                   kNow + 10, 10,
                   [](const auto&) -> void { throw std::runtime_error("archive disk full"); }),
               std::runtime_error);
  EXPECT_EQ(everything().size(), 5u);

  // A failure in a later batch keeps the batches archived before it removed, and its own rows.
  int calls = 0;
  EXPECT_THROW(audit().take_audit_before(kNow + 10, 2,
                                         [&](const auto&) {
                                           if (++calls == 2) throw std::runtime_error("fsync");
                                         }),
               std::runtime_error);
  EXPECT_EQ(actions(everything()), (std::vector<std::string>{"old.2", "old.3", "old.4"}));
}

TEST_P(AuditSuite, rows_archived_by_a_run_that_failed_before_deleting_are_archived_again) {
  // At-least-once: an archive that wrote the rows and then failed (or a crash before the commit)
  // leaves them in the store, so the next run archives them again.
  for (int n = 0; n < 3; ++n)
    audit().record_audit(audit_entry("old." + std::to_string(n), kNow + n));
  std::vector<std::string> written;
  EXPECT_THROW(audit().take_audit_before(kNow + 10, 10,
                                         [&](const std::vector<core::AuditEntry>& rows) {
                                           for (const auto& row : rows)
                                             written.push_back(row.action);
                                           throw std::runtime_error("crash after writing");
                                         }),
               std::runtime_error);
  reopen();
  EXPECT_EQ(audit().take_audit_before(kNow + 10, 10,
                                      [&](const std::vector<core::AuditEntry>& rows) {
                                        for (const auto& row : rows) written.push_back(row.action);
                                      }),
            3u);
  EXPECT_EQ(written,
            (std::vector<std::string>{"old.0", "old.1", "old.2", "old.0", "old.1", "old.2"}));
  EXPECT_TRUE(everything().empty());
}

TEST_P(AuditSuite, take_audit_before_refuses_a_batch_of_zero) {
  audit().record_audit(audit_entry("old", kNow));
  EXPECT_THROW(audit().take_audit_before(kNow + 1, 0, [](const auto&) {}), core::StoreError);
  EXPECT_EQ(everything().size(), 1u);
}

// --- anonymisation ---

TEST_P(AuditSuite, anonymise_user_nulls_only_that_users_proofs_and_keeps_every_proof) {
  store().insert_client(sample_client(1));
  for (const char* id : {"proof-1", "proof-2", "proof-3", "proof-4"}) {
    ASSERT_EQ(store().record_proof(sample_proof(id, "client-1", std::string("nonce-") + id),
                                   nullptr, nullptr),
              core::RecordOutcome::kStored);
  }
  backend_->set_proof_user("proof-1", "user-a");
  backend_->set_proof_user("proof-2", "user-a");
  backend_->set_proof_user("proof-3", "user-b");
  // proof-4 has no user.

  EXPECT_EQ(audit().anonymise_user("user-a"), 2u);
  EXPECT_EQ(backend_->proof_user("proof-1"), std::nullopt);
  EXPECT_EQ(backend_->proof_user("proof-2"), std::nullopt);
  EXPECT_EQ(backend_->proof_user("proof-3"), std::optional<std::string>("user-b"));
  EXPECT_EQ(backend_->proof_user("proof-4"), std::nullopt);
  for (const char* id : {"proof-1", "proof-2", "proof-3", "proof-4"}) {
    const auto proof = store().find_proof(id);
    ASSERT_TRUE(proof.has_value()) << id;
    EXPECT_EQ(proof->status, "verified");
    EXPECT_EQ(proof->public_hash, std::string(64, 'a'));
  }
  EXPECT_TRUE(store().nonce_answered("client-1", "nonce-proof-1"));  // still a replay

  EXPECT_EQ(audit().anonymise_user("user-a"), 0u);  // again: nothing left to change
  EXPECT_EQ(audit().anonymise_user("no-such-user"), 0u);
  EXPECT_EQ(audit().anonymise_user(""), 0u);  // never "every proof without a user"
  EXPECT_EQ(backend_->proof_user("proof-3"), std::optional<std::string>("user-b"));
}

// --- core::AdminStore: a change and its audit entry together or not at all ---

/// An entry record_audit refuses (details not a JSON object): written after the change, inside its
/// transaction, it must take the change down with it.
inline core::AuditEntry refused_entry() {
  return audit_entry("refused", kNow, "[1,2]");
}

TEST_P(AuditSuite, create_client_writes_the_partner_and_its_audit_entry_together) {
  const core::Client client = sample_client(1);
  EXPECT_EQ(admin().create_client(client, audit_entry("client.created", kNow)), std::nullopt);
  const auto found = store().find_client_by_prefix(client.key_prefix);
  ASSERT_TRUE(found.has_value());
  expect_same_client(*found, client);
  EXPECT_EQ(actions(everything()), std::vector<std::string>{"client.created"});
}

TEST_P(AuditSuite, a_refused_audit_entry_rolls_every_admin_change_back) {
  store().insert_client(sample_client(2));  // with a webhook
  outbox().enqueue_event(bare_event("event-dead", "client-2"), kNow);
  ASSERT_EQ(outbox().claim_due("worker", kNow, 10, kLeaseMs, kNoCap).size(), 1u);
  ASSERT_TRUE(outbox().finish_attempt("worker", dead_outcome("event-dead", 1, kNow, "refused")));

  EXPECT_THROW(admin().create_client(sample_client(3), refused_entry()), core::StoreError);
  EXPECT_EQ(store().find_client_by_prefix(sample_client(3).key_prefix), std::nullopt);
  // Its domains were not claimed either: another partner may take them.
  core::Client other = sample_client(4);
  other.domains = sample_client(3).domains;
  EXPECT_EQ(admin().create_client(other, audit_entry("client.created", kNow)), std::nullopt);

  EXPECT_THROW(admin().revoke_key("client-2", kNow, refused_entry()), core::StoreError);
  EXPECT_TRUE(store().find_client_by_prefix(sample_client(2).key_prefix).has_value());

  EXPECT_THROW(admin().publish_root(1, "123", kNow, refused_entry()), core::StoreError);
  EXPECT_TRUE(store().recent_roots(1, 0).empty());

  EXPECT_THROW(admin().set_circuit_enabled("age_over_18", "1.0.0", false, kNow, refused_entry()),
               core::StoreError);
  EXPECT_EQ(store().circuit_enabled("age_over_18", "1.0.0"), std::nullopt);

  const auto before = outbox().webhook_target("client-2");
  EXPECT_THROW(admin().rotate_webhook_secret("client-2", "new-secret", kNow + 1000,
                                             "https://hooks.example/new", refused_entry()),
               core::StoreError);
  const auto after = outbox().webhook_target("client-2");
  ASSERT_TRUE(before.has_value() && after.has_value());
  EXPECT_EQ(after->secret_sealed, before->secret_sealed);
  EXPECT_EQ(after->url, before->url);

  EXPECT_THROW(admin().replay("event-dead", kNow + 1, refused_entry()), core::StoreError);
  EXPECT_EQ(outbox().find_delivery("event-dead")->status, core::kDeliveryDead);

  EXPECT_THROW(admin().enqueue_event(bare_event("event-test", "client-2"), kNow, refused_entry()),
               core::StoreError);
  EXPECT_EQ(outbox().find_delivery("event-test"), std::nullopt);

  ASSERT_EQ(store().record_proof(sample_proof("proof-1", "client-2", "nonce-1"), nullptr, nullptr),
            core::RecordOutcome::kStored);
  backend_->set_proof_user("proof-1", "user-a");
  EXPECT_THROW(admin().anonymise_user("user-a", [](std::size_t) { return refused_entry(); }),
               core::StoreError);
  EXPECT_EQ(backend_->proof_user("proof-1"), std::optional<std::string>("user-a"));

  // Only the one partner created with a good entry left a trace.
  EXPECT_EQ(actions(everything()), std::vector<std::string>{"client.created"});

  audit().record_audit(audit_entry("old", kNow));
  EXPECT_THROW(
      admin().archive_audit_before(kNow + 1, 10, [](const auto&) { return refused_entry(); }),
      core::StoreError);
  EXPECT_EQ(actions(everything()), (std::vector<std::string>{"client.created", "old"}));
}

TEST_P(AuditSuite, admin_changes_are_written_with_their_audit_entries) {
  store().insert_client(sample_client(2));
  outbox().enqueue_event(bare_event("event-dead", "client-2"), kNow);
  ASSERT_EQ(outbox().claim_due("worker", kNow, 10, kLeaseMs, kNoCap).size(), 1u);
  ASSERT_TRUE(outbox().finish_attempt("worker", dead_outcome("event-dead", 1, kNow, "refused")));
  ASSERT_EQ(store().record_proof(sample_proof("proof-1", "client-2", "nonce-1"), nullptr, nullptr),
            core::RecordOutcome::kStored);
  backend_->set_proof_user("proof-1", "user-a");

  admin().publish_root(1, "123", kNow, audit_entry("root.published", kNow));
  admin().publish_root(1, "123", kNow + 1, audit_entry("root.published", kNow + 1));  // current
  ASSERT_EQ(store().recent_roots(1, 0).size(), 1u);
  EXPECT_EQ(store().recent_roots(1, 0)[0].published_at, kNow);
  admin().set_circuit_enabled("age_over_18", "1.0.0", false, kNow + 2,
                              audit_entry("circuit.enabled_set", kNow + 2));
  EXPECT_EQ(store().circuit_enabled("age_over_18", "1.0.0"), std::optional<bool>(false));
  EXPECT_TRUE(admin().rotate_webhook_secret("client-2", "new-secret", kNow + 1000, "",
                                            audit_entry("webhook_secret.rotated", kNow + 3)));
  EXPECT_EQ(outbox().webhook_target("client-2")->secret_sealed, "new-secret");
  EXPECT_FALSE(admin().rotate_webhook_secret("client-9", "x", kNow, "", audit_entry("no", kNow)));
  EXPECT_TRUE(admin().replay("event-dead", kNow + 4, audit_entry("delivery.replayed", kNow + 4)));
  EXPECT_EQ(outbox().find_delivery("event-dead")->status, core::kDeliveryPending);
  EXPECT_FALSE(admin().replay("event-dead", kNow + 4, audit_entry("no", kNow + 4)));  // pending
  admin().enqueue_event(bare_event("event-test", "client-2"), kNow + 5,
                        audit_entry("webhook.test_sent", kNow + 5));
  EXPECT_TRUE(outbox().find_delivery("event-test").has_value());
  EXPECT_EQ(admin().anonymise_user("user-a",
                                   [](std::size_t changed) {
                                     EXPECT_EQ(changed, 1u);
                                     return audit_entry("user.anonymised", kNow + 6);
                                   }),
            1u);
  EXPECT_EQ(backend_->proof_user("proof-1"), std::nullopt);

  EXPECT_EQ(actions(everything()),
            (std::vector<std::string>{"root.published", "root.published", "circuit.enabled_set",
                                      "webhook_secret.rotated", "delivery.replayed",
                                      "webhook.test_sent", "user.anonymised"}));

  // Retention: each batch's deletion with the entry that records it (at now, after the cutoff).
  std::size_t batches = 0;
  EXPECT_EQ(admin().archive_audit_before(
                kNow + 5, 2,
                [&](const std::vector<core::AuditEntry>& rows) {
                  ++batches;
                  return audit_entry("retention.archived", kNow + 10,
                                     R"({"archived":)" + std::to_string(rows.size()) + "}");
                }),
            5u);
  EXPECT_EQ(batches, 3u);
  EXPECT_EQ(actions(everything()),
            (std::vector<std::string>{"webhook.test_sent", "user.anonymised", "retention.archived",
                                      "retention.archived", "retention.archived"}));
}

// --- one partner per verifier domain ---

TEST_P(AuditSuite, a_verifier_domain_belongs_to_one_partner) {
  core::Client first = sample_client(1);
  first.domains = {"bank.example", "shared.example"};
  ASSERT_EQ(admin().create_client(first, audit_entry("client.created", kNow)), std::nullopt);

  core::Client second = sample_client(2);
  second.domains = {"other.example", "shared.example"};
  EXPECT_EQ(admin().create_client(second, audit_entry("client.created", kNow)),
            std::optional<std::string>("shared.example"));
  EXPECT_EQ(store().find_client_by_prefix(second.key_prefix), std::nullopt);
  EXPECT_THROW(store().insert_client(second), core::StoreError);  // the unaudited path too
  EXPECT_EQ(store().list_clients().size(), 1u);
  EXPECT_EQ(actions(everything()), std::vector<std::string>{"client.created"});

  // Nothing of the refused partner stayed: its other domain is free.
  core::Client third = sample_client(3);
  third.domains = {"other.example"};
  EXPECT_EQ(admin().create_client(third, audit_entry("client.created", kNow)), std::nullopt);
  // The unique constraint holds across connections (another process, another instance).
  reopen();
  core::Client fourth = sample_client(4);
  fourth.domains = {"bank.example"};
  EXPECT_EQ(admin().create_client(fourth, audit_entry("client.created", kNow)),
            std::optional<std::string>("bank.example"));
}

// --- revoking an API key ---

// --- test and live modes: a partner's test twin ---

TEST_P(AuditSuite, a_partner_and_its_test_twin_are_made_together_and_follow_each_other) {
  const core::Client live = sample_client(1);
  core::Client twin = sample_client(2);
  twin.domains = live.domains;  // the twin binds to its partner's domains and claims none
  twin.mode = core::Mode::kTest;
  twin.live_client_id = live.id;
  ASSERT_EQ(admin().create_client(live, &twin, audit_entry("client.created", kNow)), std::nullopt);
  EXPECT_EQ(actions(everything()), std::vector<std::string>{"client.created"});
  const auto found = store().find_client_by_prefix(twin.key_prefix);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->mode, core::Mode::kTest);
  EXPECT_EQ(found->live_client_id, live.id);
  EXPECT_EQ(found->domains, live.domains);
  const auto partner = store().find_client(live.id);
  ASSERT_TRUE(partner.has_value());
  EXPECT_EQ(partner->mode, core::Mode::kLive);
  EXPECT_EQ(partner->live_client_id, "");
  // A standalone test client takes the same domains: a test client claims none.
  core::Client sandbox = sample_client(3);
  sandbox.domains = live.domains;
  sandbox.mode = core::Mode::kTest;
  EXPECT_EQ(admin().create_client(sandbox, audit_entry("client.created", kNow)), std::nullopt);
  // A live client still cannot.
  core::Client thief = sample_client(4);
  thief.domains = {live.domains.front()};
  EXPECT_EQ(admin().create_client(thief, audit_entry("client.created", kNow)),
            std::optional<std::string>(live.domains.front()));

  // Scopes and domains of the partner carry over to its twin.
  core::Client changed = *partner;
  changed.scopes = {"citizenship"};
  changed.domains = {"renamed1.example"};
  ASSERT_EQ(admin().update_client(changed, audit_entry("client.updated", kNow)), std::nullopt);
  EXPECT_EQ(store().find_client(twin.id)->scopes, changed.scopes);
  EXPECT_EQ(store().find_client(twin.id)->domains, changed.domains);
  EXPECT_EQ(store().find_client(sandbox.id)->domains, live.domains);  // not its twin

  // Suspending the partner suspends its twin; resuming resumes both.
  ASSERT_EQ(admin().set_client_suspended(live.id, kNow + 1, audit_entry("client.suspended", kNow)),
            core::ClientChange::kChanged);
  EXPECT_EQ(store().find_client_by_prefix(twin.key_prefix)->suspended_at, kNow + 1);
  EXPECT_EQ(store().find_client(sandbox.id)->suspended_at, 0);
  ASSERT_EQ(admin().set_client_suspended(live.id, 0, audit_entry("client.resumed", kNow)),
            core::ClientChange::kChanged);
  EXPECT_EQ(store().find_client_by_prefix(twin.key_prefix)->suspended_at, 0);
  // Revoking the partner's keys revokes the twin's.
  ASSERT_EQ(admin().revoke_key(live.id, kNow + 2, audit_entry("client.key_revoked", kNow)),
            core::RevokeOutcome::kRevoked);
  EXPECT_EQ(store().find_client_by_prefix(twin.key_prefix), std::nullopt);
  EXPECT_TRUE(store().find_client_by_prefix(sandbox.key_prefix).has_value());
  reopen();
  const auto after = store().find_client(twin.id);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->mode, core::Mode::kTest);
  EXPECT_EQ(after->revoked_at, kNow + 2);
}

TEST_P(AuditSuite, a_revoked_key_finds_no_partner_from_the_next_lookup_on) {
  const core::Client client = sample_client(1);
  store().insert_client(client);
  ASSERT_TRUE(store().find_client_by_prefix(client.key_prefix).has_value());

  EXPECT_EQ(admin().revoke_key(client.id, kNow + 7, audit_entry("client.key_revoked", kNow)),
            core::RevokeOutcome::kRevoked);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix), std::nullopt);
  reopen();  // another connection sees it at once too
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix), std::nullopt);
  const auto listed = store().list_clients();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].revoked_at, kNow + 7);

  EXPECT_EQ(admin().revoke_key(client.id, kNow + 8, audit_entry("again", kNow)),
            core::RevokeOutcome::kAlreadyRevoked);
  EXPECT_EQ(admin().revoke_key("client-9", kNow, audit_entry("unknown", kNow)),
            core::RevokeOutcome::kUnknownClient);
  EXPECT_EQ(store().list_clients()[0].revoked_at, kNow + 7);
  EXPECT_EQ(actions(everything()), std::vector<std::string>{"client.key_revoked"});
}

// --- the hash chain (core/audit_chain.hpp) ---

/// The entries as export lines, checked as `proofgate admin audit verify` checks a file.
inline core::AuditChainCheck check_chain(const std::vector<core::AuditEntry>& entries,
                                         std::optional<std::string_view> anchor = std::nullopt) {
  std::vector<std::string> lines;
  for (const core::AuditEntry& e : entries) lines.push_back(core::audit_export_line(e));
  return core::check_audit_export(lines, anchor, std::nullopt);
}

TEST_P(AuditSuite, every_entry_is_chained_from_the_genesis_hash_with_contiguous_seq) {
  audit().record_audit(audit_entry("first", kNow, R"({"b":[2,{"z":1,"y":2}],"a":"x"})"));
  ASSERT_EQ(admin().create_client(sample_client(1), audit_entry("client.created", kNow + 1)),
            std::nullopt);
  audit().record_audit(audit_entry("third", kNow + 2, ""));
  reopen();
  const auto entries = everything();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].prev_hash, core::kAuditGenesisHash);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const core::AuditEntry& e = entries[i];
    EXPECT_EQ(e.seq, static_cast<std::int64_t>(i + 1));
    if (i > 0) {
      EXPECT_EQ(e.prev_hash, entries[i - 1].hash);
    }
    // The hash covers the canonical details, whatever order the caller wrote them in.
    EXPECT_EQ(e.hash, core::audit_entry_hash(e.seq, e.prev_hash, e.actor_type, e.actor_id, e.action,
                                             *core::canonical_details(e.details_json), e.at));
  }
  EXPECT_EQ(entries[0].details_json, R"({"a":"x","b":[2,{"y":2,"z":1}]})");
  const core::AuditChainCheck check = check_chain(entries);
  EXPECT_EQ(check.verdict, core::AuditChainCheck::Verdict::kIntact) << check.reason;
  EXPECT_EQ(check.head, entries.back().hash);
}

TEST_P(AuditSuite, an_entry_dated_before_its_predecessor_takes_the_predecessors_time) {
  audit().record_audit(audit_entry("later", kNow + 50));
  audit().record_audit(audit_entry("clock.behind", kNow + 10));
  const auto entries = everything();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].action, "clock.behind");
  EXPECT_EQ(entries[1].at, kNow + 50);  // times never go back along the chain
}

TEST_P(AuditSuite, retention_keeps_the_chain_going_and_archives_plus_live_rows_verify_as_one) {
  for (int n = 0; n < 5; ++n) audit().record_audit(audit_entry("old", kNow + n));
  std::vector<core::AuditEntry> archived;
  ASSERT_EQ(admin().archive_audit_before(kNow + 3, 2,
                                         [&](const std::vector<core::AuditEntry>& rows) {
                                           archived.insert(archived.end(), rows.begin(),
                                                           rows.end());
                                           return audit_entry("retention.archived", kNow + 10);
                                         }),
            3u);
  ASSERT_EQ(archived.size(), 3u);
  for (std::size_t i = 0; i < archived.size(); ++i) {
    EXPECT_EQ(archived[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(archived[i].hash.size(), 64u);
  }
  // Remove everything left, then write again: the chain still continues from its head.
  audit().take_audit_before(kNow + 1000, 100, [&](const std::vector<core::AuditEntry>& rows) {
    archived.insert(archived.end(), rows.begin(), rows.end());
  });
  EXPECT_TRUE(everything().empty());
  reopen();
  audit().record_audit(audit_entry("after.retention", kNow + 20));
  const auto live = everything();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].seq, static_cast<std::int64_t>(archived.size() + 1));
  EXPECT_EQ(live[0].prev_hash, archived.back().hash);
  // Live alone verifies when anchored on the last archived hash; archives + live as one chain.
  EXPECT_EQ(check_chain(live, archived.back().hash).verdict,
            core::AuditChainCheck::Verdict::kIntact);
  std::vector<core::AuditEntry> all = archived;
  all.insert(all.end(), live.begin(), live.end());
  const core::AuditChainCheck check = check_chain(all);
  EXPECT_EQ(check.verdict, core::AuditChainCheck::Verdict::kIntact) << check.reason;
  EXPECT_EQ(check.entries, all.size());
}

TEST_P(AuditSuite, concurrent_writers_on_several_connections_keep_the_chain_linear) {
  constexpr int kWriters = 4, kEach = 25;
  std::vector<AuditConnection> connections;
  for (int w = 0; w < kWriters; ++w) connections.push_back(backend_->open());
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; n < kEach; ++n) {
        connections[w].audit->record_audit(audit_entry("writer." + std::to_string(w), kNow + n,
                                                       R"({"n":)" + std::to_string(n) + "}"));
      }
    });
  }
  for (std::thread& t : writers) t.join();
  const auto entries = everything();
  ASSERT_EQ(entries.size(), static_cast<std::size_t>(kWriters * kEach));
  const core::AuditChainCheck check = check_chain(entries);
  EXPECT_EQ(check.verdict, core::AuditChainCheck::Verdict::kIntact)
      << "line " << check.line << ": " << check.reason;
  EXPECT_EQ(check.first_seq, 1);
  EXPECT_EQ(check.last_seq, kWriters * kEach);
}

// --- the usage report (core::UsageStore) ---

TEST_P(AuditSuite, usage_counts_proofs_per_day_claim_type_partner_and_outcome_with_percentiles) {
  store().insert_client(sample_client(2));
  store().insert_client(sample_client(3));
  // client-2's test twin: its proofs are never counted in usage (not in counts, not latencies).
  core::Client twin = sample_client(4);
  twin.mode = core::Mode::kTest;
  twin.live_client_id = "client-2";
  store().insert_client(twin);
  auto& usage = dynamic_cast<core::UsageStore&>(*connection_.store);
  const core::UnixMillis day = kNow / core::kDayMs * core::kDayMs;
  int n = 0;
  const auto proof = [&](const std::string& client, const std::string& claim,
                         const std::string& error, std::int64_t latency, core::UnixMillis at) {
    core::ProofRecord p =
        sample_proof("proof-" + std::to_string(n), client, "nonce-" + std::to_string(n));
    ++n;
    p.claim_type = claim;
    p.status = error.empty() ? "verified" : "failed";
    p.error_code = error;
    p.verified_at = error.empty() ? at : 0;
    p.latency_ms = latency;
    p.created_at = at;
    ASSERT_EQ(store().record_proof(p, nullptr, nullptr), core::RecordOutcome::kStored);
  };
  for (int ms = 1; ms <= 6; ++ms) proof("client-2", "income_gte", "", ms, kNow + ms);
  proof("client-2", "income_gte", "INVALID_PROOF", 10, kNow);
  proof("client-2", "income_gte", "INVALID_PROOF", 20, kNow);
  proof("client-2", "income_gte", "STALE_ROOT", 30, kNow);
  proof("client-3", "income_gte", "", 2, kNow);
  proof("client-2", "age_over_18", "", 4, kNow);
  proof("client-2", "income_gte", "", -1, kNow + core::kDayMs);  // latency unknown
  proof("client-2", "income_gte", "", 7, day - 1);               // before the range
  // The twin's (test mode): none of them counted.
  for (int i = 0; i < 3; ++i) proof("client-4", "income_gte", "", 1000, kNow);
  proof("client-4", "income_gte", "INVALID_PROOF", 1000, kNow);

  const core::UsageQuery all{day, day + 2 * core::kDayMs, core::kDayMs, "", ""};
  const core::UsageData data = usage.usage(all);
  std::vector<std::string> counts;
  for (const auto& c : data.counts) {
    counts.push_back(std::to_string((c.bucket - day) / core::kDayMs) + " " + c.claim_type + " " +
                     c.verifier_id + " " + c.status + " " + c.error_code + " " +
                     std::to_string(c.count));
  }
  EXPECT_EQ(counts, (std::vector<std::string>{
                        "0 age_over_18 client-2 verified  1",
                        "0 income_gte client-2 failed INVALID_PROOF 2",
                        "0 income_gte client-2 failed STALE_ROOT 1",
                        "0 income_gte client-2 verified  6",
                        "0 income_gte client-3 verified  1",
                        "1 income_gte client-2 verified  1",
                    }));
  // Nearest rank over 1..6, 10, 20, 30: p50 = the 5th (5), p95 = the 9th (30).
  ASSERT_EQ(data.latencies.size(), 3u);  // the day-1 row has no known latency
  EXPECT_EQ(data.latencies[1].verifier_id, "client-2");
  EXPECT_EQ(data.latencies[1].claim_type, "income_gte");
  EXPECT_EQ(data.latencies[1].n, 9);
  EXPECT_EQ(data.latencies[1].p50_ms, 5);
  EXPECT_EQ(data.latencies[1].p95_ms, 30);

  // Filters and hourly buckets.
  const core::UsageData only =
      usage.usage({day, day + core::kDayMs, core::kHourMs, "income_gte", "client-3"});
  ASSERT_EQ(only.counts.size(), 1u);
  EXPECT_EQ(only.counts[0].bucket, kNow / core::kHourMs * core::kHourMs);
  EXPECT_EQ(only.counts[0].verifier_id, "client-3");

  // The report: counts below k = 5 are suppressed, so are percentiles over fewer than k proofs.
  const core::UsageReport report = core::usage_report(all, data, 5);
  ASSERT_EQ(report.buckets.size(), 4u);
  const core::UsageBucket& main = report.buckets[1];
  EXPECT_EQ(main.claim_type, "income_gte");
  EXPECT_EQ(main.verifier_id, "client-2");
  EXPECT_EQ(main.verified, core::ReportedCount(6));
  EXPECT_EQ(main.failed.at("INVALID_PROOF"), std::nullopt);
  EXPECT_EQ(main.failed.at("STALE_ROOT"), std::nullopt);
  EXPECT_EQ(main.p50_ms, std::optional<std::int64_t>(5));
  EXPECT_EQ(report.buckets[2].verified, std::nullopt);  // client-3's one proof
  EXPECT_EQ(report.buckets[2].p50_ms, std::nullopt);
}

}  // namespace pg::store::test

#include "citizen_suite.hpp"   // IWYU pragma: keep
#include "oauth_suite.hpp"     // IWYU pragma: keep
#include "partners_suite.hpp"  // IWYU pragma: keep
