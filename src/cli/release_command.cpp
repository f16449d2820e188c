// `proofgate release keygen | sign | verify`: the Ed25519 release key that signs each circuit
// version's manifest (docs/ceremony.md, "Release signatures"), its manifest.sig, and the check
// anyone can run on a published version.
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "core/release_signature.hpp"
#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "feed/root_feed.hpp"

namespace pg::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxManifestBytes = 1 << 20;
constexpr std::size_t kMaxArtifactBytes = 256u << 20;  // as GET /artifacts serves
/// The files a version's manifest must give the SHA-256 of; transcript.json too when present.
constexpr std::string_view kSignedFiles[] = {"circuit.wasm", "circuit.zkey",
                                             "verification_key.json"};

struct Failure {
  std::string message;
};

/// The manifest's bytes, after checking that its sha256 map names every artifact of `dir` (and
/// transcript.json when present) and that each digest is the file's: a release key signs only a
/// manifest that describes the files beside it.
std::string checked_manifest(const fs::path& dir) {
  std::string error;
  const auto manifest = read_file((dir / "manifest.json").string(), error, kMaxManifestBytes);
  if (!manifest) throw Failure{error};
  const auto parsed = crypto::snarkjs::parse_json(*manifest, "manifest");
  const auto where = (dir / "manifest.json").string();
  if (!parsed || !parsed->is_object()) throw Failure{where + ": is not a JSON object"};
  const auto* digests = parsed->get_object().if_contains("sha256");
  if (!digests || !digests->is_object()) throw Failure{where + ": sha256: is not an object"};
  std::vector<std::string> required(std::begin(kSignedFiles), std::end(kSignedFiles));
  if (fs::exists(dir / "transcript.json")) required.emplace_back("transcript.json");
  for (const auto& file : required) {
    if (!digests->get_object().contains(file)) {
      throw Failure{where + ": sha256." + file + ": is missing"};
    }
  }
  for (const auto& [file, digest] : digests->get_object()) {
    const std::string name(file);
    if (name.empty() || name.find('/') != std::string::npos || name.starts_with(".")) {
      throw Failure{where + ": sha256." + name + ": is not a file name"};
    }
    const auto bytes = read_file((dir / name).string(), error, kMaxArtifactBytes);
    if (!bytes) throw Failure{error};
    if (!digest.is_string() || digest.get_string() != core::hex(core::sha256(*bytes))) {
      throw Failure{(dir / name).string() + ": SHA-256 differs from the manifest's sha256." + name};
    }
  }
  return *manifest;
}

/// Writes `text` to `file` by a temporary file and a rename.
void write_atomically(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw Failure{"cannot write " + tmp.string()};
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) throw Failure{"cannot write " + file.string() + ": " + ec.message()};
}

int keygen(const std::string& out) {
  if (fs::exists(out)) {
    throw Failure{out + ": exists; a release key is never overwritten (choose another path)"};
  }
  const auto key = feed::SigningKey::generate();
  key.save(out);
  std::cout << key.public_key_b64() << "\n";
  std::cerr << "release key " << key.key_id() << ": private key in " << out
            << " (mode 0600; keep it offline), public key above (release_public_keys, and the "
               "wallet's trusted release key)\n";
  return kExitValid;
}

int sign(const std::string& key_file, const fs::path& dir) {
  auto key = feed::SigningKey::load(key_file);
  if (!key) throw Failure{"--key: " + key.error()};
  const std::string manifest = checked_manifest(dir);
  const std::string sig = core::manifest_signature_json(
      key->key_id(), key->sign(core::manifest_signing_text(manifest)));
  write_atomically(dir / core::kManifestSignatureFile, sig);
  std::cout << (dir / core::kManifestSignatureFile).string() << ": signed with release key "
            << key->key_id() << "\n";
  return kExitValid;
}

int verify(const std::string& public_keys, const fs::path& dir) {
  auto keys = core::parse_release_keys(public_keys);
  if (!keys) throw Failure{"--public-key: " + keys.error()};
  if (keys->empty()) throw Failure{"--public-key: no key given"};
  const std::string manifest = checked_manifest(dir);
  std::string error;
  const fs::path sig_file = dir / core::kManifestSignatureFile;
  std::optional<std::string> sig;
  if (fs::exists(sig_file)) {
    sig = read_file(sig_file.string(), error, core::kMaxManifestSignatureBytes);
    if (!sig) throw Failure{error};
  }
  auto key_id = core::check_manifest_signature(manifest, sig, *keys);
  if (!key_id) {
    std::cerr << sig_file.string() << ": " << key_id.error().message << "\n";
    return kExitInvalid;
  }
  std::cout << dir.string() << ": manifest signed with release key " << *key_id
            << ", every digest matches\n";
  return kExitValid;
}

/// Runs `f`, mapping a Failure (bad input) to one line on stderr and exit 2.
template <class F>
int guarded(F&& f) {
  try {
    return f();
  } catch (const Failure& e) {
    std::cerr << e.message << "\n";
    return kExitMalformed;
  }
}

}  // namespace

void add_release_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "release", "Release signatures of circuit versions (docs/ceremony.md, Release signatures)");
  cmd->require_subcommand(1);

  auto out = std::make_shared<std::string>();
  CLI::App* kg = cmd->add_subcommand(
      "keygen",
      "Make an Ed25519 release key: the private key into --out (0600), the public key "
      "(base64url) on stdout");
  kg->add_option("--out", *out, "where to write the private key (PEM); must not exist")->required();
  kg->callback([out, &exit_code] { exit_code = guarded([&] { return keygen(*out); }); });

  auto key = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  CLI::App* sg = cmd->add_subcommand(
      "sign",
      "Sign DIR/manifest.json (after checking its digests against DIR's files) into "
      "DIR/manifest.sig. Exit 2 on bad input.");
  sg->add_option("--key", *key, "the release private key (keygen's --out)")->required();
  sg->add_option("DIR", *dir, "a version's directory: <artifacts>/<claim_type>/<version>")
      ->required();
  sg->callback([key, dir, &exit_code] { exit_code = guarded([&] { return sign(*key, *dir); }); });

  auto public_keys = std::make_shared<std::string>();
  auto vdir = std::make_shared<std::string>();
  CLI::App* vf = cmd->add_subcommand(
      "verify",
      "Check DIR/manifest.sig under a release public key and every digest of "
      "DIR/manifest.json. Exit 0 signed and matching, 1 signature refused, 2 bad input.");
  vf->add_option("--public-key", *public_keys, "release public key(s), comma-separated base64url")
      ->required();
  vf->add_option("DIR", *vdir, "a version's directory")->required();
  vf->callback([public_keys, vdir, &exit_code] {
    exit_code = guarded([&] { return verify(*public_keys, *vdir); });
  });
}

}  // namespace pg::cli
