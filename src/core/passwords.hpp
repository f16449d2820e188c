// Admin passwords: argon2id (RFC 9106) through Debian's libargon2, kept as the encoded string
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash) so the cost travels with each hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pg::core {

/// argon2id cost: memory in KiB, passes, lanes. The default (19 MiB, 2 passes, 1 lane) is
/// OWASP's minimum for argon2id and takes ~30 ms on one core of the development machine; tests use
/// kTestPasswordCost.
struct PasswordCost {
  std::uint32_t memory_kib = 19 * 1024;
  std::uint32_t passes = 2;
  std::uint32_t lanes = 1;
};
inline constexpr PasswordCost kTestPasswordCost{64, 1, 1};

inline constexpr std::size_t kMinPasswordLength = 12;
inline constexpr std::size_t kMaxPasswordLength = 1024;

/// The encoded argon2id hash of `password` with a random 16-byte salt. Throws on failure.
std::string hash_password(std::string_view password, const PasswordCost& cost);
/// True when `password` matches `encoded` (argon2id_verify); false for any malformed `encoded`.
bool verify_password(std::string_view encoded, std::string_view password) noexcept;

}  // namespace pg::core
