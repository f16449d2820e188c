// `proofgate admin upload-circuit --dir D`: checks a circuit version's files and stores them under
// the artifacts directory as `uploaded` (docs/circuits.md "Upload"). The checks, in order, each
// refusal naming the file: sizes; every digest manifest.json lists; the verifier's key checks, the
// key policy (a production key's transcript) and, with release keys, manifest.sig (the catalog's
// own loading, on a private copy); the zkey's embedded key equal to verification_key.json. Then
// the `uploaded` row (audited), then the folder moves into place with one rename.
#include "cli/upload_circuit.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "artifacts/filesystem_artifacts.hpp"
#include "core/catalog.hpp"
#include "core/release_signature.hpp"
#include "core/secrets.hpp"
#include "core/zkey.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct FileRule {
  const char* name;
  bool required;
  std::uintmax_t limit;
};
constexpr FileRule kFiles[] = {
    {"manifest.json", true, 64 * 1024},
    {"verification_key.json", true, 1024 * 1024},
    {"circuit.wasm", true, 64ull * 1024 * 1024},
    {"circuit.zkey", true, 512ull * 1024 * 1024},
    {"transcript.json", false, 16ull * 1024 * 1024},
    {"manifest.sig", false, 4 * 1024},
};

[[noreturn]] void refuse(const std::string& file, const std::string& problem) {
  throw std::runtime_error(file + ": " + problem);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) refuse(p.filename().string(), "cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

json::object upload_circuit(const UploadRequest& u, core::LifecycleService& lifecycle,
                            const core::Actor& actor) {
  const fs::path dir(u.dir);
  if (!fs::is_directory(dir)) refuse(u.dir, "not a directory");
  for (const FileRule& f : kFiles) {
    const fs::path p = dir / f.name;
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      if (f.required) refuse(f.name, "missing");
      continue;
    }
    if (!fs::is_regular_file(p, ec)) refuse(f.name, "not a regular file");
    if (fs::file_size(p, ec) > f.limit)
      refuse(f.name, "larger than " + std::to_string(f.limit) + " bytes");
  }
  boost::system::error_code jec;
  const json::value manifest = json::parse(slurp(dir / "manifest.json"), jec);
  if (jec || !manifest.is_object()) refuse("manifest.json", "not a JSON object");
  const auto* claim = manifest.as_object().if_contains("claim_type");
  const auto* version = manifest.as_object().if_contains("version");
  const auto* digests = manifest.as_object().if_contains("sha256");
  if (!claim || !claim->is_string() || !core::is_claim_type(claim->get_string()))
    refuse("manifest.json", "claim_type is missing or not a known claim type");
  if (!version || !version->is_string() || !core::is_semver(version->get_string()))
    refuse("manifest.json", "version is missing or not MAJOR.MINOR.PATCH");
  if (!digests || !digests->is_object()) refuse("manifest.json", "sha256 is missing");
  const std::string claim_type(claim->get_string()), semver(version->get_string());
  json::object checked;
  for (const char* required : {"verification_key.json", "circuit.wasm", "circuit.zkey"}) {
    if (!digests->as_object().if_contains(required))
      refuse("manifest.json", std::string("sha256 lists no ") + required);
  }
  for (const auto& [name, want] : digests->as_object()) {
    const std::string file(name);
    if (file.find('/') != std::string::npos || file.starts_with("."))
      refuse("manifest.json", "sha256 names '" + file + "', not a file of the version");
    if (!fs::exists(dir / file)) refuse(file, "listed in the manifest but missing");
    const std::string got = core::hex(core::sha256(slurp(dir / file)));
    if (!want.is_string() || got != want.get_string())
      refuse(file, "its SHA-256 " + got + " differs from the manifest's");
    checked[file] = got;
  }
  const std::string vkey_text = slurp(dir / "verification_key.json");
  const auto vk = crypto::snarkjs::decode_verifying_key(vkey_text);
  if (!vk.ok()) refuse("verification_key.json", "not a Groth16 key: " + vk.error().field);
  if (const auto why = core::zkey_mismatch(slurp(dir / "circuit.zkey"), vk.value()))
    refuse("circuit.zkey",
           "its embedded verification key does not match verification_key.json: " + *why);

  const fs::path artifacts(u.artifacts_dir);
  const fs::path dest = artifacts / claim_type / semver;
  if (fs::exists(dest)) refuse(dest.string(), "exists already: upload a new version");
  fs::create_directories(artifacts);
  const fs::path staging = artifacts / (".upload-" + core::uuid_v4());
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(p, ignored);
    }
  } cleanup{staging};
  const fs::path staged = staging / claim_type / semver;
  fs::create_directories(staged);
  for (const FileRule& f : kFiles) {
    if (fs::exists(dir / f.name)) fs::copy_file(dir / f.name, staged / f.name);
  }
  // The server's own loading: key checks, key policy (production transcript), release signature.
  try {
    (void)core::CircuitCatalog::load(artifacts::FilesystemArtifacts(staging), u.policy);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("refused: ") + e.what());
  }
  json::object details{{"claim_type", claim_type}, {"version", semver}, {"sha256", checked}};
  auto recorded = lifecycle.record_upload(actor, claim_type, semver, json::serialize(details));
  if (!recorded) throw std::runtime_error("--dir: " + recorded.error().detail);
  fs::create_directories(artifacts / claim_type);
  fs::rename(staged, dest);
  return json::object{{"claim_type", claim_type},
                      {"version", semver},
                      {"state", recorded->state},
                      {"path", dest.string()},
                      {"sha256", checked}};
}

}  // namespace pg::cli
