// Checking an uploaded circuit version (see circuit_upload.hpp).
#include "core/circuit_upload.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "core/errors.hpp"
#include "core/secrets.hpp"
#include "core/zkey.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {

/// The upload's files as an artifact source holding one version, so the catalog's own loading
/// checks them before anything is written.
class UploadSource final : public ArtifactSource {
 public:
  UploadSource(const UploadFiles& files, std::string claim_type, std::string version)
      : files_(files), claim_type_(std::move(claim_type)), version_(std::move(version)) {}
  std::vector<std::pair<std::string, std::string>> versions() const override {
    return {{claim_type_, version_}};
  }
  std::optional<std::string> read(std::string_view claim_type, std::string_view version,
                                  std::string_view file, std::size_t limit) const override {
    if (claim_type != claim_type_ || version != version_) return std::nullopt;
    const auto it = files_.find(file);
    if (it == files_.end()) return std::nullopt;
    if (it->second.size() > limit)
      throw ArtifactError(std::string(file) + ": larger than " + std::to_string(limit) + " bytes");
    return it->second;
  }
  std::string describe(std::string_view, std::string_view, std::string_view file) const override {
    return std::string(file);
  }

 private:
  const UploadFiles& files_;
  std::string claim_type_;
  std::string version_;
};

ApiError refuse(std::string_view file, const std::string& problem) {
  return invalid(std::string(file), problem);
}

const UploadFileRule* rule_of(std::string_view name) {
  for (const UploadFileRule& r : kUploadFiles) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace

Outcome<CheckedUpload> check_upload(const UploadFiles& files, const KeyPolicy& policy) {
  for (const auto& [name, bytes] : files) {
    const UploadFileRule* r = rule_of(name);
    if (!r)
      return invalid(name.empty() ? "file" : name,
                     "'" + name +
                         "' is not a file of a circuit version (manifest.json, "
                         "verification_key.json, circuit.wasm, circuit.zkey, transcript.json, "
                         "manifest.sig)");
    if (bytes.size() > r->limit)
      return refuse(name, "larger than " + std::to_string(r->limit) + " bytes");
  }
  for (const UploadFileRule& r : kUploadFiles) {
    if (r.required && !files.contains(r.name)) return refuse(r.name, "missing");
  }
  boost::system::error_code jec;
  const json::value manifest = json::parse(files.find("manifest.json")->second, jec);
  if (jec || !manifest.is_object()) return refuse("manifest.json", "not a JSON object");
  const auto* claim = manifest.as_object().if_contains("claim_type");
  const auto* version = manifest.as_object().if_contains("version");
  const auto* digests = manifest.as_object().if_contains("sha256");
  if (!claim || !claim->is_string() || !is_claim_type(claim->get_string()))
    return refuse("manifest.json", "claim_type is missing or not a known claim type");
  if (!version || !version->is_string() || !is_semver(version->get_string()))
    return refuse("manifest.json", "version is missing or not MAJOR.MINOR.PATCH");
  if (!digests || !digests->is_object()) return refuse("manifest.json", "sha256 is missing");
  CheckedUpload out;
  out.claim_type = claim->get_string();
  out.version = version->get_string();
  for (const char* required : {"verification_key.json", "circuit.wasm", "circuit.zkey"}) {
    if (!digests->as_object().if_contains(required))
      return refuse("manifest.json", std::string("sha256 lists no ") + required);
  }
  for (const auto& [name, want] : digests->as_object()) {
    const std::string file(name);
    const auto it = files.find(file);
    if (!rule_of(file))
      return refuse("manifest.json", "sha256 names '" + file + "', not a file of the version");
    if (it == files.end()) return refuse(file, "listed in the manifest but missing");
    const std::string got = hex(sha256(it->second));
    if (!want.is_string() || got != want.get_string())
      return refuse(file, "its SHA-256 " + got + " differs from the manifest's");
    out.sha256[file] = got;
  }
  const auto vk =
      crypto::snarkjs::decode_verifying_key(files.find("verification_key.json")->second);
  if (!vk.ok()) return refuse("verification_key.json", "not a Groth16 key: " + vk.error().field);
  const std::string& zkey = files.find("circuit.zkey")->second;
  if (const auto why = zkey_mismatch(zkey, vk.value()))
    return refuse("circuit.zkey",
                  "its embedded verification key does not match verification_key.json: " + *why);
  // The transcript names the contributions the zkey records itself (its section 10): a
  // participant's published hash is checked against the key that will be served, whatever the
  // key policy (a development server too refuses a transcript that lies).
  if (const auto t = files.find("transcript.json"); t != files.end()) {
    boost::system::error_code tec;
    const json::value transcript = json::parse(t->second, tec);
    if (tec || !transcript.is_object()) return refuse("transcript.json", "not a JSON object");
    if (const auto why = transcript_zkey_mismatch(transcript.as_object(), zkey))
      return refuse("transcript.json", "does not describe circuit.zkey: " + *why);
  }
  // The server's own loading: key checks, key policy (production transcript), release signature.
  try {
    out.circuit = CircuitCatalog::load_version(UploadSource(files, out.claim_type, out.version),
                                               out.claim_type, out.version, policy);
  } catch (const std::exception& e) {
    // "<file>: <problem>" (UploadSource::describe names the file alone).
    const std::string what = e.what();
    const auto colon = what.find(": ");
    const std::string file = colon == std::string::npos ? "" : what.substr(0, colon);
    if (!rule_of(file)) return refuse("manifest.json", "refused: " + what);
    const std::string problem = what.substr(colon + 2);
    return refuse(file, problem.starts_with("refused: ") ? problem : "refused: " + problem);
  }
  return out;
}

}  // namespace pg::core
