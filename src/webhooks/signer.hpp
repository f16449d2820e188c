// Webhook signatures: the Standard Webhooks scheme (webhook-id, webhook-timestamp,
// webhook-signature: "v1,<base64 HMAC-SHA256 of id.timestamp.body>", one entry per live secret,
// space-separated; https://www.standardwebhooks.com/) and the blueprint's body-only
// "sha256=<hex HMAC-SHA256 of the body>" for receivers on that convention.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pg::webhooks {

/// The HMAC key of a "whsec_<base64>" secret (the Standard Webhooks serialisation), or nullopt
/// when the prefix is missing, the base64 is malformed, or the key is shorter than 24 bytes.
std::optional<std::string> decode_secret(std::string_view secret);

/// A new secret: "whsec_" + base64 of 32 random bytes.
std::string new_secret();

/// "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>".
std::string sign_v1(std::string_view key, std::string_view id, std::int64_t timestamp,
                    std::string_view body);

/// "sha256=<hex HMAC-SHA256(key, body)>".
std::string sign_body_sha256(std::string_view key, std::string_view body);

/// The headers of one delivery attempt signed with every key in `keys` (current first; during a
/// rotation's overlap the previous one too): webhook-id, webhook-timestamp, webhook-signature
/// (one v1 entry per key) and X-Proofgate-Signature (sha256=, one entry per key, comma-separated).
std::vector<std::pair<std::string, std::string>> signed_headers(
    const std::vector<std::string>& keys, std::string_view id, std::int64_t timestamp,
    std::string_view body);

/// True when one v1 entry of `signature_header` matches (constant-time) and |now - timestamp|
/// is at most `tolerance_s` — what a receiver does; used by tests and `proofgate admin`.
bool verify_v1(std::string_view key, std::string_view id, std::string_view timestamp,
               std::string_view body, std::string_view signature_header, std::int64_t now,
               std::int64_t tolerance_s = 300);

}  // namespace pg::webhooks
