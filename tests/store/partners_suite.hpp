// What every core::AdminStore must do for partners, as more AuditSuite cases (audit_suite.hpp
// includes this at its end): API keys in their own table — a rotation's overlap, then only the new
// key; revoke-key revoking every key; a key's last use — suspension (and the webhooks it holds),
// updates that keep one partner per domain, and the keyset-paged list.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/audit.hpp"
#include "core/model.hpp"

namespace pg::store::test {

inline core::ClientKey sample_key(int n, core::UnixMillis created_at) {
  core::ClientKey key;
  key.prefix = "pfxnew" + std::to_string(10 + n);
  for (std::size_t i = 0; i < key.hash.size(); ++i) key.hash[i] = static_cast<std::uint8_t>(n + i);
  key.created_at = created_at;
  return key;
}

TEST_P(AuditSuite, a_rotated_key_works_with_the_old_one_until_the_overlap_ends_then_alone) {
  const core::Client client = sample_client(1);
  store().insert_client(client);
  const core::ClientKey fresh = sample_key(1, kNow + 10);
  EXPECT_EQ(
      admin().rotate_key(client.id, fresh, kNow + 1000, audit_entry("client.key_rotated", kNow)),
      core::ClientChange::kChanged);

  const auto old_in_overlap = store().find_client_by_prefix(client.key_prefix, kNow + 999);
  ASSERT_TRUE(old_in_overlap.has_value());
  EXPECT_EQ(old_in_overlap->id, client.id);
  EXPECT_EQ(old_in_overlap->key_hash, client.key_hash);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix, kNow + 1000), std::nullopt);
  const auto by_new = store().find_client_by_prefix(fresh.prefix, kNow + 1000);
  ASSERT_TRUE(by_new.has_value());
  EXPECT_EQ(by_new->key_hash, fresh.hash);
  EXPECT_EQ(by_new->key_prefix, fresh.prefix);
  EXPECT_EQ(store().find_client(client.id)->key_prefix, fresh.prefix);  // the current key

  const auto keys = store().client_keys(client.id);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].prefix, client.key_prefix);
  EXPECT_EQ(keys[0].expires_at, kNow + 1000);
  EXPECT_EQ(keys[1].prefix, fresh.prefix);
  EXPECT_EQ(keys[1].expires_at, 0);

  // A second rotation does not lengthen the first key's overlap.
  EXPECT_EQ(admin().rotate_key(client.id, sample_key(2, kNow + 20), kNow + 5000,
                               audit_entry("client.key_rotated", kNow)),
            core::ClientChange::kChanged);
  EXPECT_EQ(store().client_keys(client.id)[0].expires_at, kNow + 1000);
  EXPECT_EQ(store().client_keys(client.id)[1].expires_at, kNow + 5000);

  EXPECT_EQ(admin().rotate_key("client-9", sample_key(3, kNow), kNow, audit_entry("x", kNow)),
            core::ClientChange::kUnknownClient);
  EXPECT_EQ(store().find_client_by_prefix(sample_key(3, kNow).prefix, kNow), std::nullopt);
  EXPECT_EQ(actions(everything()),
            (std::vector<std::string>{"client.key_rotated", "client.key_rotated"}));
}

TEST_P(AuditSuite, revoke_key_revokes_every_key_of_the_partner_and_a_rotation_gives_a_working_one) {
  const core::Client client = sample_client(1);
  store().insert_client(client);
  const core::ClientKey fresh = sample_key(1, kNow + 10);
  ASSERT_EQ(admin().rotate_key(client.id, fresh, kNow + 100'000, audit_entry("rotated", kNow)),
            core::ClientChange::kChanged);
  EXPECT_EQ(admin().revoke_key(client.id, kNow + 20, audit_entry("client.key_revoked", kNow)),
            core::RevokeOutcome::kRevoked);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix, kNow + 21), std::nullopt);
  EXPECT_EQ(store().find_client_by_prefix(fresh.prefix, kNow + 21), std::nullopt);
  for (const auto& key : store().client_keys(client.id)) EXPECT_EQ(key.revoked_at, kNow + 20);
  EXPECT_EQ(admin().revoke_key(client.id, kNow + 30, audit_entry("again", kNow)),
            core::RevokeOutcome::kAlreadyRevoked);

  const core::ClientKey after = sample_key(2, kNow + 40);
  ASSERT_EQ(admin().rotate_key(client.id, after, kNow + 40, audit_entry("rotated", kNow)),
            core::ClientChange::kChanged);
  EXPECT_TRUE(store().find_client_by_prefix(after.prefix, kNow + 41).has_value());
  EXPECT_EQ(store().find_client(client.id)->revoked_at, 0);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix, kNow + 41), std::nullopt);
}

TEST_P(AuditSuite, a_touch_records_the_last_use_of_that_key_only) {
  const core::Client client = sample_client(1);
  store().insert_client(client);
  const core::ClientKey fresh = sample_key(1, kNow + 10);
  ASSERT_EQ(admin().rotate_key(client.id, fresh, kNow + 100'000, audit_entry("rotated", kNow)),
            core::ClientChange::kChanged);
  store().touch_client(client.id, fresh.prefix, kNow + 500);
  EXPECT_EQ(store().find_client_by_prefix(fresh.prefix, kNow + 600)->last_used, kNow + 500);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix, kNow + 600)->last_used, 0);
  const auto keys = store().client_keys(client.id);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].last_used_at, 0);
  EXPECT_EQ(keys[1].last_used_at, kNow + 500);
  store().touch_client(client.id, fresh.prefix, kNow + 400);  // older: kept the newest
  EXPECT_EQ(store().client_keys(client.id)[1].last_used_at, kNow + 500);
}

