// The signed root feed of docs/issuers.md: its entries, their signing text, Ed25519 keys
// (OpenSSL), strict JSON decoding and the chain rules a follower applies. The issuer node signs
// with it and the verifier checks with it, so both read the same definition.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/result.hpp"

namespace pg::feed {

/// A new signing key announced in the feed (rotation with an overlap).
struct KeyAnnouncement {
  std::string key_id;
  std::string public_key;                 // base64url of the raw 32-byte Ed25519 key
  std::int64_t previous_valid_until = 0;  // ms: the announcing key signs nothing issued after it
  bool operator==(const KeyAnnouncement&) const = default;
};

/// One entry of an issuer's root chain.
struct FeedEntry {
  std::uint32_t issuer_id = 0;
  std::uint64_t seq = 0;
  std::string root;       // canonical decimal field element
  std::string prev_root;  // "0" for seq 1
  std::uint64_t leaf_count = 0;
  std::int64_t issued_at = 0;  // Unix ms
  std::string key_id;          // 16 hex
  std::string signature;       // base64url Ed25519 signature
  std::optional<KeyAnnouncement> next_key;
  bool operator==(const FeedEntry&) const = default;
};

/// The at most this many entries one feed answer carries.
inline constexpr std::size_t kMaxEntriesPerAnswer = 500;

/// The exact text the signature covers (docs/issuers.md, "The signed root feed").
std::string signing_text(const FeedEntry& entry);

boost::json::object to_json(const FeedEntry& entry);
/// Strict: exactly the members of docs/issuers.md, canonical numbers, field elements below r,
/// 16-hex key ids, base64url signature of 64 bytes. The error names the member.
crypto::Result<FeedEntry, std::string> entry_from_json(const boost::json::value& value);

/// A feed answer `{"issuer_id", "entries": [...]}` for `issuer_id`; the error names what is wrong.
crypto::Result<std::vector<FeedEntry>, std::string> parse_feed_answer(std::string_view body,
                                                                      std::uint32_t issuer_id);

/// The first 16 hex digits of SHA-256 of the raw public key.
std::string key_id_of(std::string_view raw_public_key);

/// An Ed25519 private key.
class SigningKey {
 public:
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  static SigningKey generate();
  /// Reads a PEM (PKCS#8) Ed25519 key; the error says why not.
  static crypto::Result<SigningKey, std::string> load(const std::filesystem::path& file);
  /// Writes the key as PEM, mode 0600, by a temporary file and a rename; throws on failure.
  void save(const std::filesystem::path& file) const;

  std::string public_key_raw() const;  // 32 bytes
  std::string public_key_b64() const;  // base64url
  std::string key_id() const;
  /// base64url of the 64-byte signature of `text`.
  std::string sign(std::string_view text) const;

 private:
  explicit SigningKey(void* pkey) : pkey_(pkey) {}
  void* pkey_ = nullptr;  // EVP_PKEY*
};

/// True when `signature_b64` is a valid Ed25519 signature of `text` under the base64url raw key.
bool verify_signature(std::string_view public_key_b64, std::string_view text,
                      std::string_view signature_b64) noexcept;

/// A key a follower trusts for one issuer.
struct TrustedKey {
  std::string key_id;
  std::string public_key;        // base64url raw
  std::int64_t valid_until = 0;  // ms; 0: no end announced
};

/// Why an entry was refused (each a distinct counter in /metrics).
enum class Refusal {
  kWrongIssuer,
  kUnknownKey,
  kKeyRetired,
  kBadSignature,
  kGap,            // seq skips ahead
  kReplay,         // seq at or below the last accepted one
  kFork,           // prev_root is not the last accepted root
  kRootReused,     // the root was a root of this issuer before
  kTimeBackwards,  // issued_at earlier than the last accepted entry's
  kMalformed,
};
std::string_view refusal_name(Refusal refusal) noexcept;

/// What a follower knows of one issuer's chain: the last accepted entry and the trusted keys.
class ChainState {
 public:
  ChainState(std::uint32_t issuer_id, std::vector<TrustedKey> keys)
      : issuer_id_(issuer_id), keys_(std::move(keys)) {}
  /// Resumes after an entry accepted earlier (read back from storage); keys announced before it
  /// must be given in the constructor's list.
  void resume(std::uint64_t seq, std::string root, std::int64_t issued_at);

  struct Verdict {
    std::optional<Refusal> refusal;
    std::string detail;
  };
  /// Checks `entry` against the chain; `root_seen_before` says whether the entry's root was ever
  /// a root of this issuer. On success the state moves to the entry (and trusts an announced key).
  Verdict accept(const FeedEntry& entry, bool root_seen_before);

  std::uint32_t issuer_id() const noexcept { return issuer_id_; }
  std::uint64_t seq() const noexcept { return seq_; }
  const std::string& root() const noexcept { return root_; }
  const std::vector<TrustedKey>& keys() const noexcept { return keys_; }

 private:
  std::uint32_t issuer_id_;
  std::vector<TrustedKey> keys_;
  std::uint64_t seq_ = 0;
  std::string root_ = "0";
  std::int64_t issued_at_ = 0;
};

}  // namespace pg::feed
