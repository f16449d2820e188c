// Webhook signatures against the Standard Webhooks specification's published test vector
// (github.com/standard-webhooks/standard-webhooks, the libraries' shared vector: secret
// whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, id msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330,
// body {"test": 2432232314}), and the refusals a receiver makes.
#include "webhooks/signer.hpp"

#include <gtest/gtest.h>

namespace pg::webhooks {
namespace {

constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kTimestamp = 1614265330;
constexpr std::string_view kBody = R"({"test": 2432232314})";
constexpr std::string_view kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(SignerTest, reproduces_the_standard_webhooks_vector) {
  const auto key = decode_secret(kSecret);
  ASSERT_TRUE(key);
  EXPECT_EQ(sign_v1(*key, kId, kTimestamp, kBody), kSignature);
  EXPECT_TRUE(verify_v1(*key, kId, "1614265330", kBody, kSignature, kTimestamp));
}

TEST(SignerTest, a_receiver_refuses_tampering_old_timestamps_and_wrong_secrets) {
  const auto key = *decode_secret(kSecret);
  EXPECT_FALSE(
      verify_v1(key, kId, "1614265330", R"({"test": 2432232315})", kSignature, kTimestamp));
  EXPECT_FALSE(verify_v1(key, "msg_other", "1614265330", kBody, kSignature, kTimestamp));
  EXPECT_FALSE(verify_v1(key, kId, "1614265331", kBody, kSignature, kTimestamp));
  EXPECT_FALSE(verify_v1(key, kId, "1614265330", kBody, kSignature, kTimestamp + 301));
  EXPECT_FALSE(verify_v1(key, kId, "1614265330", kBody, kSignature, kTimestamp - 301));
  EXPECT_FALSE(verify_v1(key, kId, "16142653x0", kBody, kSignature, kTimestamp));
  const auto other = *decode_secret(new_secret());
  EXPECT_FALSE(verify_v1(other, kId, "1614265330", kBody, kSignature, kTimestamp));
}

TEST(SignerTest, rotation_signs_with_both_secrets_and_either_verifies) {
  const auto current = *decode_secret(new_secret());
  const auto previous = *decode_secret(kSecret);
  const auto headers = signed_headers({current, previous}, kId, kTimestamp, kBody);
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[0].second, kId);
  EXPECT_EQ(headers[1].second, "1614265330");
  const std::string& sig = headers[2].second;
  EXPECT_NE(sig.find(' '), std::string::npos);
  EXPECT_NE(sig.find(kSignature), std::string::npos);
  EXPECT_TRUE(verify_v1(current, kId, "1614265330", kBody, sig, kTimestamp));
  EXPECT_TRUE(verify_v1(previous, kId, "1614265330", kBody, sig, kTimestamp));
  EXPECT_EQ(headers[3].second.substr(0, 7), "sha256=");
  EXPECT_EQ(headers[3].second.find(','), 7u + 64);
}

TEST(SignerTest, body_signature_is_hex_hmac_of_the_body_alone) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  EXPECT_EQ(sign_body_sha256("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SignerTest, decode_secret_refuses_malformed_and_short_secrets) {
  EXPECT_FALSE(decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // no prefix
  EXPECT_FALSE(decode_secret("whsec_not base64!"));
  EXPECT_FALSE(decode_secret("whsec_c2hvcnQ="));  // 5 bytes
  EXPECT_FALSE(
      decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"));  // length not a multiple of 4
  EXPECT_EQ(decode_secret(new_secret())->size(), 32u);
  EXPECT_NE(new_secret(), new_secret());
}

}  // namespace
}  // namespace pg::webhooks
