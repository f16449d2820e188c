// The issuer node's PostgreSQL schema migrations, embedded at build time (migrations/*.sql).
#pragma once

#include <span>

#include "store/migrations.hpp"

namespace pg::store {

/// Every migration of the issuer schema, in version order.
std::span<const Migration> issuer_postgres_migrations() noexcept;

}  // namespace pg::store
