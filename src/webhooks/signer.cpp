// HMAC-SHA256 webhook signatures (see signer.hpp), OpenSSL's HMAC and CRYPTO_memcmp.
#include "webhooks/signer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>

#include "core/secrets.hpp"

namespace pg::webhooks {

namespace {
constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::size_t kMinKeyBytes = 24;

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=' && i >= in.size() - 2) {
      ++pad;
      continue;
    } else {
      return std::nullopt;
    }
    if (pad) return std::nullopt;  // data after padding
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}
}  // namespace

std::optional<std::string> decode_secret(std::string_view secret) {
  if (!secret.starts_with(kSecretPrefix)) return std::nullopt;
  auto key = base64_decode(secret.substr(kSecretPrefix.size()));
  if (!key || key->size() < kMinKeyBytes) return std::nullopt;
  return key;
}

std::string new_secret() {
  std::string out(kSecretPrefix);
  out.append(core::base64(core::random_bytes(32)));
  return out;
}

std::string sign_v1(std::string_view key, std::string_view id, std::int64_t timestamp,
                    std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  std::string out = "v1,";
  out.append(core::base64(hmac_sha256(key, content)));
  return out;
}

std::string sign_body_sha256(std::string_view key, std::string_view body) {
  const std::string mac = hmac_sha256(key, body);
  std::string out = "sha256=";
  out.append(core::hex({reinterpret_cast<const std::uint8_t*>(mac.data()), mac.size()}));
  return out;
}

std::vector<std::pair<std::string, std::string>> signed_headers(
    const std::vector<std::string>& keys, std::string_view id, std::int64_t timestamp,
    std::string_view body) {
  std::string v1, sha;
  for (const auto& key : keys) {
    if (!v1.empty()) v1.push_back(' ');
    v1.append(sign_v1(key, id, timestamp, body));
    if (!sha.empty()) sha.push_back(',');
    sha.append(sign_body_sha256(key, body));
  }
  return {{"webhook-id", std::string(id)},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature", v1},
          {"X-Proofgate-Signature", sha}};
}

bool verify_v1(std::string_view key, std::string_view id, std::string_view timestamp,
               std::string_view body, std::string_view signature_header, std::int64_t now,
               std::int64_t tolerance_s) {
  std::int64_t ts = 0;
  const auto [p, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || p != timestamp.data() + timestamp.size()) return false;
  if (ts > now + tolerance_s || ts < now - tolerance_s) return false;
  const std::string expected = sign_v1(key, id, ts, body);
  bool ok = false;
  std::size_t start = 0;
  while (start <= signature_header.size()) {
    const auto space = signature_header.find(' ', start);
    const std::string_view entry = signature_header.substr(
        start, space == std::string_view::npos ? std::string_view::npos : space - start);
    if (entry.size() == expected.size() &&
        CRYPTO_memcmp(entry.data(), expected.data(), expected.size()) == 0)
      ok = true;
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return ok;
}

}  // namespace pg::webhooks
