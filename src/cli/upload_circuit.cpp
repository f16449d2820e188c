// `proofgate admin upload-circuit --dir D`: reads a circuit version's files and hands them to
// core::LifecycleService::upload, the same checks and storage as POST /api/admin/circuits
// (docs/circuits.md "Upload"): stored under the artifacts directory as `uploaded`.
#include "cli/upload_circuit.hpp"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "artifacts/filesystem_artifacts.hpp"
#include "core/circuit_upload.hpp"
#include "http/lifecycle_api.hpp"

namespace pg::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

[[noreturn]] void refuse(const std::string& file, const std::string& problem) {
  throw std::runtime_error(file + ": " + problem);
}

}  // namespace

json::object upload_circuit(const UploadRequest& u, core::LifecycleService& lifecycle,
                            const core::Actor& actor) {
  const fs::path dir(u.dir);
  if (!fs::is_directory(dir)) refuse(u.dir, "not a directory");
  core::UploadFiles files;
  for (const core::UploadFileRule& f : core::kUploadFiles) {
    const fs::path p = dir / std::string(f.name);
    std::error_code ec;
    if (!fs::exists(p, ec)) continue;  // a required one missing is named by the checks
    if (!fs::is_regular_file(p, ec)) refuse(std::string(f.name), "not a regular file");
    if (fs::file_size(p, ec) > f.limit)
      refuse(std::string(f.name), "larger than " + std::to_string(f.limit) + " bytes");
    std::ifstream in(p, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) refuse(std::string(f.name), "cannot be read");
    files.emplace(std::string(f.name), bytes.str());
  }
  artifacts::FilesystemArtifacts installer(u.artifacts_dir);
  auto stored = lifecycle.upload(actor, files, installer, u.policy);
  if (!stored) {
    const core::ApiError& e = stored.error();
    throw std::runtime_error(e.field.empty() ? e.detail : e.field + ": " + e.detail);
  }
  json::object out = http::circuit_state_json(*stored);
  out["path"] = (fs::path(u.artifacts_dir) / stored->claim_type / stored->version).string();
  return out;
}

}  // namespace pg::cli
