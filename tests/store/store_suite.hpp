// What every core::Store must do, as one value-parameterised GoogleTest suite over backend
// factories: a backend's test file instantiates StoreSuite with its own factory. It defines the
// tests, so include it in exactly one translation unit per test executable.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "core/model.hpp"
#include "core/ports.hpp"

namespace pg::store::test {

/// Storage a test owns. open() gives a store over it; opening again after the previous store is
/// gone reaches the same storage, as a restarted process would.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual std::unique_ptr<core::Store> open() = 0;
};

struct StoreBackendFactory {
  std::string name;                                     // test-name suffix: [A-Za-z0-9_]
  std::function<std::unique_ptr<StoreBackend>()> make;  // fresh, empty storage at every call
};

inline void PrintTo(const StoreBackendFactory& factory, std::ostream* out) {
  *out << factory.name;
}

/// For INSTANTIATE_TEST_SUITE_P: names each instance after its backend.
inline std::string backend_name(const ::testing::TestParamInfo<StoreBackendFactory>& info) {
  return info.param.name;
}

class StoreSuite : public ::testing::TestWithParam<StoreBackendFactory> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    store_ = backend_->open();
  }
  void TearDown() override {
    store_.reset();
    backend_.reset();
  }
  /// Closes the store and opens the same storage again.
  void reopen() {
    store_.reset();
    store_ = backend_->open();
  }
  core::Store& store() { return *store_; }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<core::Store> store_;
};

constexpr core::UnixMillis kNow = 1'790'000'000'000;  // 2026-09-21, in milliseconds

/// A partner numbered `n`: distinct id, prefix and key hash; a webhook on every second one.
inline core::Client sample_client(int n) {
  core::Client client;
  client.id = "client-" + std::to_string(n);
  client.name = "Partner " + std::to_string(n);
  client.key_prefix = "pfx" + std::to_string(10000 + n);
  for (std::size_t i = 0; i < client.key_hash.size(); ++i) {
    client.key_hash[i] = static_cast<std::uint8_t>(n * 31 + i);
  }
  client.scopes = {"age_over_18", "income_gte"};
  // A verifier domain belongs to one partner: every sample partner has its own.
  client.domains = {"bank" + std::to_string(n) + ".example",
                    "shop" + std::to_string(n) + ".example"};
  if (n % 2 == 0) {
    client.webhook_url = "https://hooks.example/" + std::to_string(n);
    client.webhook_secret_sealed = std::string("\x00\x01sealed\xff", 9);  // binary, with a NUL
  }
  client.created_at = kNow + n;
  return client;
}

inline core::ProofRequest sample_request(const std::string& client_id, const std::string& nonce) {
  core::ProofRequest request;
  request.id = "request-" + client_id + "-" + nonce;
  request.client_id = client_id;
  request.nonce = nonce;
  request.claim_type = "income_gte";
  request.circuit_version = "1.0.0";
  request.verifier_domain = "bank.example";
  // Not in alphabetical order, and a value above 2^63: both must survive the round trip.
  request.params = {
      {"today", 20260921}, {"threshold", 18'446'744'073'709'551'615ull}, {"fiscal_year", 2025}};
  request.created_at = kNow;
  request.expires_at = kNow + 300'000;
  return request;
}

inline core::ProofRecord sample_proof(const std::string& id, const std::string& client_id,
                                      const std::string& nonce) {
  core::ProofRecord proof;
  proof.id = id;
  proof.client_id = client_id;
  proof.claim_type = "income_gte";
  proof.circuit_version = "1.0.0";
  proof.status = "verified";
  proof.public_hash = std::string(64, 'a');
  proof.request_nonce = nonce;
  proof.created_at = kNow;
  proof.verified_at = kNow + 5;
  return proof;
}

inline core::OutboxEvent sample_event(const std::string& event_id, const core::ProofRecord& proof) {
  return core::OutboxEvent{event_id,
                           proof.client_id,
                           proof.id,
                           "proof.verified",
                           R"({"proof_id":")" + proof.id + R"("})",
                           proof.created_at};
}

inline core::IdempotencyRecord sample_idempotency(const std::string& client_id,
                                                  const std::string& key) {
  return core::IdempotencyRecord{
      client_id, key, std::string(64, 'b'), 200, R"({"status":"verified"})", kNow + 600'000};
}

inline void expect_same_client(const core::Client& got, const core::Client& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.key_prefix, want.key_prefix);
  EXPECT_EQ(got.key_hash, want.key_hash);
  EXPECT_EQ(got.scopes, want.scopes);
  EXPECT_EQ(got.domains, want.domains);
  EXPECT_EQ(got.webhook_url, want.webhook_url);
  EXPECT_EQ(got.webhook_secret_sealed, want.webhook_secret_sealed);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.last_used, want.last_used);
}

