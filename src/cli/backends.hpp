// Choosing the storage and cache a process runs on: the embedded default (SQLite in the data
// directory, an in-process cache) or production (PostgreSQL from database_url, Redis from
// redis_url). The composition root calls this; everything else sees only the core ports.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "cli/config.hpp"
#include "core/audit.hpp"
#include "core/lifecycle.hpp"
#include "core/outbox.hpp"
#include "core/ports.hpp"
#include "core/secrets.hpp"
#include "core/sweep.hpp"

namespace pg::cli {

struct Backends {
  std::shared_ptr<void> owner;  // keeps the store object alive
  core::Store* store = nullptr;
  core::OutboxStore* outbox = nullptr;              // the same object as store
  core::AuditStore* audit = nullptr;                // the same object as store
  core::SweepStore* sweep = nullptr;                // the same object as store
  std::shared_ptr<core::LifecycleStore> lifecycle;  // approvals and circuit states, on store
  std::unique_ptr<core::Cache> cache;               // only when asked for
  core::MasterKey master_key{};
  std::filesystem::path data_dir;  // demo files, and the master key unless master_key_file
  std::string storage_name;        // "sqlite" | "postgresql"
  std::string cache_name;          // "memory" | "redis"
  /// Periodic upkeep of the storage (PostgreSQL: proof partitions ahead, the daily-counts view);
  /// empty when the storage needs none. Throws core::StoreError when it fails.
  std::function<void()> maintain;
  /// The storage's own metrics (Prometheus text; SQLite: group commit), empty when it has none.
  std::function<std::string()> metrics;
};

/// Opens what the settings name: `database_url` set → PostgreSQL (migrated at open when the
/// `migrate` setting is true), else SQLite in `data_dir` (created 0700; always migrated); with
/// `with_cache`, `redis_url` set → Redis, else the in-process cache. The master key comes from
/// `master_key_file`, else `<data_dir>/master.key` (created when missing; every instance of a
/// deployment must use the same one). Throws std::runtime_error naming the setting and the problem.
Backends open_backends(const Settings& s, const core::Clock& clock, bool with_cache);

}  // namespace pg::cli
