// take_audit_before and archive_audit_before written once for both stores: the callbacks' checks
// and the batch loop; each adapter only runs one batch's SQL in one transaction.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/audit.hpp"

namespace pg::store {

/// What a batch's archive gives back: an audit entry to write with the batch's deletion, or none.
using AuditArchive =
    std::function<std::optional<core::AuditEntry>(const std::vector<core::AuditEntry>&)>;

/// take_audit_before's callback as an AuditArchive; throws core::StoreError when it is empty.
AuditArchive archive_without_entry(
    const std::function<void(const std::vector<core::AuditEntry>&)>& archive,
    std::string_view store);
/// archive_audit_before's callback as an AuditArchive; throws core::StoreError when it is empty.
AuditArchive archive_with_entry(
    const std::function<core::AuditEntry(const std::vector<core::AuditEntry>&)>& archive,
    std::string_view store);

/// Runs `take_batch` (one transaction: select at most `batch` of the oldest entries, archive,
/// delete; returns how many it took) until a batch comes back short. Returns the total. Throws
/// core::StoreError when batch is 0.
std::size_t take_audit_batches(std::size_t batch, std::string_view store,
                               const std::function<std::size_t()>& take_batch);

}  // namespace pg::store