inline void expect_same_proof(const core::ProofRecord& got, const core::ProofRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.client_id, want.client_id);
  EXPECT_EQ(got.claim_type, want.claim_type);
  EXPECT_EQ(got.circuit_version, want.circuit_version);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.error_code, want.error_code);
  EXPECT_EQ(got.public_hash, want.public_hash);
  EXPECT_EQ(got.request_nonce, want.request_nonce);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.verified_at, want.verified_at);
}

// --- ping and partners ---

TEST_P(StoreSuite, ping_answers_true_on_an_open_store) {
  EXPECT_TRUE(store().ping());
}

TEST_P(StoreSuite, finds_a_client_by_prefix_with_every_field) {
  const core::Client with_webhook = sample_client(2);
  const core::Client without_webhook = sample_client(3);
  store().insert_client(with_webhook);
  store().insert_client(without_webhook);

  const auto found = store().find_client_by_prefix(with_webhook.key_prefix);
  ASSERT_TRUE(found.has_value());
  expect_same_client(*found, with_webhook);
  const auto plain = store().find_client_by_prefix(without_webhook.key_prefix);
  ASSERT_TRUE(plain.has_value());
  expect_same_client(*plain, without_webhook);
  EXPECT_TRUE(plain->webhook_url.empty());
  EXPECT_EQ(plain->last_used, 0);
}

TEST_P(StoreSuite, finds_no_client_for_an_unknown_prefix) {
  store().insert_client(sample_client(1));
  EXPECT_FALSE(store().find_client_by_prefix("pfx99999").has_value());
  EXPECT_FALSE(store().find_client_by_prefix("").has_value());
}

TEST_P(StoreSuite, refuses_a_second_client_with_the_same_key_prefix) {
  store().insert_client(sample_client(1));
  core::Client twin = sample_client(2);
  twin.key_prefix = sample_client(1).key_prefix;
  EXPECT_THROW(store().insert_client(twin), core::StoreError);
  EXPECT_EQ(store().list_clients().size(), 1u);
}

TEST_P(StoreSuite, lists_every_client) {
  EXPECT_TRUE(store().list_clients().empty());
  for (int n = 1; n <= 3; ++n) store().insert_client(sample_client(n));
  const std::vector<core::Client> clients = store().list_clients();
  ASSERT_EQ(clients.size(), 3u);
  std::vector<std::string> ids;
  for (const core::Client& client : clients) ids.push_back(client.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"client-1", "client-2", "client-3"}));
}

TEST_P(StoreSuite, touch_client_sets_last_used) {
  const core::Client client = sample_client(1);
  store().insert_client(client);
  store().touch_client(client.id, client.key_prefix, kNow + 1000);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix)->last_used, kNow + 1000);
  store().touch_client(client.id, client.key_prefix, kNow + 2000);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix)->last_used, kNow + 2000);
}

// --- proof requests ---

TEST_P(StoreSuite, finds_a_request_with_its_params_in_order) {
  store().insert_client(sample_client(1));
  const core::ProofRequest request = sample_request("client-1", "nonce-a");
  store().insert_request(request);

  const auto found = store().find_request("client-1", "nonce-a");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, request.id);
  EXPECT_EQ(found->client_id, request.client_id);
  EXPECT_EQ(found->nonce, request.nonce);
  EXPECT_EQ(found->claim_type, request.claim_type);
  EXPECT_EQ(found->circuit_version, request.circuit_version);
  EXPECT_EQ(found->verifier_domain, request.verifier_domain);
  EXPECT_EQ(found->params, request.params);
  EXPECT_EQ(found->created_at, request.created_at);
  EXPECT_EQ(found->expires_at, request.expires_at);
}

TEST_P(StoreSuite, finds_a_request_only_for_the_client_that_made_it) {
  store().insert_client(sample_client(1));
  store().insert_client(sample_client(2));
  store().insert_request(sample_request("client-1", "nonce-a"));
  EXPECT_FALSE(store().find_request("client-2", "nonce-a").has_value());
  EXPECT_FALSE(store().find_request("client-1", "nonce-b").has_value());
}

