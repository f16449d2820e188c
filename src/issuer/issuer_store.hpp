// The issuer node's SQLite store (docs/issuers.md, "What the issuer node stores"): the tree's
// leaves, the signed feed, the audit trail and the signing keys, one file in WAL mode with
// synchronous=FULL. Every change of the tree and its feed entry commit in one transaction.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "feed/root_feed.hpp"

namespace pg::issuer {

/// HMAC-SHA256 of a record (and of a code) under the node's pepper: the store never holds a
/// record number or a code in clear.
using Mac = std::array<std::uint8_t, 32>;

/// One row of the leaves table.
struct StoredLeaf {
  std::uint64_t leaf_index = 0;
  std::string leaf;  // decimal; "0" once revoked
  bool padding = false;
  std::string holder_commitment;  // decimal; empty for padding
  std::int64_t issued_at = 0;     // Unix ms
  std::int64_t revoked_at = 0;    // 0: active
  std::string credential;         // the credential JSON without its path; empty for padding
  Mac code_mac{};                 // HMAC of the code that released it (a retry shows the same)
};

/// A leaf to append.
struct NewLeaf {
  std::uint64_t leaf_index = 0;
  std::string leaf;  // decimal
  bool padding = false;
  Mac subject{};  // credentials only
  Mac code_mac{};
  std::string holder_commitment;
  std::string credential;
};

struct AuditRecord {
  std::int64_t at = 0;
  std::string actor, action, target, detail;
};

struct KeyRecord {
  std::string key_id, public_key;  // public_key: base64url raw
  std::int64_t created_at = 0;
  std::int64_t retired_after = 0;  // 0: the current key
};

/// One change of the tree: leaves appended and/or one leaf revoked, the feed entry with the new
/// root, and what goes with it (an audit record, a new signing key).
struct TreeChange {
  std::vector<NewLeaf> appended;
  std::optional<std::uint64_t> revoked;
  std::int64_t at = 0;
  feed::FeedEntry entry;
  std::optional<AuditRecord> audit;
  std::optional<KeyRecord>
      new_key;  // the current key becomes retired after its previous_valid_until
};

/// Thread-safe (one connection behind a mutex). Throws core::StoreError on any failure.
class IssuerStore {
 public:
  /// Opens (or creates) the database file and applies the migrations it lacks.
  explicit IssuerStore(const std::filesystem::path& file);
  ~IssuerStore();
  IssuerStore(const IssuerStore&) = delete;
  IssuerStore& operator=(const IssuerStore&) = delete;

  /// Every leaf value in index order (revoked ones as "0"), to rebuild the tree.
  std::vector<std::string> leaf_values();
  std::optional<StoredLeaf> leaf(std::uint64_t index);
  std::optional<StoredLeaf> find_credential(const Mac& subject, std::string_view holder_commitment);
  /// Credentials (not padding) after `after` (exclusive; -1 for all), at most `limit`.
  std::vector<StoredLeaf> list_credentials(std::int64_t after, std::size_t limit);
  /// Credentials, and among them the revoked ones.
  std::pair<std::uint64_t, std::uint64_t> credential_counts();

  std::optional<feed::FeedEntry> last_entry();
  /// Entries with seq > `since`, in seq order, at most `limit`.
  std::vector<feed::FeedEntry> entries_since(std::uint64_t since, std::size_t limit);
  bool root_published(std::string_view root);

  /// Appends the genesis entry when the feed is empty; false when it was not.
  bool append_genesis(const feed::FeedEntry& entry);
  /// The change in one transaction; throws (and writes nothing) when any part fails, e.g. a
  /// leaf index or root that exists already.
  void commit(const TreeChange& change);

  void record_audit(const AuditRecord& record);
  std::vector<AuditRecord> audit_trail(std::size_t limit);

  std::vector<KeyRecord> keys();
  void insert_key(const KeyRecord& key);

 private:
  struct Connection;
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace pg::issuer
