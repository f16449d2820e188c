// HOTP/TOTP against the RFCs' own vectors (tests/vectors/otp/), base32 against RFC 4648 §10, the
// ±1 step window and the replay guard, and the otpauth URI.
#include "core/totp.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pg::core {
namespace {

std::vector<std::vector<std::string>> vector_lines(const std::string& name) {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/otp/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::vector<std::vector<std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    out.push_back(row);
  }
  return out;
}

TEST(Hotp, matches_rfc4226_appendix_d) {
  const auto rows = vector_lines("rfc4226_appendix_d.txt");
  ASSERT_EQ(rows.size(), 10u);
  for (const auto& r : rows) {
    EXPECT_EQ(hotp("12345678901234567890", std::stoull(r[0]), 6, TotpAlgorithm::kSha1), r[1])
        << "count " << r[0];
  }
}

TEST(Totp, matches_rfc6238_appendix_b_for_sha1_and_sha256) {
  const auto rows = vector_lines("rfc6238_appendix_b.txt");
  ASSERT_EQ(rows.size(), 12u);
  for (const auto& r : rows) {
    const auto algo = totp_algorithm_from_name(r[1]);
    ASSERT_TRUE(algo) << r[1];
    const std::string seed = *algo == TotpAlgorithm::kSha256 ? "12345678901234567890123456789012"
                                                             : "12345678901234567890";
    const auto step = static_cast<std::uint64_t>(totp_step(std::stoll(r[0])));
    EXPECT_EQ(hotp(seed, step, 8, *algo), r[2]) << r[0] << " " << r[1];
  }
}

TEST(Totp, accepts_one_step_either_side_and_nothing_further) {
  const std::string key = "12345678901234567890";
  const std::int64_t now = 1111111111;
  const std::int64_t s = totp_step(now);
  for (std::int64_t d = -3; d <= 3; ++d) {
    const std::string code = hotp(key, static_cast<std::uint64_t>(s + d), 6, TotpAlgorithm::kSha1);
    const auto matched = totp_match(key, TotpAlgorithm::kSha1, code, now, -1);
    if (d >= -1 && d <= 1) {
      ASSERT_TRUE(matched) << d;
      EXPECT_EQ(*matched, s + d);
    } else {
      EXPECT_FALSE(matched) << d;
    }
  }
}

TEST(Totp, refuses_a_step_already_used) {
  const std::string key = "12345678901234567890123456789012";
  const std::int64_t now = 2000000000;
  const std::int64_t s = totp_step(now);
  const std::string code = hotp(key, static_cast<std::uint64_t>(s), 6, TotpAlgorithm::kSha256);
  EXPECT_TRUE(totp_match(key, TotpAlgorithm::kSha256, code, now, s - 1));
  EXPECT_FALSE(totp_match(key, TotpAlgorithm::kSha256, code, now, s));
  EXPECT_FALSE(totp_match(key, TotpAlgorithm::kSha256, code, now, s + 1));
}

TEST(Totp, refuses_malformed_codes_and_the_other_algorithm) {
  const std::string key = "12345678901234567890";
  const std::int64_t now = 59;
  const std::string code = hotp(key, 1, 6, TotpAlgorithm::kSha1);
  EXPECT_TRUE(totp_match(key, TotpAlgorithm::kSha1, code, now, -1));
  EXPECT_FALSE(totp_match(key, TotpAlgorithm::kSha1, code.substr(1), now, -1));
  EXPECT_FALSE(totp_match(key, TotpAlgorithm::kSha1, code + "0", now, -1));
  EXPECT_FALSE(totp_match(key, TotpAlgorithm::kSha1, "12345a", now, -1));
  EXPECT_FALSE(totp_match(key, TotpAlgorithm::kSha1, "", now, -1));
  if (hotp(key, 1, 6, TotpAlgorithm::kSha256) != code) {
    EXPECT_FALSE(totp_match(key, TotpAlgorithm::kSha256, code, now, -1));
  }
}

TEST(Base32, matches_rfc4648_section_10_and_round_trips) {
  // RFC 4648 §10, without the padding.
  EXPECT_EQ(base32(""), "");
  EXPECT_EQ(base32("f"), "MY");
  EXPECT_EQ(base32("fo"), "MZXQ");
  EXPECT_EQ(base32("foo"), "MZXW6");
  EXPECT_EQ(base32("foob"), "MZXW6YQ");
  EXPECT_EQ(base32("fooba"), "MZXW6YTB");
  EXPECT_EQ(base32("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(base32_decode("MZXW6YTBOI======"), "foobar");
  EXPECT_EQ(base32_decode("mzxw 6ytb oi"), "foobar");
  EXPECT_FALSE(base32_decode("MZXW1"));  // '1' is not in the alphabet
  const std::string bytes("\x00\xff\x10\x80 key", 8);
  EXPECT_EQ(base32_decode(base32(bytes)), bytes);
}

TEST(Totp, otpauth_uri_names_issuer_account_secret_and_algorithm) {
  EXPECT_EQ(otpauth_uri("proofgate", "a.b@example.org", "foobar", TotpAlgorithm::kSha256),
            "otpauth://totp/proofgate:a.b@example.org?secret=MZXW6YTBOI&issuer=proofgate"
            "&algorithm=SHA256&digits=6&period=30");
  EXPECT_EQ(
      otpauth_uri("my org", "x", "f", TotpAlgorithm::kSha1),
      "otpauth://totp/my%20org:x?secret=MY&issuer=my%20org&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace pg::core
