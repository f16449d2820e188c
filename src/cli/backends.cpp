// Storage and cache selection (see backends.hpp).
#include "cli/backends.hpp"

#include <stdexcept>

#include "cache/memory/memory_cache.hpp"
#include "cache/redis/redis_cache.hpp"
#include "cli/data_dir.hpp"
#include "store/postgres/postgres_lifecycle.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_lifecycle.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::cli {

Backends open_backends(const Settings& s, const core::Clock& clock, bool with_cache) {
  Backends b;
  const std::string& database_url = s.database_url;
  const std::string& key_file = s.master_key_file;
  if (database_url.empty()) {
    DataDir d =
        open_data_dir(s.data_dir, s.sqlite_synchronous,
                      key_file.empty() ? std::filesystem::path() : std::filesystem::path(key_file));
    std::shared_ptr<store::SqliteStore> sqlite(std::move(d.store));
    b.store = sqlite.get();
    b.outbox = sqlite.get();
    b.audit = sqlite.get();
    b.sweep = sqlite.get();
    b.lifecycle = std::make_shared<store::SqliteLifecycleStore>(*sqlite);
    b.owner = sqlite;
    b.master_key = d.master_key;
    b.data_dir = d.dir;
    b.storage_name = "sqlite";
    b.metrics = [sqlite = sqlite.get()] {
      const auto c = sqlite->commit_stats();
      return "# HELP proofgate_sqlite_commit_groups_total SQLite transactions of group commit "
             "(one fsync each with synchronous=FULL).\n"
             "# TYPE proofgate_sqlite_commit_groups_total counter\n"
             "proofgate_sqlite_commit_groups_total " +
             std::to_string(c.groups) +
             "\n# HELP proofgate_sqlite_commit_group_writes_total Writes committed by group "
             "commit (divided by the groups: writes per transaction).\n"
             "# TYPE proofgate_sqlite_commit_group_writes_total counter\n"
             "proofgate_sqlite_commit_group_writes_total " +
             std::to_string(c.writes) +
             "\n# HELP proofgate_sqlite_commit_group_failures_total Group commit transactions that "
             "failed as a whole (every write in them answered with the error).\n"
             "# TYPE proofgate_sqlite_commit_group_failures_total counter\n"
             "proofgate_sqlite_commit_group_failures_total " +
             std::to_string(c.failed_groups) +
             "\n# HELP proofgate_sqlite_commit_queue Writes waiting for the next group.\n"
             "# TYPE proofgate_sqlite_commit_queue gauge\n"
             "proofgate_sqlite_commit_queue " +
             std::to_string(c.queued) + "\n";
    };
  } else {
    store::PostgresSettings ps;
    ps.url = database_url;
    ps.pool_size = s.database_pool_size;
    ps.migrate = s.migrate;
    std::shared_ptr<store::PostgresStore> postgres;
    try {
      postgres = std::make_shared<store::PostgresStore>(ps);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("database_url: ") + e.what());
    }
    b.store = postgres.get();
    b.outbox = postgres.get();
    b.audit = postgres.get();
    b.sweep = postgres.get();
    b.lifecycle = std::make_shared<store::PostgresLifecycleStore>(*postgres);
    b.owner = postgres;
    b.data_dir = s.data_dir;
    if (key_file.empty()) ensure_private_dir(b.data_dir);  // it holds master.key
    b.master_key = load_master_key(
        key_file.empty() ? b.data_dir / "master.key" : std::filesystem::path(key_file),
        /*create=*/key_file.empty());
    b.storage_name = "postgresql";
    b.maintain = [postgres = postgres.get()] {
      postgres->ensure_partitions();
      postgres->refresh_proof_counts();
    };
  }
  if (with_cache) {
    const std::string& redis_url = s.redis_url;
    if (redis_url.empty()) {
      b.cache = std::make_unique<cache::MemoryCache>(clock);
      b.cache_name = "memory";
    } else {
      cache::RedisSettings rs;
      rs.url = redis_url;
      try {
        b.cache = std::make_unique<cache::RedisCache>(rs);
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string("redis_url: ") + e.what());
      }
      b.cache_name = "redis";
    }
  }
  return b;
}

}  // namespace pg::cli
