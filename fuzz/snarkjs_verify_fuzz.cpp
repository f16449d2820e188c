// libFuzzer target over strict snarkjs decoding and Groth16 verification. An input is three
// documents separated by NUL bytes: verification key, proof, public signals. The key and proof
// are verified against each other when all three decode; the proof is also verified against a
// fixed valid key (PROOFGATE_FUZZ_VKEY) so that mutated proofs reach the pairing check.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "crypto/snarkjs_codec.hpp"

namespace {

namespace sj = pg::crypto::snarkjs;

std::shared_ptr<const pg::crypto::PreparedVerifyingKey> g_fixed_key;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* path = std::getenv("PROOFGATE_FUZZ_VKEY")) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto key = sj::load_verifying_key(ss.str());
    if (key) g_fixed_key = *key;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t s1 = input.find('\0');
  const std::size_t s2 = s1 == std::string_view::npos ? s1 : input.find('\0', s1 + 1);
  if (s2 == std::string_view::npos) {
    // A single document: try it as each kind.
    (void)sj::decode_proof(input);
    (void)sj::decode_public_signals(input);
    (void)sj::decode_verifying_key(input);
    return 0;
  }
  const std::string_view vkey = input.substr(0, s1);
  const std::string_view proof_text = input.substr(s1 + 1, s2 - s1 - 1);
  const std::string_view public_text = input.substr(s2 + 1);

  auto proof = sj::decode_proof(proof_text);
  auto publics = sj::decode_public_signals(public_text);
  if (proof && publics && g_fixed_key && publics->size() == g_fixed_key->num_public()) {
    (void)g_fixed_key->verify(*proof, *publics);
  }
  auto key = sj::load_verifying_key(vkey);
  if (key && proof && publics && publics->size() == (*key)->num_public()) {
    (void)(*key)->verify(*proof, *publics);
  }
  return 0;
}
