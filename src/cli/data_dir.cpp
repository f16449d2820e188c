// Opening the data directory (see data_dir.hpp).
#include "cli/data_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "log/log.hpp"

namespace pg::cli {

namespace fs = std::filesystem;

namespace {

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

/// One JSON line on stderr: an operator should know that a secret file was readable by others.
void warn_narrowed(const fs::path& path, mode_t was, mode_t now) {
  log::warn("narrowed the permissions (group or others had access)",
            {{"path", path.string()}, {"was", octal(was)}, {"now", octal(now)}});
}

/// Narrows the open file or directory `fd` (at `path`) to `mode` when group or others have any
/// access. fchmod on the descriptor: the object checked is the object changed.
void narrow(int fd, const fs::path& path, mode_t mode) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw std::runtime_error(path.string() + ": cannot stat: " + std::strerror(errno));
  if ((st.st_mode & 077) == 0) return;
  if (::fchmod(fd, mode) != 0) {
    throw std::runtime_error(path.string() + ": is " + octal(st.st_mode) + " and cannot be made " +
                             octal(mode) + ": " + std::strerror(errno));
  }
  warn_narrowed(path, st.st_mode, mode);
}

}  // namespace

void ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error(dir.string() + ": cannot create: " + ec.message());
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOTDIR) throw std::runtime_error(dir.string() + ": not a directory");
    throw std::runtime_error(dir.string() + ": cannot open: " + std::strerror(errno));
  }
  try {
    narrow(fd, dir, 0700);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void ensure_private_file(const fs::path& file, bool create) {
  const int flags = O_RDONLY | O_CLOEXEC | (create ? O_CREAT : 0);
  const int fd = ::open(file.c_str(), flags, 0600);
  if (fd < 0) {
    if (errno == ENOENT && !create) return;
    throw std::runtime_error(file.string() + ": cannot open: " + std::strerror(errno));
  }
  try {
    narrow(fd, file, 0600);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

core::MasterKey load_master_key(const fs::path& file, bool create) {
  core::MasterKey key{};
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    const std::string bytes = core::random_bytes(key.size());
    fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      throw std::runtime_error(file.string() + ": cannot create: " + std::strerror(errno));
    const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error(file.string() + ": cannot write the master key");
    std::memcpy(key.data(), bytes.data(), key.size());
    return key;
  }
  if (fd < 0) throw std::runtime_error(file.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw std::runtime_error(file.string() + ": cannot stat: " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    // The data directory's own key is narrowed; a key file the operator names is the operator's
    // to fix (it may be mounted read-only), so it is refused.
    if (!create) {
      ::close(fd);
      throw std::runtime_error(file.string() + ": must be readable by its owner only (chmod 600)");
    }
    try {
      narrow(fd, file, 0600);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  const ssize_t n = ::read(fd, key.data(), key.size());
  char extra;
  const ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size()) || more != 0) {
    throw std::runtime_error(file.string() + ": must hold exactly 32 bytes");
  }
  return key;
}

DataDir open_data_dir(const fs::path& dir, const std::string& synchronous,
                      const fs::path& master_key_file) {
  ensure_private_dir(dir);
  DataDir d;
  d.dir = dir;
  d.master_key = master_key_file.empty() ? load_master_key(dir / "master.key", true)
                                         : load_master_key(master_key_file, false);
  store::SqliteSettings settings;
  settings.path = dir / "proofgate.db";
  settings.synchronous = synchronous;
  // SQLite creates the database 0644 (less the umask) and gives its -wal and -shm files the
  // database file's mode (sqlite3.c, robust_open and findCreateFileMode): so the database is
  // created 0600 here, and existing files narrowed, before SQLite opens them.
  ensure_private_file(settings.path, /*create=*/true);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    ensure_private_file(settings.path.string() + suffix, /*create=*/false);
  }
  d.store = std::make_unique<store::SqliteStore>(settings);
  return d;
}

}  // namespace pg::cli
