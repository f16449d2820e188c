// Random identifiers and secrets, API keys (generation, parsing, hashing, constant-time check)
// and sealing of stored secrets with AES-256-GCM. OpenSSL underneath.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/model.hpp"

namespace pg::core {

/// `n` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes); throws on failure.
std::string random_bytes(std::size_t n);
/// RFC 4648 §5 base64url without padding.
std::string base64url(std::string_view bytes);
/// Strict RFC 4648 §5 base64url without padding: nullopt for any other character, a length that
/// leaves 1 character over, or unused trailing bits that are not zero (one text per byte string).
std::optional<std::string> base64url_decode(std::string_view text);
/// Standard base64 with padding (RFC 4648 §4).
std::string base64(std::string_view bytes);
/// Lowercase hex.
std::string hex(std::span<const std::uint8_t> bytes);
/// The value of one hex digit (either case), or -1 when `c` is not one.
int hex_digit_value(char c) noexcept;
/// A random UUID, version 4 (RFC 9562 §5.4), lowercase.
std::string uuid_v4();
/// True for a lowercase RFC 9562 UUID text (any version).
bool is_uuid(std::string_view text) noexcept;
/// SHA-256.
std::array<std::uint8_t, 32> sha256(std::string_view data);
/// Constant-time equality of two equal-length byte strings (CRYPTO_memcmp).
bool equal_ct(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

/// A partner API key: "pg_live_" or "pg_test_" + prefix (8 base64url chars, public) + "_" + secret
/// (43 base64url chars, 256 random bits). Only the prefix and SHA-256 of the whole key are stored.
/// Keys made before modes existed read "pgk_<prefix>_<secret>" and are live keys.
struct ApiKey {
  std::string text;
  std::string prefix;
  std::array<std::uint8_t, 32> hash{};
};
ApiKey new_api_key(Mode mode = Mode::kLive);
/// What a well-formed key says of itself: its public prefix and its mode.
struct ParsedKey {
  std::string prefix;
  Mode mode = Mode::kLive;
};
/// The prefix and mode of a well-formed key (pg_live_, pg_test_ or the legacy pgk_), or nullopt
/// (wrong tag, length, separator or alphabet).
std::optional<ParsedKey> parse_api_key(std::string_view key) noexcept;
/// The prefix of a well-formed key, or nullopt.
std::optional<std::string> api_key_prefix(std::string_view key) noexcept;

/// A 32-byte key that seals stored secrets (the data directory's master.key).
using MasterKey = std::array<std::uint8_t, 32>;
/// AES-256-GCM: 12-byte random nonce || ciphertext || 16-byte tag, with `context` as associated
/// data (e.g. the client id) so a sealed value cannot be moved to another row.
std::string seal(const MasterKey& key, std::string_view plaintext, std::string_view context);
/// The plaintext, or nullopt when the tag, context or key do not match.
std::optional<std::string> unseal(const MasterKey& key, std::string_view sealed,
                                  std::string_view context);

}  // namespace pg::core
