// The issuer node's store port (docs/issuers.md, "What the issuer node stores"): the tree's leaves,
// the signed feed, the audit trail and the signing keys. Two adapters: SQLite in the data
// directory (sqlite_issuer_store.hpp, the default) and PostgreSQL
// (postgres/postgres_issuer_store.hpp). Every change of the tree and its feed entry commit in one
// transaction.
#pragma once

#include <array>
#include <cstdint>
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

/// One audit record with its row id, the cursor of the admin audit list.
struct AuditRow {
  std::int64_t id = 0;
  AuditRecord record;
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

/// What every adapter guarantees: thread-safe; a leaf index, a feed seq and a root are written at
/// most once (the schema refuses a second write); commit() writes all of a TreeChange or nothing.
/// Throws core::StoreError on any failure.
class IssuerStore {
 public:
  virtual ~IssuerStore() = default;
  IssuerStore() = default;
  IssuerStore(const IssuerStore&) = delete;
  IssuerStore& operator=(const IssuerStore&) = delete;

  /// Every leaf value in index order (revoked ones as "0"), to rebuild the tree.
  virtual std::vector<std::string> leaf_values() = 0;
  virtual std::optional<StoredLeaf> leaf(std::uint64_t index) = 0;
  virtual std::optional<StoredLeaf> find_credential(const Mac& subject,
                                                    std::string_view holder_commitment) = 0;
  /// Credentials (not padding) after `after` (exclusive; -1 for all), at most `limit`.
  virtual std::vector<StoredLeaf> list_credentials(std::int64_t after, std::size_t limit) = 0;
  /// Credentials, and among them the revoked ones.
  virtual std::pair<std::uint64_t, std::uint64_t> credential_counts() = 0;

  virtual std::optional<feed::FeedEntry> last_entry() = 0;
  /// Entries with seq > `since`, in seq order, at most `limit`.
  virtual std::vector<feed::FeedEntry> entries_since(std::uint64_t since, std::size_t limit) = 0;
  virtual bool root_published(std::string_view root) = 0;

  /// Appends the genesis entry when the feed is empty; false when it was not.
  virtual bool append_genesis(const feed::FeedEntry& entry) = 0;
  /// The change in one transaction; throws (and writes nothing) when any part fails, e.g. a
  /// leaf index or root that exists already.
  virtual void commit(const TreeChange& change) = 0;

  virtual void record_audit(const AuditRecord& record) = 0;
  /// The newest `limit` records, newest first.
  virtual std::vector<AuditRecord> audit_trail(std::size_t limit) = 0;
  /// Records with id < `before` (newest first), at most `limit`: one page of the admin audit list.
  virtual std::vector<AuditRow> audit_page(std::int64_t before, std::size_t limit) = 0;

  /// In the order they were inserted.
  virtual std::vector<KeyRecord> keys() = 0;
  virtual void insert_key(const KeyRecord& key) = 0;
};

}  // namespace pg::issuer
