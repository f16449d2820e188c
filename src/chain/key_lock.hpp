// One run per signing key: the commands that send transactions (`chain deploy`, `chain
// publish-roots`) hold an exclusive flock(2) on "<key-file>.lock" for their whole run, so two runs
// with one key (an overlapping timer, a manual run during the timer's) never pick the same nonce.
#pragma once

#include <string>

#include "chain/error.hpp"

namespace pg::chain {

/// Why a lock was not taken: another process holds it (try later), or the lock file cannot be
/// opened at all (an input problem: the key file's directory, a symlink in its place).
enum class KeyLockRefusal { kHeld, kUnavailable };

struct KeyLockError {
  KeyLockRefusal reason = KeyLockRefusal::kUnavailable;
  Error error;  // what = "--key-file"; names the lock file, never anything of the key
};

class KeyLock {
 public:
  /// Opens (creating it 0600 when absent; never through a symlink) "<key_file>.lock" and takes an
  /// exclusive flock without waiting. Held by another open file description, in this process or
  /// another: kHeld, "another run holds <key_file>.lock". The lock is released when the KeyLock is
  /// destroyed or the process ends; the file stays (removing it would race a waiting run).
  static crypto::Result<KeyLock, KeyLockError> acquire(const std::string& key_file);

  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;
  KeyLock(KeyLock&& other) noexcept;
  KeyLock& operator=(KeyLock&& other) noexcept;
  ~KeyLock();

  const std::string& path() const noexcept { return path_; }

 private:
  KeyLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace pg::chain
