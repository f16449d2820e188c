// The PostgreSQL schema migrations embedded into the library at build time (migrations/*.sql).
#pragma once

#include <span>
#include <string_view>

namespace pg::store {

/// One forward-only schema step: migrations/NNNN_name.sql, applied in one transaction.
struct PostgresMigration {
  int version;            // NNNN of the file name: 1, 2, 3, ... without gaps
  std::string_view name;  // the file name
  std::string_view sql;   // the file's statements
};

/// Every migration the binary knows, in version order.
std::span<const PostgresMigration> postgres_migrations() noexcept;

}  // namespace pg::store
