// The embedded default's data directory: created 0700 on first use, holding the SQLite database
// (proofgate.db) and the master key (master.key, 0600) that seals stored webhook secrets.
#pragma once

#include <filesystem>
#include <memory>

#include "core/secrets.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace pg::cli {

struct DataDir {
  std::filesystem::path dir;
  core::MasterKey master_key{};
  std::unique_ptr<store::SqliteStore> store;
};

/// Opens (creating when missing) the data directory. The master key is `master_key_file` when
/// given (it must exist), else `<dir>/master.key` (created when missing). Throws
/// std::runtime_error naming the path and the problem: not a directory, a master key of the wrong
/// size or mode, a store that fails.
DataDir open_data_dir(const std::filesystem::path& dir, const std::string& synchronous = "FULL",
                      const std::filesystem::path& master_key_file = {});

/// The 32-byte master key in `file` (mode 0600 or stricter); created with fresh random bytes when
/// missing and `create`. Throws std::runtime_error naming the file.
core::MasterKey load_master_key(const std::filesystem::path& file, bool create);

}  // namespace pg::cli
