// The audit trail's batch archiving both stores share (audit_batches.hpp).
#include "store/audit_batches.hpp"

#include "store/store_error.hpp"

namespace pg::store {

AuditArchive archive_without_entry(
    const std::function<void(const std::vector<core::AuditEntry>&)>& archive,
    std::string_view store) {
  if (!archive) fail_store(store, "take_audit_before", "no archive callback");
  return [&archive](const std::vector<core::AuditEntry>& rows) {
    archive(rows);
    return std::optional<core::AuditEntry>();
  };
}

AuditArchive archive_with_entry(
    const std::function<core::AuditEntry(const std::vector<core::AuditEntry>&)>& archive,
    std::string_view store) {
  if (!archive) fail_store(store, "archive_audit_before", "no archive callback");
  return [&archive](const std::vector<core::AuditEntry>& rows) {
    return std::optional<core::AuditEntry>(archive(rows));
  };
}

std::size_t take_audit_batches(std::size_t batch, std::string_view store,
                               const std::function<std::size_t()>& take_batch) {
  if (batch == 0) fail_store(store, "take_audit_before", "batch must be at least 1");
  std::size_t taken = 0;
  for (;;) {
    const std::size_t rows = take_batch();
    taken += rows;
    if (rows < batch) return taken;
  }
}

}  // namespace pg::store
