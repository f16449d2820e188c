// Random identifiers, API keys and AES-256-GCM sealing (OpenSSL 3).
#include "core/secrets.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

namespace pg::core {

namespace {
constexpr std::string_view kB64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kLiveTag = "pg_live_";
constexpr std::string_view kTestTag = "pg_test_";
constexpr std::string_view kLegacyTag = "pgk_";
constexpr std::size_t kPrefixChars = 8;
constexpr std::size_t kSecretChars = 43;

std::string encode64(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                            std::uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint8_t(bytes[i]) << 16;
    if (rest == 2) v |= std::uint8_t(bytes[i + 1]) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

bool is_b64url_char(char c) noexcept {
  return kB64Url.find(c) != std::string_view::npos;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
constexpr std::size_t kGcmNonce = 12;
constexpr std::size_t kGcmTag = 16;
}  // namespace

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string base64url(std::string_view bytes) {
  return encode64(bytes, kB64Url, false);
}
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const auto at = kB64Url.find(c);
    if (at == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // canonical: unused bits are zero
  return out;
}

std::string base64(std::string_view bytes) {
  return encode64(bytes, kB64, true);
}

int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string uuid_v4() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  const std::string h = hex({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()});
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

bool is_uuid(std::string_view t) noexcept {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = t[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::array<std::uint8_t, 32> sha256(std::string_view data) {
  std::array<std::uint8_t, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

bool equal_ct(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view mode_name(Mode mode) noexcept {
  return mode == Mode::kTest ? "test" : "live";
}

std::optional<Mode> parse_mode(std::string_view text) noexcept {
  if (text == "live") return Mode::kLive;
  if (text == "test") return Mode::kTest;
  return std::nullopt;
}

ApiKey new_api_key(Mode mode) {
  ApiKey key;
  key.prefix = base64url(random_bytes(6));
  key.text = std::string(mode == Mode::kTest ? kTestTag : kLiveTag) + key.prefix + "_" +
             base64url(random_bytes(32));
  key.hash = sha256(key.text);
  return key;
}

std::optional<ParsedKey> parse_api_key(std::string_view key) noexcept {
  ParsedKey parsed;
  std::string_view tag;
  if (key.starts_with(kLiveTag)) {
    tag = kLiveTag;
  } else if (key.starts_with(kTestTag)) {
    tag = kTestTag;
    parsed.mode = Mode::kTest;
  } else if (key.starts_with(kLegacyTag)) {
    tag = kLegacyTag;
  } else {
    return std::nullopt;
  }
  if (key.size() != tag.size() + kPrefixChars + 1 + kSecretChars) return std::nullopt;
  if (key[tag.size() + kPrefixChars] != '_') return std::nullopt;
  const std::string_view prefix = key.substr(tag.size(), kPrefixChars);
  const std::string_view secret = key.substr(tag.size() + kPrefixChars + 1);
  for (const char c : prefix) {
    if (!is_b64url_char(c)) return std::nullopt;
  }
  for (const char c : secret) {
    if (!is_b64url_char(c)) return std::nullopt;
  }
  parsed.prefix = std::string(prefix);
  return parsed;
}

std::optional<std::string> api_key_prefix(std::string_view key) noexcept {
  auto parsed = parse_api_key(key);
  if (!parsed) return std::nullopt;
  return std::move(parsed->prefix);
}

std::string seal(const MasterKey& key, std::string_view plaintext, std::string_view context) {
  const std::string nonce = random_bytes(kGcmNonce);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out = nonce;
  out.resize(kGcmNonce + plaintext.size() + kGcmTag);
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + kGcmNonce);
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                         reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(context.data()),
                        static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTag, ct + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM seal failed");
  }
  return out;
}

std::optional<std::string> unseal(const MasterKey& key, std::string_view sealed,
                                  std::string_view context) {
  if (sealed.size() < kGcmNonce + kGcmTag) return std::nullopt;
  const std::size_t n = sealed.size() - kGcmNonce - kGcmTag;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string out(n, '\0');
  std::string tag(sealed.substr(kGcmNonce + n));
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                         reinterpret_cast<const unsigned char*>(sealed.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(context.data()),
                        static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(sealed.data() + kGcmNonce),
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) !=
          1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace pg::core
