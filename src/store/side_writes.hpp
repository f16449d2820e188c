// What an adapter of another port sharing a store's connection (the circuit lifecycle's) may write
// inside that store's transaction: audit entries and outbox events, by the store's own code, so
// they stay one format whoever writes them.
#pragma once

#include <functional>

#include "core/audit.hpp"
#include "core/outbox.hpp"

namespace pg::store {

struct SideWrites {
  std::function<void(const core::AuditEntry&)> audit;
  std::function<void(const core::OutboxEvent&, core::UnixMillis due)> event;
};

}  // namespace pg::store
