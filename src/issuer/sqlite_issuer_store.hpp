// The issuer node's default store: one SQLite file in the data directory (WAL, synchronous=FULL).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "issuer/issuer_store.hpp"

namespace pg::issuer {

/// One connection behind a mutex.
class SqliteIssuerStore final : public IssuerStore {
 public:
  /// Opens (or creates) the database file and applies the migrations it lacks.
  explicit SqliteIssuerStore(const std::filesystem::path& file);
  ~SqliteIssuerStore() override;

  std::vector<std::string> leaf_values() override;
  std::optional<StoredLeaf> leaf(std::uint64_t index) override;
  std::optional<StoredLeaf> find_credential(const Mac& subject,
                                            std::string_view holder_commitment) override;
  std::vector<StoredLeaf> list_credentials(std::int64_t after, std::size_t limit) override;
  std::pair<std::uint64_t, std::uint64_t> credential_counts() override;
  std::optional<feed::FeedEntry> last_entry() override;
  std::vector<feed::FeedEntry> entries_since(std::uint64_t since, std::size_t limit) override;
  bool root_published(std::string_view root) override;
  bool append_genesis(const feed::FeedEntry& entry) override;
  void commit(const TreeChange& change) override;
  void record_audit(const AuditRecord& record) override;
  std::vector<AuditRecord> audit_trail(std::size_t limit) override;
  std::vector<AuditRow> audit_page(std::int64_t before, std::size_t limit) override;
  std::vector<KeyRecord> keys() override;
  void insert_key(const KeyRecord& key) override;

 private:
  struct Connection;
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace pg::issuer
