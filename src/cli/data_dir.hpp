// The embedded default's data directory: 0700, holding the SQLite database (proofgate.db and its
// -wal/-shm, 0600) and the master key (master.key, 0600) that seals stored webhook secrets.
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

/// Creates `dir` (and its parents) when missing; makes it 0700 when group or others have any
/// access, with a warning on stderr. Throws std::runtime_error naming the path: not a directory,
/// cannot be created or narrowed (not the owner).
void ensure_private_dir(const std::filesystem::path& dir);

/// Makes `file` 0600 when group or others have any access (with a warning on stderr); creates it
/// empty and 0600 when missing and `create`, else a missing file is left alone. Throws
/// std::runtime_error naming the file.
void ensure_private_file(const std::filesystem::path& file, bool create);

/// Opens (creating when missing) the data directory: the directory 0700, the database files and
/// the directory's master key 0600 even when they existed with wider modes (narrowed, warned). The
/// master key is `master_key_file` when given (it must exist), else `<dir>/master.key` (created
/// when missing). Throws std::runtime_error naming the path and the problem: not a directory, a
/// master key of the wrong size or mode, a store that fails.
DataDir open_data_dir(const std::filesystem::path& dir, const std::string& synchronous = "FULL",
                      const std::filesystem::path& master_key_file = {});

/// The 32-byte master key in `file`; created 0600 with fresh random bytes when missing and
/// `create`. With `create` (the data directory's own key) a wider mode is narrowed to 0600 with a
/// warning; without (a key file the operator names) it is refused. Throws std::runtime_error
/// naming the file.
core::MasterKey load_master_key(const std::filesystem::path& file, bool create);

}  // namespace pg::cli
