// What every core::OAuthStore must do, as more AuditSuite cases (audit_suite.hpp includes this at
// its end): a client secret written with its partner, replaced with its audit entry, unknown
// partners refused; signing keys in order, one current key, a rotation retiring the old one.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/oauth.hpp"

namespace pg::store::test {

inline core::OAuthStore& oauth_of(core::Store& store) {
  return dynamic_cast<core::OAuthStore&>(store);
}

inline core::TokenKey sample_token_key(int n, core::UnixMillis created_at) {
  core::TokenKey key;
  key.kid = "kid-" + std::to_string(n);
  key.public_key = std::string(32, static_cast<char>('a' + n));
  key.private_sealed = std::string("\x00sealed", 7) + std::to_string(n);  // binary, with a NUL
  key.created_at = created_at;
  return key;
}

TEST_P(AuditSuite, a_client_secret_is_written_with_its_partner_and_replaced_with_its_audit_entry) {
  core::OAuthStore& oauth = oauth_of(store());
  core::Client client = sample_client(1);
  client.client_secret_hash = std::string(32, '\x07');
  store().insert_client(client);
  store().insert_client(sample_client(2));  // no secret
  const auto first = oauth.client_secret_hash(client.id);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(std::string(first->begin(), first->end()), client.client_secret_hash);
  EXPECT_EQ(oauth.client_secret_hash("client-2"), std::nullopt);
  EXPECT_EQ(oauth.client_secret_hash("client-9"), std::nullopt);

  std::array<std::uint8_t, 32> replaced{};
  replaced.fill(9);
  EXPECT_TRUE(oauth.set_client_secret(client.id, replaced, kNow + 1,
                                      audit_entry("client.secret_rotated", kNow + 1)));
  EXPECT_EQ(oauth.client_secret_hash(client.id), replaced);
  EXPECT_TRUE(oauth.set_client_secret("client-2", replaced, kNow + 2,
                                      audit_entry("client.secret_rotated", kNow + 2)));
  EXPECT_EQ(oauth.client_secret_hash("client-2"), replaced);
  EXPECT_FALSE(oauth.set_client_secret("client-9", replaced, kNow + 3, audit_entry("x", kNow + 3)));
  EXPECT_EQ(oauth.client_secret_hash("client-9"), std::nullopt);
  EXPECT_EQ(actions(everything()),
            (std::vector<std::string>{"client.secret_rotated", "client.secret_rotated"}));
}

TEST_P(AuditSuite, token_keys_keep_one_current_key_and_a_rotation_retires_the_old_one) {
  core::OAuthStore& oauth = oauth_of(store());
  EXPECT_TRUE(oauth.token_keys().empty());
  EXPECT_TRUE(oauth.add_token_key(sample_token_key(1, kNow), /*only_if_none=*/true, nullptr));
  // A second first key (another instance starting) writes nothing.
  EXPECT_FALSE(oauth.add_token_key(sample_token_key(2, kNow + 1), true, nullptr));
  auto keys = oauth.token_keys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].kid, "kid-1");
  EXPECT_EQ(keys[0].public_key, sample_token_key(1, kNow).public_key);
  EXPECT_EQ(keys[0].private_sealed, sample_token_key(1, kNow).private_sealed);
  EXPECT_EQ(keys[0].retired_at, 0);

  const auto audit = audit_entry("token_key.rotated", kNow + 10);
  EXPECT_TRUE(oauth.add_token_key(sample_token_key(3, kNow + 10), false, &audit));
  keys = oauth.token_keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].kid, "kid-1");
  EXPECT_EQ(keys[0].retired_at, kNow + 10);
  EXPECT_EQ(keys[1].kid, "kid-3");
  EXPECT_EQ(keys[1].retired_at, 0);
  EXPECT_EQ(actions(everything()), (std::vector<std::string>{"token_key.rotated"}));
  reopen();
  EXPECT_EQ(oauth_of(store()).token_keys().size(), 2u);
}

}  // namespace pg::store::test