TEST_P(StoreSuite, refuses_a_second_request_with_the_same_client_and_nonce) {
  store().insert_client(sample_client(1));
  store().insert_request(sample_request("client-1", "nonce-a"));
  core::ProofRequest again = sample_request("client-1", "nonce-a");
  again.id = "another-request-id";
  EXPECT_THROW(store().insert_request(again), core::StoreError);
  EXPECT_EQ(store().find_request("client-1", "nonce-a")->id,
            sample_request("client-1", "nonce-a").id);
}

TEST_P(StoreSuite, accepts_the_same_nonce_from_another_client) {
  store().insert_client(sample_client(1));
  store().insert_client(sample_client(2));
  store().insert_request(sample_request("client-1", "nonce-a"));
  EXPECT_NO_THROW(store().insert_request(sample_request("client-2", "nonce-a")));
  EXPECT_TRUE(store().find_request("client-2", "nonce-a").has_value());
}

TEST_P(StoreSuite, refuses_a_request_of_an_unknown_client) {
  EXPECT_THROW(store().insert_request(sample_request("no-such-client", "nonce-a")),
               core::StoreError);
}

// --- proofs, outbox and idempotency ---

TEST_P(StoreSuite, record_proof_writes_the_proof_the_event_and_the_idempotency_record) {
  store().insert_client(sample_client(1));
  const core::ProofRecord proof = sample_proof("proof-1", "client-1", "nonce-a");
  const core::OutboxEvent event = sample_event("event-1", proof);
  const core::IdempotencyRecord idempotency = sample_idempotency("client-1", "idem-1");
  EXPECT_FALSE(store().nonce_answered("client-1", "nonce-a"));

  EXPECT_EQ(store().record_proof(proof, &event, &idempotency), core::RecordOutcome::kStored);

  const auto found = store().find_proof("proof-1");
  ASSERT_TRUE(found.has_value());
  expect_same_proof(*found, proof);
  EXPECT_TRUE(store().nonce_answered("client-1", "nonce-a"));
  EXPECT_FALSE(store().nonce_answered("client-1", "nonce-b"));

  const std::vector<core::OutboxEvent> events = store().pending_events(10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_id, event.event_id);
  EXPECT_EQ(events[0].client_id, event.client_id);
  EXPECT_EQ(events[0].proof_id, event.proof_id);
  EXPECT_EQ(events[0].event_type, event.event_type);
  EXPECT_EQ(events[0].payload, event.payload);
  EXPECT_EQ(events[0].created_at, event.created_at);

  const auto saved = store().find_idempotency("client-1", "idem-1", kNow);
  ASSERT_TRUE(saved.has_value());
  EXPECT_EQ(saved->body_hash, idempotency.body_hash);
  EXPECT_EQ(saved->status, idempotency.status);
  EXPECT_EQ(saved->response, idempotency.response);
  EXPECT_EQ(saved->expires_at, idempotency.expires_at);
}

TEST_P(StoreSuite, record_proof_without_event_or_idempotency_writes_only_the_proof) {
  store().insert_client(sample_client(1));
  core::ProofRecord failed = sample_proof("proof-1", "client-1", "nonce-a");
  failed.status = "failed";
  failed.error_code = "INVALID_PROOF";
  failed.verified_at = 0;
  EXPECT_EQ(store().record_proof(failed, nullptr, nullptr), core::RecordOutcome::kStored);
  const auto found = store().find_proof("proof-1");
  ASSERT_TRUE(found.has_value());
  expect_same_proof(*found, failed);
  EXPECT_TRUE(store().pending_events(10).empty());
}

TEST_P(StoreSuite, a_second_proof_for_the_same_nonce_is_nonce_taken_and_writes_nothing) {
  store().insert_client(sample_client(1));
  const core::ProofRecord first = sample_proof("proof-1", "client-1", "nonce-a");
  const core::OutboxEvent first_event = sample_event("event-1", first);
  ASSERT_EQ(store().record_proof(first, &first_event, nullptr), core::RecordOutcome::kStored);

  core::ProofRecord second = sample_proof("proof-2", "client-1", "nonce-a");
  second.status = "failed";
  second.error_code = "INVALID_PROOF";
  const core::OutboxEvent second_event = sample_event("event-2", second);
  const core::IdempotencyRecord idempotency = sample_idempotency("client-1", "idem-2");
  EXPECT_EQ(store().record_proof(second, &second_event, &idempotency),
            core::RecordOutcome::kNonceTaken);

  EXPECT_FALSE(store().find_proof("proof-2").has_value());
  EXPECT_EQ(store().pending_events(10).size(), 1u);
  EXPECT_FALSE(store().find_idempotency("client-1", "idem-2", kNow).has_value());
  expect_same_proof(*store().find_proof("proof-1"), first);
}

