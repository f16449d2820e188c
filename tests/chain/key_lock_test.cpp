// The per-key run lock (review F6): a second holder is refused at once naming the lock file, the
// file is created 0600 beside the key, released with its holder, and never opened through a
// symlink.
#include "chain/key_lock.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pg::chain {
namespace {

namespace fs = std::filesystem;

class KeyLockForDeployAndPublish : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pg-key-lock-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    key_ = (dir_ / "owner.key").string();
    std::ofstream(key_) << "not read by the lock\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string key_;
};

TEST_F(KeyLockForDeployAndPublish, ASecondHolderIsRefusedAtOnceUntilTheFirstReleases) {
  {
    auto first = KeyLock::acquire(key_);
    ASSERT_TRUE(first) << first.error().error.to_string();
    EXPECT_EQ(first->path(), key_ + ".lock");
    struct stat st {};
    ASSERT_EQ(::stat((key_ + ".lock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    // flock conflicts between two open file descriptions, so this process stands in for a
    // second run.
    const auto second = KeyLock::acquire(key_);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().reason, KeyLockRefusal::kHeld);
    EXPECT_EQ(second.error().error.to_string(), "--key-file: another run holds " + key_ + ".lock");

    // and so does another process
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      const auto r = KeyLock::acquire(key_);
      ::_exit(!r && r.error().reason == KeyLockRefusal::kHeld ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child took the lock";

    // a moved lock is still held
    KeyLock moved = std::move(*first);
    EXPECT_FALSE(KeyLock::acquire(key_));
  }
  // released with its holder; the file stays
  auto again = KeyLock::acquire(key_);
  EXPECT_TRUE(again);
  EXPECT_TRUE(fs::exists(key_ + ".lock"));
}

TEST_F(KeyLockForDeployAndPublish, AnotherKeyHasItsOwnLock) {
  auto first = KeyLock::acquire(key_);
  ASSERT_TRUE(first);
  const std::string other = (dir_ / "other.key").string();
  auto second = KeyLock::acquire(other);
  EXPECT_TRUE(second);
}

TEST_F(KeyLockForDeployAndPublish, NeverOpensTheLockThroughASymlink) {
  const fs::path elsewhere = dir_ / "elsewhere";
  fs::create_symlink(elsewhere, key_ + ".lock");
  const auto r = KeyLock::acquire(key_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, KeyLockRefusal::kUnavailable);
  EXPECT_NE(r.error().error.message.find(key_ + ".lock"), std::string::npos);
  EXPECT_FALSE(fs::exists(elsewhere));  // nothing created at the link's target
}

TEST_F(KeyLockForDeployAndPublish, AMissingDirectoryIsAnInputProblemNotAHeldLock) {
  const auto r = KeyLock::acquire((dir_ / "no-such-dir" / "owner.key").string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, KeyLockRefusal::kUnavailable);
  EXPECT_EQ(r.error().error.what, "--key-file");
}

}  // namespace
}  // namespace pg::chain
