// The per-key run lock: flock(2) on "<key-file>.lock".
#include "chain/key_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pg::chain {

crypto::Result<KeyLock, KeyLockError> KeyLock::acquire(const std::string& key_file) {
  std::string path = key_file + ".lock";
  const auto refused = [&](KeyLockRefusal reason, const std::string& why) {
    return KeyLockError{reason, Error{"--key-file", why}};
  };
  // O_NOFOLLOW: a symlink planted at the lock's name must not make us create or open a file
  // elsewhere. The file holds nothing; 0600 keeps others from taking the lock to stall the runs.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return refused(KeyLockRefusal::kUnavailable,
                   "cannot open the run lock " + path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return refused(KeyLockRefusal::kUnavailable, "the run lock " + path + " is not a regular file");
  }
  int rc = 0;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return refused(KeyLockRefusal::kHeld, "another run holds " + path);
    return refused(KeyLockRefusal::kUnavailable, "cannot lock " + path + ": " + std::strerror(err));
  }
  return KeyLock(fd, std::move(path));
}

KeyLock::KeyLock(KeyLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

KeyLock& KeyLock::operator=(KeyLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

KeyLock::~KeyLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace pg::chain