TEST_P(StoreSuite, a_failing_outbox_insert_rolls_back_the_proof_and_the_idempotency_record) {
  store().insert_client(sample_client(1));
  const core::ProofRecord first = sample_proof("proof-1", "client-1", "nonce-a");
  const core::OutboxEvent first_event = sample_event("event-1", first);
  ASSERT_EQ(store().record_proof(first, &first_event, nullptr), core::RecordOutcome::kStored);

  const core::ProofRecord second = sample_proof("proof-2", "client-1", "nonce-b");
  const core::OutboxEvent duplicate_event = sample_event("event-1", second);  // event_id taken
  const core::IdempotencyRecord idempotency = sample_idempotency("client-1", "idem-2");
  EXPECT_THROW(store().record_proof(second, &duplicate_event, &idempotency), core::StoreError);

  EXPECT_FALSE(store().find_proof("proof-2").has_value());
  EXPECT_FALSE(store().nonce_answered("client-1", "nonce-b"));
  EXPECT_FALSE(store().find_idempotency("client-1", "idem-2", kNow).has_value());
  EXPECT_EQ(store().pending_events(10).size(), 1u);
  // The nonce is still free: a retry with a fresh event id goes through.
  const core::OutboxEvent fresh_event = sample_event("event-2", second);
  EXPECT_EQ(store().record_proof(second, &fresh_event, &idempotency), core::RecordOutcome::kStored);
}

TEST_P(StoreSuite, finds_no_proof_for_an_unknown_id) {
  EXPECT_FALSE(store().find_proof("no-such-proof").has_value());
}

TEST_P(StoreSuite, pending_events_come_in_insertion_order_up_to_the_limit) {
  store().insert_client(sample_client(1));
  // Event ids in reverse alphabetical order: the order must be the insertion order.
  for (int i = 0; i < 5; ++i) {
    const core::ProofRecord proof =
        sample_proof("proof-" + std::to_string(i), "client-1", "nonce-" + std::to_string(i));
    const core::OutboxEvent event = sample_event("event-" + std::to_string(9 - i), proof);
    ASSERT_EQ(store().record_proof(proof, &event, nullptr), core::RecordOutcome::kStored);
  }
  const std::vector<core::OutboxEvent> first_three = store().pending_events(3);
  ASSERT_EQ(first_three.size(), 3u);
  EXPECT_EQ(first_three[0].event_id, "event-9");
  EXPECT_EQ(first_three[1].event_id, "event-8");
  EXPECT_EQ(first_three[2].event_id, "event-7");
  EXPECT_EQ(store().pending_events(100).size(), 5u);
  EXPECT_TRUE(store().pending_events(0).empty());
}

TEST_P(StoreSuite, an_idempotency_record_is_found_until_it_expires) {
  store().insert_client(sample_client(1));
  const core::IdempotencyRecord record = sample_idempotency("client-1", "idem-1");
  store().save_idempotency(record);
  EXPECT_TRUE(store().find_idempotency("client-1", "idem-1", kNow).has_value());
  EXPECT_TRUE(store().find_idempotency("client-1", "idem-1", record.expires_at).has_value());
  EXPECT_FALSE(store().find_idempotency("client-1", "idem-1", record.expires_at + 1).has_value());
  EXPECT_FALSE(store().find_idempotency("client-1", "idem-2", kNow).has_value());
}

TEST_P(StoreSuite, save_idempotency_replaces_the_record_of_the_same_key) {
  store().insert_client(sample_client(1));
  store().insert_client(sample_client(2));
  store().save_idempotency(sample_idempotency("client-1", "idem-1"));
  store().save_idempotency(sample_idempotency("client-2", "idem-1"));
  core::IdempotencyRecord replacement = sample_idempotency("client-1", "idem-1");
  replacement.status = 422;
  replacement.response = R"({"status":"rejected"})";
  replacement.expires_at = kNow + 900'000;
  store().save_idempotency(replacement);

  const auto found = store().find_idempotency("client-1", "idem-1", kNow);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->status, 422);
  EXPECT_EQ(found->response, replacement.response);
  EXPECT_EQ(found->expires_at, replacement.expires_at);
  EXPECT_EQ(store().find_idempotency("client-2", "idem-1", kNow)->status, 200);
}

// --- issuer roots ---

