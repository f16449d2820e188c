// What every core::AuditStore must do, as one value-parameterised GoogleTest suite over backend
// factories (the shape of store_suite.hpp): the audit trail by time range, retention's archive-
// then-delete in batches (and nothing deleted when archiving fails), account anonymisation. A
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
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"
#include "core/ports.hpp"
#include "store_suite.hpp"

namespace pg::store::test {

/// One connection to a test's storage, seen through both ports (one object in both backends).
struct AuditConnection {
  std::shared_ptr<core::Store> store;
  std::shared_ptr<core::AuditStore> audit;
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
  /// Everything in the trail, oldest first.
  std::vector<core::AuditEntry> everything() { return audit().list_audit(0, kNow * 10, 10'000); }

  std::unique_ptr<AuditBackend> backend_;
  AuditConnection connection_;
};

// --- record and list ---

TEST_P(AuditSuite, lists_entries_in_a_half_open_time_range_oldest_first_up_to_the_limit) {
  for (const int offset : {30, 10, 40, 20, 50}) {
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
  // Seven entries before the cutoff, recorded out of order; two at or after it.
  for (const int offset : {5, 1, 7, 3, 2, 6, 4}) {
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

}  // namespace pg::store::test
