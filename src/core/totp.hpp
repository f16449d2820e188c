// One-time codes for admin sign-in: HOTP (RFC 4226) and TOTP (RFC 6238) over OpenSSL's HMAC with
// SHA-1 or SHA-256, base32 secrets (RFC 4648 §6) and otpauth:// URIs for authenticator apps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pg::core {

enum class TotpAlgorithm { kSha1, kSha256 };

/// "SHA1" or "SHA256" (the otpauth URI's spelling).
std::string_view totp_algorithm_name(TotpAlgorithm a) noexcept;
/// The algorithm named "SHA1" / "SHA256" (either case), or nullopt.
std::optional<TotpAlgorithm> totp_algorithm_from_name(std::string_view name) noexcept;

/// RFC 4648 §6 base32, uppercase, without padding.
std::string base32(std::string_view bytes);
/// Base32 (either case, '=' padding and spaces ignored); nullopt for any other character.
std::optional<std::string> base32_decode(std::string_view text);

/// RFC 4226 §5.3: the `digits`-digit (6..9) code of `key` at `counter`, zero-padded.
std::string hotp(std::string_view key, std::uint64_t counter, int digits, TotpAlgorithm algorithm);

/// The RFC 6238 time step of `unix_seconds` (T0 = 0, X = 30 s).
inline constexpr std::int64_t kTotpStepSeconds = 30;
constexpr std::int64_t totp_step(std::int64_t unix_seconds) noexcept {
  return unix_seconds / kTotpStepSeconds;
}

/// The step within ±1 of now's whose 6-digit code is `code`, and which is later than
/// `last_used_step` (a step already used is a replay), or nullopt. Compares in constant time.
std::optional<std::int64_t> totp_match(std::string_view key, TotpAlgorithm algorithm,
                                       std::string_view code, std::int64_t unix_seconds,
                                       std::int64_t last_used_step);

/// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=...&digits=6&period=30
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view key,
                        TotpAlgorithm algorithm);

}  // namespace pg::core