TEST_P(StoreSuite, publish_root_supersedes_the_previous_root_and_recent_roots_honours_since) {
  store().publish_root(7, "111", kNow);
  store().publish_root(7, "222", kNow + 1000);
  store().publish_root(7, "333", kNow + 2000);

  // 111 was superseded at kNow + 1000, 222 at kNow + 2000; 333 is current.
  const std::vector<core::IssuerRoot> all = store().recent_roots(7, kNow);
  ASSERT_EQ(all.size(), 3u);
  std::optional<core::IssuerRoot> current;
  for (const core::IssuerRoot& root : all) {
    EXPECT_EQ(root.issuer_id, 7u);
    if (root.superseded_at == 0) current = root;
    if (root.root == "111") {
      EXPECT_EQ(root.superseded_at, kNow + 1000);
    } else if (root.root == "222") {
      EXPECT_EQ(root.superseded_at, kNow + 2000);
    }
  }
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->root, "333");
  EXPECT_EQ(current->published_at, kNow + 2000);

  const std::vector<core::IssuerRoot> since_1500 = store().recent_roots(7, kNow + 1500);
  std::vector<std::string> names;
  for (const core::IssuerRoot& root : since_1500) names.push_back(root.root);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"222", "333"}));

  // `since` is inclusive: a root superseded exactly then still counts.
  EXPECT_EQ(store().recent_roots(7, kNow + 2000).size(), 2u);
  EXPECT_EQ(store().recent_roots(7, kNow + 2001).size(), 1u);
}

TEST_P(StoreSuite, republishing_the_current_root_changes_nothing) {
  store().publish_root(7, "111", kNow);
  store().publish_root(7, "222", kNow + 1000);
  store().publish_root(7, "222", kNow + 5000);

  const std::vector<core::IssuerRoot> roots = store().recent_roots(7, 0);
  ASSERT_EQ(roots.size(), 2u);
  for (const core::IssuerRoot& root : roots) {
    if (root.root == "222") {
      EXPECT_EQ(root.superseded_at, 0);
      EXPECT_EQ(root.published_at, kNow + 1000);
    } else {
      EXPECT_EQ(root.superseded_at, kNow + 1000);
    }
  }
}

TEST_P(StoreSuite, a_replaced_root_never_becomes_current_again) {
  EXPECT_EQ(store().publish_root(7, "111", kNow), core::PublishOutcome::kPublished);
  EXPECT_EQ(store().publish_root(7, "222", kNow + 1000), core::PublishOutcome::kPublished);
  EXPECT_EQ(store().publish_root(7, "222", kNow + 1500), core::PublishOutcome::kAlreadyCurrent);
  EXPECT_EQ(store().publish_root(7, "111", kNow + 2000), core::PublishOutcome::kReplacedBefore);

  const std::vector<core::IssuerRoot> roots = store().recent_roots(7, 0);
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[0].root, "222");
  EXPECT_EQ(roots[0].superseded_at, 0);
  EXPECT_EQ(roots[1].root, "111");
  EXPECT_EQ(roots[1].superseded_at, kNow + 1000);
}

TEST_P(StoreSuite, feed_roots_keep_their_seq_and_issue_time_and_the_follower_resumes_from_them) {
  EXPECT_FALSE(store().latest_feed_root(7));
  store().publish_root(core::IssuerRoot{7, "111", 0, 0, 1, kNow - 50}, kNow);
  store().publish_root(core::IssuerRoot{7, "222", 0, 0, 2, kNow - 20}, kNow + 10);
  store().publish_root(7, "333", kNow + 20);  // the operator's override: no seq
  const auto latest = store().latest_feed_root(7);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->root, "222");
  EXPECT_EQ(latest->seq, 2u);
  EXPECT_EQ(latest->issued_at, kNow - 20);
  EXPECT_EQ(latest->superseded_at, kNow + 20);
  const auto found = store().find_root(7, "111");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->seq, 1u);
  EXPECT_EQ(found->published_at, kNow);
  const auto manual = store().find_root(7, "333");
  ASSERT_TRUE(manual);
  EXPECT_EQ(manual->seq, 0u);
  EXPECT_EQ(manual->issued_at, kNow + 20);
  EXPECT_FALSE(store().find_root(8, "111"));
  EXPECT_FALSE(store().latest_feed_root(8));
}

/// A feed key for issuer 7 (key ids are 16 hex, public keys 43 base64url characters).
inline core::FeedKey feed_key(char tag, core::UnixMillis valid_until, std::uint64_t announced) {
  return {7, std::string(16, tag), std::string(43, tag), valid_until, announced};
}

