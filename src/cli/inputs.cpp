// Reading and decoding the snarkjs documents named on the command line.
#include "cli/inputs.hpp"

#include <chrono>

#include "cli/files.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::cli {

void add_input_options(CLI::App& cmd, InputFiles& files) {
  cmd.add_option("--vkey", files.vkey, "verification_key.json (snarkjs)")->required();
  cmd.add_option("--proof", files.proof, "proof.json (snarkjs)")->required();
  cmd.add_option("--public", files.pub, "public.json (snarkjs)")->required();
}

std::optional<Inputs> load_inputs(const InputFiles& files, std::string& error) {
  namespace sj = crypto::snarkjs;
  std::string err;
  const auto vkey_text = read_file(files.vkey, err);
  if (!vkey_text) return error = "vkey: " + err, std::nullopt;
  Inputs in;
  auto proof_text = read_file(files.proof, err);
  if (!proof_text) return error = "proof: " + err, std::nullopt;
  auto public_text = read_file(files.pub, err);
  if (!public_text) return error = "public: " + err, std::nullopt;
  in.proof_text = std::move(*proof_text);
  in.public_text = std::move(*public_text);

  const auto t0 = std::chrono::steady_clock::now();
  auto key = sj::load_verifying_key(*vkey_text);
  in.prepare_key_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (!key) return error = key.error().to_string(), std::nullopt;
  auto proof = sj::decode_proof(in.proof_text);
  if (!proof) return error = proof.error().to_string(), std::nullopt;
  auto publics = sj::decode_public_signals(in.public_text);
  if (!publics) return error = publics.error().to_string(), std::nullopt;
  if (publics->size() != (*key)->num_public()) {
    error = "public: holds " + std::to_string(publics->size()) +
            " signals but the verification key expects " + std::to_string((*key)->num_public());
    return std::nullopt;
  }
  in.key = *key;
  in.proof = *proof;
  in.publics = std::move(*publics);
  return in;
}

}  // namespace pg::cli
