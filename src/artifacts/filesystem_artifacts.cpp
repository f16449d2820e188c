// Reading circuit artifacts from a directory (see filesystem_artifacts.hpp).
#include "artifacts/filesystem_artifacts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/secrets.hpp"

namespace pg::artifacts {

namespace fs = std::filesystem;

namespace {
/// A path segment that stays inside its directory: no separators, not "." or "..", not empty.
bool is_segment(std::string_view s) noexcept {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> FilesystemArtifacts::versions() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& claim : fs::directory_iterator(dir_)) {
    const std::string name = claim.path().filename().string();
    if (!claim.is_directory() || name.starts_with("_") || name.starts_with(".")) continue;
    for (const auto& version : fs::directory_iterator(claim.path())) {
      if (version.is_directory() && fs::exists(version.path() / "manifest.json")) {
        out.emplace_back(name, version.path().filename().string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> FilesystemArtifacts::read(std::string_view claim_type,
                                                     std::string_view version,
                                                     std::string_view file,
                                                     std::size_t limit) const {
  if (!is_segment(claim_type) || !is_segment(version) || !is_segment(file)) return std::nullopt;
  const fs::path p = dir_ / std::string(claim_type) / std::string(version) / std::string(file);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  const auto size = fs::file_size(p, ec);
  if (ec) throw core::ArtifactError(p.string() + ": " + ec.message());
  if (size > limit) {
    throw core::ArtifactError(p.string() + ": larger than " + std::to_string(limit) + " bytes");
  }
  std::ifstream in(p, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) throw core::ArtifactError(p.string() + ": cannot read");
  return text;
}

std::string FilesystemArtifacts::describe(std::string_view claim_type, std::string_view version,
                                          std::string_view file) const {
  return (dir_ / std::string(claim_type) / std::string(version) / std::string(file)).string();
}

namespace {

[[noreturn]] void fail(const fs::path& p, std::string_view what) {
  throw core::ArtifactError(p.string() + ": " + std::string(what) + ": " + std::strerror(errno));
}

/// fsync of a file or directory, so a version acknowledged as uploaded survives a crash.
void sync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) fail(p, "cannot open to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail(p, "fsync failed");
}

void write_file(const fs::path& p, std::string_view bytes) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(p, "cannot create");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(p, "cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail(p, "fsync failed");
  }
  ::close(fd);
}

class StagedDirectory final : public core::StagedVersion {
 public:
  StagedDirectory(fs::path staging, fs::path parent, fs::path dest)
      : staging_(std::move(staging)), parent_(std::move(parent)), dest_(std::move(dest)) {}
  ~StagedDirectory() override {
    std::error_code ignored;
    if (!committed_) fs::remove_all(staging_, ignored);
  }
  void commit() override {
    std::error_code ec;
    const bool created = fs::create_directories(parent_, ec);
    if (ec) throw core::ArtifactError(parent_.string() + ": " + ec.message());
    if (created) sync_path(parent_.parent_path(), true);  // the new claim type's entry too
    // RENAME_NOREPLACE: two uploads of one version racing never replace each other's files.
    if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, dest_.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST)
        throw core::ArtifactError(dest_.string() + ": exists already: upload a new version");
      fail(dest_, "cannot move the upload into place");
    }
    committed_ = true;
    sync_path(parent_, true);
  }

 private:
  fs::path staging_, parent_, dest_;
  bool committed_ = false;
};

}  // namespace

bool FilesystemArtifacts::has_version(std::string_view claim_type, std::string_view version) const {
  if (!is_segment(claim_type) || !is_segment(version)) return false;
  std::error_code ec;
  return fs::exists(dir_ / std::string(claim_type) / std::string(version), ec);
}

std::unique_ptr<core::StagedVersion> FilesystemArtifacts::stage(
    std::string_view claim_type, std::string_view version,
    const std::map<std::string, std::string, std::less<>>& files) {
  if (!is_segment(claim_type) || !is_segment(version) || claim_type.starts_with("_") ||
      claim_type.starts_with("."))
    throw core::ArtifactError("not a claim type and version: " + std::string(claim_type) + " " +
                              std::string(version));
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw core::ArtifactError(dir_.string() + ": " + ec.message());
  const fs::path staging = dir_ / (".upload-" + core::uuid_v4());
  if (::mkdir(staging.c_str(), 0755) != 0) fail(staging, "cannot create");
  const fs::path parent = dir_ / std::string(claim_type);
  auto staged = std::make_unique<StagedDirectory>(staging, parent, parent / std::string(version));
  for (const auto& [name, bytes] : files) {
    if (!is_segment(name)) throw core::ArtifactError("not a file name: " + name);
    write_file(staging / name, bytes);
  }
  sync_path(staging, true);
  return staged;
}

}  // namespace pg::artifacts