TEST_P(StoreSuite, feed_keys_are_stored_with_their_root_and_a_retirement_only_comes_sooner) {
  EXPECT_TRUE(store().feed_keys(7).empty());
  // seq 2 announces key b and retires the configured key a at kNow.
  EXPECT_EQ(store().publish_feed_root(core::IssuerRoot{7, "111", 0, 0, 1, kNow - 50}, {}, kNow),
            core::PublishOutcome::kPublished);
  EXPECT_EQ(store().publish_feed_root(core::IssuerRoot{7, "222", 0, 0, 2, kNow - 40},
                                      {feed_key('a', kNow, 0), feed_key('b', 0, 2)}, kNow + 1),
            core::PublishOutcome::kPublished);
  // seq 3 would extend a's end, re-announce b under another seq and public key, and end b: only
  // b's end is taken.
  core::FeedKey b_again = feed_key('b', kNow + 500, 3);
  b_again.public_key = std::string(43, 'c');
  EXPECT_EQ(store().publish_feed_root(core::IssuerRoot{7, "333", 0, 0, 3, kNow - 30},
                                      {feed_key('a', kNow + 100, 0), b_again}, kNow + 2),
            core::PublishOutcome::kPublished);
  // "No end" never lifts an end.
  EXPECT_EQ(store().publish_feed_root(core::IssuerRoot{7, "444", 0, 0, 4, kNow - 20},
                                      {feed_key('a', 0, 0), feed_key('b', 0, 0)}, kNow + 3),
            core::PublishOutcome::kPublished);
  // A root that publishes nothing writes no key either.
  EXPECT_EQ(store().publish_feed_root(core::IssuerRoot{7, "444", 0, 0, 4, kNow - 20},
                                      {feed_key('d', 0, 4)}, kNow + 4),
            core::PublishOutcome::kAlreadyCurrent);
  EXPECT_EQ(store().publish_feed_root(core::IssuerRoot{7, "111", 0, 0, 5, kNow - 10},
                                      {feed_key('e', 0, 5)}, kNow + 5),
            core::PublishOutcome::kReplacedBefore);

  const std::vector<core::FeedKey> expected{feed_key('a', kNow, 0), feed_key('b', kNow + 500, 2)};
  EXPECT_EQ(store().feed_keys(7), expected);
  EXPECT_TRUE(store().feed_keys(8).empty());
  reopen();  // a restarted verifier reads the same
  EXPECT_EQ(store().feed_keys(7), expected);
  EXPECT_EQ(store().latest_feed_root(7)->seq, 4u);
}

TEST_P(StoreSuite, a_failed_feed_root_write_leaves_both_root_and_keys_unchanged) {
  store().publish_feed_root(core::IssuerRoot{7, "111", 0, 0, 1, kNow - 50}, {feed_key('b', 0, 1)},
                            kNow);
  // The second key is malformed (a 3-character key id): the write fails after the root and the
  // first key were written, and the transaction takes them back.
  core::FeedKey bad = feed_key('c', 0, 2);
  bad.key_id = "abc";
  EXPECT_THROW(store().publish_feed_root(core::IssuerRoot{7, "222", 0, 0, 2, kNow - 40},
                                         {feed_key('b', kNow, 0), bad}, kNow + 1),
               core::StoreError);
  EXPECT_FALSE(store().find_root(7, "222"));
  const auto latest = store().latest_feed_root(7);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->root, "111");
  EXPECT_EQ(latest->superseded_at, 0);
  EXPECT_EQ(store().feed_keys(7), std::vector<core::FeedKey>{feed_key('b', 0, 1)});
}

