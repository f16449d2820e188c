// A schema migration embedded into a storage adapter at build time: what both adapters' generated
// migrations.cpp hold (pg_embed_migrations in src/store/CMakeLists.txt writes them).
#pragma once

#include <string_view>

namespace pg::store {

/// One forward-only schema step: migrations/NNNN_name.sql, applied in one transaction.
struct Migration {
  int version;            // NNNN of the file name: 1, 2, 3, ... without gaps
  std::string_view name;  // the file name
  std::string_view sql;   // the file's statements
};

}  // namespace pg::store
