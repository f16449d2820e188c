// The PostgreSQL schema migrations embedded into the library at build time (migrations/*.sql).
#pragma once

#include <span>

#include "store/migrations.hpp"

namespace pg::store {

/// Every migration the binary knows, in version order.
std::span<const Migration> postgres_migrations() noexcept;

}  // namespace pg::store
