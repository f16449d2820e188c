// `proofgate verify`: exit 0 for a valid proof, 1 for an invalid one, 2 for malformed input
// (one line on stderr naming the field at fault).
#include <iostream>

#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::cli {

namespace {

struct VerifyOptions {
  std::string vkey, proof, pub;
};

int run_verify(const VerifyOptions& o) {
  namespace sj = pg::crypto::snarkjs;
  auto fail = [](const std::string& line) {
    std::cerr << line << "\n";
    return kExitMalformed;
  };
  std::string err;
  const auto vkey_text = read_file(o.vkey, err);
  if (!vkey_text) return fail("vkey: " + err);
  const auto proof_text = read_file(o.proof, err);
  if (!proof_text) return fail("proof: " + err);
  const auto public_text = read_file(o.pub, err);
  if (!public_text) return fail("public: " + err);

  auto key = sj::load_verifying_key(*vkey_text);
  if (!key) return fail(key.error().to_string());
  auto proof = sj::decode_proof(*proof_text);
  if (!proof) return fail(proof.error().to_string());
  auto publics = sj::decode_public_signals(*public_text);
  if (!publics) return fail(publics.error().to_string());
  if (publics->size() != (*key)->num_public()) {
    return fail("public: holds " + std::to_string(publics->size()) +
                " signals but the verification key expects " +
                std::to_string((*key)->num_public()));
  }
  if ((*key)->verify(*proof, *publics)) {
    std::cout << "valid\n";
    return kExitValid;
  }
  std::cout << "invalid\n";
  return kExitInvalid;
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Verify a Groth16 proof (snarkjs JSON). Exit 0 valid, 1 invalid, 2 malformed.");
  cmd->add_option("--vkey", opts->vkey, "verification_key.json")->required();
  cmd->add_option("--proof", opts->proof, "proof.json")->required();
  cmd->add_option("--public", opts->pub, "public.json")->required();
  cmd->callback([opts, &exit_code] { exit_code = run_verify(*opts); });
}

}  // namespace pg::cli
