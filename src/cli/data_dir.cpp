// Opening the data directory (see data_dir.hpp).
#include "cli/data_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace pg::cli {

namespace fs = std::filesystem;

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
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    throw std::runtime_error(file.string() + ": must be readable by its owner only (chmod 600)");
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
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error(dir.string() + ": cannot create: " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  } else if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(dir.string() + ": not a directory");
  }
  DataDir d;
  d.dir = dir;
  d.master_key = master_key_file.empty() ? load_master_key(dir / "master.key", true)
                                         : load_master_key(master_key_file, false);
  store::SqliteSettings settings;
  settings.path = dir / "proofgate.db";
  settings.synchronous = synchronous;
  d.store = std::make_unique<store::SqliteStore>(settings);
  return d;
}

}  // namespace pg::cli
