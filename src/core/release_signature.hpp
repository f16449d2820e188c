// Release signatures of circuit manifests (docs/ceremony.md, "Release signatures"): the signed
// text, the manifest.sig format, release public keys and the check the catalog makes at load.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/artifacts.hpp"
#include "crypto/result.hpp"

namespace pg::core {

/// The file beside manifest.json that holds its signature.
inline constexpr std::string_view kManifestSignatureFile = "manifest.sig";
/// Domain separation: a release signature can never be taken for a signature of anything else.
inline constexpr std::string_view kManifestSigningPrefix = "proofgate.manifest.v1\n";
/// The largest manifest.sig read (a well-formed one is about 150 bytes).
inline constexpr std::size_t kMaxManifestSignatureBytes = 4096;

/// The exact bytes a release signature covers: kManifestSigningPrefix + the manifest file's
/// bytes, unchanged (no JSON canonicalisation: the file is what the wallet downloads).
std::string manifest_signing_text(std::string_view manifest_bytes);

/// A release public key: base64url of the raw 32-byte Ed25519 key and its id (the first 16 hex
/// digits of SHA-256 of the raw key, as the root feed's key ids).
struct ReleaseKey {
  std::string key_id;
  std::string public_key;
  bool operator==(const ReleaseKey&) const = default;
};
/// The id of a raw 32-byte public key.
std::string release_key_id(std::string_view raw_public_key);
/// A key from its base64url text; the error says what is wrong with it.
crypto::Result<ReleaseKey, std::string> release_key_of(std::string_view public_key_b64);
/// The keys of a comma-separated list (the release_public_keys setting); empty text gives none.
/// The error names the entry (1-based) and what is wrong.
crypto::Result<std::vector<ReleaseKey>, std::string> parse_release_keys(std::string_view list);

/// The contents of manifest.sig: {"alg":"Ed25519","key_id":"<16 hex>","signature":"<base64url>"}.
struct ManifestSignature {
  std::string alg;
  std::string key_id;
  std::string signature;  // base64url of the 64-byte signature
};
/// Strict: a JSON object with exactly those members, alg "Ed25519", key_id 16 lowercase hex,
/// signature base64url of 64 bytes. The error names the member.
crypto::Result<ManifestSignature, std::string> parse_manifest_signature(std::string_view text);
/// manifest.sig's text for a signature (one line, newline-terminated).
std::string manifest_signature_json(std::string_view key_id, std::string_view signature_b64);

/// True when `signature` (64 raw bytes) is a valid Ed25519 (RFC 8032, pure) signature of
/// `message` under the raw 32-byte `public_key`; false for any other size or a failure.
bool verify_ed25519_raw(std::string_view public_key, std::string_view message,
                        std::string_view signature) noexcept;
/// The same with the key and the signature in base64url.
bool verify_ed25519(std::string_view public_key_b64, std::string_view message,
                    std::string_view signature_b64) noexcept;

/// Why a manifest's signature was refused.
enum class SignatureRefusal {
  kMissing,       // no manifest.sig
  kMalformed,     // manifest.sig is not the format above
  kUnknownKey,    // its key_id is none of the trusted keys
  kBadSignature,  // it does not verify under that key
};
struct SignatureError {
  SignatureRefusal reason;
  std::string message;
};
/// Checks `signature_text` (manifest.sig, nullopt when absent) over `manifest_bytes` against the
/// trusted `keys`; the id of the key it verifies under, or why not.
crypto::Result<std::string, SignatureError> check_manifest_signature(
    std::string_view manifest_bytes, const std::optional<std::string>& signature_text,
    std::span<const ReleaseKey> keys);

/// The catalog's hook: with no trusted keys, "" (signatures are not checked); otherwise the id of
/// the key the version's manifest.sig verifies under. Throws std::runtime_error naming the
/// manifest.sig's place and the problem when it is missing, malformed or does not verify.
std::string require_release_signature(const ArtifactSource& source, std::string_view claim_type,
                                      std::string_view version, std::string_view manifest_bytes,
                                      std::span<const ReleaseKey> keys);

}  // namespace pg::core
