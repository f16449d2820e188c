// HOTP/TOTP, base32 and otpauth URIs (see totp.hpp).
#include "core/totp.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <stdexcept>

#include "core/secrets.hpp"

namespace pg::core {

namespace {
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string uri_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '@') {
      out.push_back(c);
    } else {
      constexpr std::string_view kHex = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}
}  // namespace

std::string_view totp_algorithm_name(TotpAlgorithm a) noexcept {
  return a == TotpAlgorithm::kSha256 ? "SHA256" : "SHA1";
}

std::optional<TotpAlgorithm> totp_algorithm_from_name(std::string_view name) noexcept {
  std::string up;
  for (const char c : name)
    up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (up == "SHA1") return TotpAlgorithm::kSha1;
  if (up == "SHA256") return TotpAlgorithm::kSha256;
  return std::nullopt;
}

std::string base32(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    if (c == '=' || c == ' ') continue;
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto at = kBase32.find(u);
    if (at == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(at);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::string hotp(std::string_view key, std::uint64_t counter, int digits, TotpAlgorithm algorithm) {
  if (digits < 6 || digits > 9) throw std::invalid_argument("hotp: digits must be 6..9");
  std::array<unsigned char, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<std::size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  const EVP_MD* md = algorithm == TotpAlgorithm::kSha256 ? EVP_sha256() : EVP_sha1();
  if (!HMAC(md, key.data(), static_cast<int>(key.size()), message.data(), message.size(),
            mac.data(), &mac_len)) {
    throw std::runtime_error("hotp: HMAC failed");
  }
  // Dynamic truncation, RFC 4226 §5.3.
  const unsigned offset = mac[mac_len - 1] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string out = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - out.size(), '0') + out;
}

std::optional<std::int64_t> totp_match(std::string_view key, TotpAlgorithm algorithm,
                                       std::string_view code, std::int64_t unix_seconds,
                                       std::int64_t last_used_step) {
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  const std::int64_t now = totp_step(unix_seconds);
  std::optional<std::int64_t> found;
  // Every candidate is computed and compared, so the time does not say which step matched.
  for (std::int64_t step = now - 1; step <= now + 1; ++step) {
    if (step < 0) continue;
    const std::string expected = hotp(key, static_cast<std::uint64_t>(step), 6, algorithm);
    const bool same =
        equal_ct({reinterpret_cast<const std::uint8_t*>(expected.data()), expected.size()},
                 {reinterpret_cast<const std::uint8_t*>(code.data()), code.size()});
    if (same && step > last_used_step && !found) found = step;
  }
  return found;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view key,
                        TotpAlgorithm algorithm) {
  return "otpauth://totp/" + uri_escape(issuer) + ":" + uri_escape(account) +
         "?secret=" + base32(key) + "&issuer=" + uri_escape(issuer) +
         "&algorithm=" + std::string(totp_algorithm_name(algorithm)) + "&digits=6&period=30";
}

}  // namespace pg::core
