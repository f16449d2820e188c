// argon2id admin passwords: the encoded form carries its cost, verification is exact.
#include "core/passwords.hpp"

#include <gtest/gtest.h>

namespace pg::core {
namespace {

TEST(Passwords, hash_is_argon2id_encoded_with_its_cost_and_a_fresh_salt) {
  const std::string a = hash_password("correct horse battery", kTestPasswordCost);
  const std::string b = hash_password("correct horse battery", kTestPasswordCost);
  EXPECT_TRUE(a.starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << a;
  EXPECT_NE(a, b);  // random salt
}

TEST(Passwords, verifies_the_password_and_nothing_else) {
  const std::string h = hash_password("correct horse battery", kTestPasswordCost);
  EXPECT_TRUE(verify_password(h, "correct horse battery"));
  EXPECT_FALSE(verify_password(h, "correct horse batterY"));
  EXPECT_FALSE(verify_password(h, ""));
  EXPECT_FALSE(verify_password("", "correct horse battery"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "correct horse battery"));
  // Another variant's hash is refused even when it would verify.
  std::string i = h;
  i.replace(0, 9, "$argon2i");
  EXPECT_FALSE(verify_password(i, "correct horse battery"));
}

}  // namespace
}  // namespace pg::core
