// Hexadecimal strings as Ethereum's JSON-RPC and ABI use them.
#include "chain/hex.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace pg::chain {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

int nibble(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view strip_prefix(std::string_view s) noexcept {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  return s;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes, bool prefix) {
  std::string out;
  out.reserve(bytes.size() * 2 + 2);
  if (prefix) out += "0x";
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  return out;
}

std::optional<Bytes> from_hex(std::string_view hex) {
  hex = strip_prefix(hex);
  if (hex.size() % 2 != 0) return std::nullopt;
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<std::uint64_t> quantity_to_u64(std::string_view hex) {
  if (hex.size() < 3 || hex[0] != '0' || hex[1] != 'x') return std::nullopt;
  hex.remove_prefix(2);
  if (hex.size() > 16 || (hex.size() > 1 && hex[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : hex) {
    const int d = nibble(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

std::string u64_to_quantity(std::uint64_t value) {
  std::string digits;
  do {
    digits.insert(digits.begin(), kDigits[value & 0x0f]);
    value >>= 4;
  } while (value != 0);
  return "0x" + digits;
}

std::string sha256_hex(std::string_view data) {
  std::uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return to_hex(std::span<const std::uint8_t>(digest, length), /*prefix=*/false);
}

}  // namespace pg::chain