TEST_P(StoreSuite, sandbox_roots_form_a_chain_of_their_own_per_issuer) {
  const auto sandbox = [](std::string root, std::uint64_t seq = 0) {
    return core::IssuerRoot{7, std::move(root), 0, 0, seq, 0, true};
  };
  store().publish_root(7, "111", kNow);
  EXPECT_EQ(store().publish_root(sandbox("900", 1), kNow + 10), core::PublishOutcome::kPublished);
  // The live side's current root is untouched by a sandbox publish, and the other way round.
  ASSERT_EQ(store().recent_roots(7, kNow + 10).size(), 1u);
  EXPECT_EQ(store().recent_roots(7, kNow + 10)[0].root, "111");
  EXPECT_FALSE(store().recent_roots(7, kNow + 10)[0].sandbox);
  const auto sandboxed = store().recent_roots(7, kNow + 10, true);
  ASSERT_EQ(sandboxed.size(), 1u);
  EXPECT_EQ(sandboxed[0].root, "900");
  EXPECT_TRUE(sandboxed[0].sandbox);
  EXPECT_EQ(sandboxed[0].superseded_at, 0);
  // Each side keeps its own chain rules.
  EXPECT_EQ(store().publish_root(sandbox("112", 2), kNow + 20), core::PublishOutcome::kPublished);
  EXPECT_EQ(store().find_root(7, "900", true)->superseded_at, kNow + 20);
  EXPECT_EQ(store().find_root(7, "111")->superseded_at, 0);
  EXPECT_EQ(store().publish_root(sandbox("900"), kNow + 30), core::PublishOutcome::kReplacedBefore);
  EXPECT_EQ(store().publish_root(7, "113", kNow + 30), core::PublishOutcome::kPublished);
  EXPECT_FALSE(store().find_root(7, "222", true));
  // The feed resumes per side: the live side has no feed root.
  EXPECT_FALSE(store().latest_feed_root(7));
  ASSERT_TRUE(store().latest_feed_root(7, true));
  EXPECT_EQ(store().latest_feed_root(7, true)->seq, 2u);
  // Feed keys per side too.
  core::FeedKey key = feed_key('s', 0, 1);
  key.sandbox = true;
  ASSERT_EQ(store().publish_feed_root(sandbox("901", 3), {key}, kNow + 40),
            core::PublishOutcome::kPublished);
  EXPECT_EQ(store().feed_keys(7, true), std::vector<core::FeedKey>{key});
  EXPECT_TRUE(store().feed_keys(7).empty());
  reopen();
  EXPECT_EQ(store().recent_roots(7, kNow + 40, true).size(), 2u);  // 901 current, 112 replaced
  EXPECT_EQ(store().recent_roots(7, kNow + 40)[0].root, "113");
}

TEST_P(StoreSuite, a_root_one_side_knows_is_refused_on_the_other) {
  const auto sandbox = [](std::string root, std::uint64_t seq = 0) {
    return core::IssuerRoot{7, std::move(root), 0, 0, seq, 0, true};
  };
  ASSERT_EQ(store().publish_root(sandbox("900"), kNow), core::PublishOutcome::kPublished);
  ASSERT_EQ(store().publish_root(sandbox("901"), kNow + 10), core::PublishOutcome::kPublished);
  ASSERT_EQ(store().publish_root(7, "111", kNow + 20), core::PublishOutcome::kPublished);
  // A current sandbox root, and one replaced there, never become live; nor a live root sandbox.
  EXPECT_EQ(store().publish_root(7, "901", kNow + 30), core::PublishOutcome::kOtherSide);
  EXPECT_EQ(store().publish_root(7, "900", kNow + 30), core::PublishOutcome::kOtherSide);
  EXPECT_EQ(store().publish_root(sandbox("111"), kNow + 30), core::PublishOutcome::kOtherSide);
  EXPECT_EQ(store().publish_feed_root(sandbox("111", 1), {}, kNow + 30),
            core::PublishOutcome::kOtherSide);
  EXPECT_EQ(store().publish_feed_root(core::IssuerRoot{7, "900", 0, 0, 1, 0, false}, {}, kNow + 30),
            core::PublishOutcome::kOtherSide);
  // Nothing changed on either side.
  EXPECT_FALSE(store().find_root(7, "901"));
  EXPECT_FALSE(store().find_root(7, "111", true));
  EXPECT_EQ(store().recent_roots(7, kNow + 30)[0].root, "111");
  EXPECT_EQ(store().recent_roots(7, kNow + 30, true)[0].root, "901");
  EXPECT_FALSE(store().latest_feed_root(7));
  // Another issuer may use the same value on either side.
  EXPECT_EQ(store().publish_root(8, "901", kNow + 40), core::PublishOutcome::kPublished);
}

TEST_P(StoreSuite, roots_of_one_issuer_leave_the_others_alone) {
  store().publish_root(1, "111", kNow);
  store().publish_root(2, "222", kNow + 1000);
  const std::vector<core::IssuerRoot> first = store().recent_roots(1, 0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].root, "111");
  EXPECT_EQ(first[0].superseded_at, 0);
  EXPECT_TRUE(store().recent_roots(3, 0).empty());
}

// --- circuit switches ---