TEST_P(AuditSuite, suspension_is_audited_once_per_change_and_holds_the_partners_webhooks) {
  const core::Client client = sample_client(1);
  const core::Client other = sample_client(2);
  store().insert_client(client);
  store().insert_client(other);
  outbox().enqueue_event(bare_event("event-held", client.id), kNow);
  outbox().enqueue_event(bare_event("event-other", other.id), kNow);

  EXPECT_EQ(
      admin().set_client_suspended(client.id, kNow + 5, audit_entry("client.suspended", kNow)),
      core::ClientChange::kChanged);
  EXPECT_EQ(admin().set_client_suspended(client.id, kNow + 6, audit_entry("again", kNow)),
            core::ClientChange::kUnchanged);
  EXPECT_EQ(admin().set_client_suspended("client-9", kNow, audit_entry("unknown", kNow)),
            core::ClientChange::kUnknownClient);
  EXPECT_EQ(store().find_client_by_prefix(client.key_prefix, kNow)->suspended_at, kNow + 5);

  // Held, not dropped: only the other partner's row is claimed, and it stays pending.
  const auto claimed = outbox().claim_due("worker-1", kNow + 10, 10, kLeaseMs, kNoCap);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].event.event_id, "event-other");
  EXPECT_EQ(outbox().find_delivery("event-held")->status, core::kDeliveryPending);

  EXPECT_EQ(admin().set_client_suspended(client.id, 0, audit_entry("client.resumed", kNow)),
            core::ClientChange::kChanged);
  EXPECT_EQ(admin().set_client_suspended(client.id, 0, audit_entry("again", kNow)),
            core::ClientChange::kUnchanged);
  EXPECT_EQ(store().find_client(client.id)->suspended_at, 0);
  const auto after = outbox().claim_due("worker-1", kNow + 20, 10, kLeaseMs, kNoCap);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].event.event_id, "event-held");
  EXPECT_EQ(actions(everything()),
            (std::vector<std::string>{"client.suspended", "client.resumed"}));
}

TEST_P(AuditSuite, an_update_moves_domains_but_never_onto_another_partners) {
  core::Client first = sample_client(1);
  first.domains = {"bank.example", "old.example"};
  core::Client second = sample_client(2);
  second.domains = {"shop.example"};
  ASSERT_EQ(admin().create_client(first, audit_entry("client.created", kNow)), std::nullopt);
  ASSERT_EQ(admin().create_client(second, audit_entry("client.created", kNow)), std::nullopt);

  core::Client changed = first;
  changed.name = "Renamed";
  changed.domains = {"bank.example", "shop.example"};
  EXPECT_EQ(admin().update_client(changed, audit_entry("client.updated", kNow)),
            std::optional<std::string>("shop.example"));
  EXPECT_EQ(store().find_client(first.id)->name, first.name);  // nothing written

  changed.domains = {"bank.example", "new.example"};
  changed.scopes = {"citizenship"};
  EXPECT_EQ(admin().update_client(changed, audit_entry("client.updated", kNow)), std::nullopt);
  const auto found = store().find_client(first.id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "Renamed");
  EXPECT_EQ(found->domains, changed.domains);
  EXPECT_EQ(found->scopes, changed.scopes);
  EXPECT_EQ(found->key_hash, first.key_hash);  // the key is not touched
  // The domain it gave up is free for another partner.
  core::Client third = sample_client(3);
  third.domains = {"old.example"};
  EXPECT_EQ(admin().create_client(third, audit_entry("client.created", kNow)), std::nullopt);
  EXPECT_EQ(actions(everything()), (std::vector<std::string>{"client.created", "client.created",
                                                             "client.updated", "client.created"}));
}

TEST_P(AuditSuite, partners_page_by_creation_then_id_and_a_later_insert_lands_after_the_pages) {
  std::vector<core::Client> clients;
  for (int n = 1; n <= 5; ++n) {
    core::Client c = sample_client(n);
    c.created_at = kNow + (n <= 2 ? 1 : n);  // two share a millisecond: ordered by id
    store().insert_client(c);
    clients.push_back(c);
  }
  const auto ids = [](const std::vector<core::Client>& page) {
    std::vector<std::string> out;
    for (const auto& c : page) out.push_back(c.id);
    return out;
  };
  const auto first = store().list_clients_after(0, "", 2);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"client-1", "client-2"}));
  core::Client late = sample_client(6);
  late.created_at = kNow + 100;
  store().insert_client(late);
  const auto second = store().list_clients_after(first.back().created_at, first.back().id, 2);
  EXPECT_EQ(ids(second), (std::vector<std::string>{"client-3", "client-4"}));
  const auto third = store().list_clients_after(second.back().created_at, second.back().id, 2);
  EXPECT_EQ(ids(third), (std::vector<std::string>{"client-5", "client-6"}));
  EXPECT_TRUE(store().list_clients_after(late.created_at, late.id, 2).empty());
}

}  // namespace pg::store::test