TEST_P(StoreSuite, circuit_enabled_is_unset_until_set_and_follows_the_last_set) {
  EXPECT_EQ(store().circuit_enabled("age_over_18", "1.0.0"), std::nullopt);
  store().set_circuit_enabled("age_over_18", "1.0.0", false, kNow);
  EXPECT_EQ(store().circuit_enabled("age_over_18", "1.0.0"), std::optional<bool>(false));
  EXPECT_EQ(store().circuit_enabled("age_over_18", "1.1.0"), std::nullopt);
  EXPECT_EQ(store().circuit_enabled("citizenship", "1.0.0"), std::nullopt);
  store().set_circuit_enabled("age_over_18", "1.0.0", true, kNow + 1);
  EXPECT_EQ(store().circuit_enabled("age_over_18", "1.0.0"), std::optional<bool>(true));
}

// --- durability and concurrency ---

TEST_P(StoreSuite, reopening_the_storage_keeps_everything) {
  const core::Client client = sample_client(2);
  store().insert_client(client);
  store().touch_client(client.id, client.key_prefix, kNow + 42);
  const core::ProofRequest request = sample_request(client.id, "nonce-a");
  store().insert_request(request);
  const core::ProofRecord proof = sample_proof("proof-1", client.id, "nonce-a");
  const core::OutboxEvent event = sample_event("event-1", proof);
  const core::IdempotencyRecord idempotency = sample_idempotency(client.id, "idem-1");
  ASSERT_EQ(store().record_proof(proof, &event, &idempotency), core::RecordOutcome::kStored);
  store().publish_root(7, "111", kNow);
  store().publish_root(7, "222", kNow + 1000);
  store().set_circuit_enabled("age_over_18", "1.0.0", false, kNow);

  reopen();

  ASSERT_TRUE(store().ping());
  core::Client touched = client;
  touched.last_used = kNow + 42;
  const auto found_client = store().find_client_by_prefix(client.key_prefix);
  ASSERT_TRUE(found_client.has_value());
  expect_same_client(*found_client, touched);
  const auto found_request = store().find_request(client.id, "nonce-a");
  ASSERT_TRUE(found_request.has_value());
  EXPECT_EQ(found_request->params, request.params);
  const auto found_proof = store().find_proof("proof-1");
  ASSERT_TRUE(found_proof.has_value());
  expect_same_proof(*found_proof, proof);
  EXPECT_TRUE(store().nonce_answered(client.id, "nonce-a"));
  ASSERT_EQ(store().pending_events(10).size(), 1u);
  EXPECT_EQ(store().pending_events(10)[0].event_id, "event-1");
  EXPECT_TRUE(store().find_idempotency(client.id, "idem-1", kNow).has_value());
  EXPECT_EQ(store().recent_roots(7, 0).size(), 2u);
  EXPECT_EQ(store().circuit_enabled("age_over_18", "1.0.0"), std::optional<bool>(false));
  // The replay guard survives the restart too.
  const core::ProofRecord replay = sample_proof("proof-2", client.id, "nonce-a");
  EXPECT_EQ(store().record_proof(replay, nullptr, nullptr), core::RecordOutcome::kNonceTaken);
}

TEST_P(StoreSuite, exactly_one_of_eight_concurrent_proofs_for_one_nonce_is_stored) {
  constexpr int kThreads = 8;
  store().insert_client(sample_client(1));
  store().insert_request(sample_request("client-1", "nonce-a"));

  std::vector<std::optional<core::RecordOutcome>> outcomes(kThreads);
  std::vector<std::string> errors(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string n = std::to_string(t);
      const core::ProofRecord proof = sample_proof("proof-" + n, "client-1", "nonce-a");
      const core::OutboxEvent event = sample_event("event-" + n, proof);
      const core::IdempotencyRecord idempotency = sample_idempotency("client-1", "idem-" + n);
      start.arrive_and_wait();
      try {
        outcomes[t] = store().record_proof(proof, &event, &idempotency);
      } catch (const std::exception& error) {
        errors[t] = error.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  int stored = -1;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(outcomes[t].has_value()) << "thread " << t << ": " << errors[t];
    if (*outcomes[t] == core::RecordOutcome::kStored) {
      EXPECT_EQ(stored, -1) << "threads " << stored << " and " << t << " both stored";
      stored = t;
    }
  }
  ASSERT_NE(stored, -1);
  const std::vector<core::OutboxEvent> events = store().pending_events(100);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].proof_id, "proof-" + std::to_string(stored));
  for (int t = 0; t < kThreads; ++t) {
    const std::string n = std::to_string(t);
    EXPECT_EQ(store().find_proof("proof-" + n).has_value(), t == stored);
    EXPECT_EQ(store().find_idempotency("client-1", "idem-" + n, kNow).has_value(), t == stored);
  }
}

}  // namespace pg::store::test
