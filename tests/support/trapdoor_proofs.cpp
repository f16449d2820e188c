// TESTS ONLY: a key with a known trapdoor (support/trapdoor.hpp) and valid proofs under it for
// any public signals, for tests that need proofs whose public signals they choose (the Solidity
// verifier's small-input tables, tests/chain/verifier_test.mjs).
//
//   trapdoor_proofs SEED_HEX N KEY_OUT < publics.jsonl > proofs.jsonl
//
// Writes the verification key for N public signals to KEY_OUT, then for each input line (a JSON
// array of N canonical decimals below r) one line {"proof": ..., "public_signals": [...]}. Every
// proof is checked with the native verifier before it is written. Exit 0 done, 1 a proof did not
// verify (a bug), 2 bad arguments or input.
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "crypto/groth16.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "crypto/uint256.hpp"
#include "support/trapdoor.hpp"

namespace {

namespace json = boost::json;
using pg::crypto::Fr;

int usage(const std::string& why) {
  std::cerr << "trapdoor_proofs: " << why
            << "\nusage: trapdoor_proofs SEED_HEX N KEY_OUT < publics.jsonl > proofs.jsonl\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return usage("three arguments expected");
  const std::string seed = argv[1];
  std::size_t n = 0;
  try {
    n = std::stoul(argv[2]);
  } catch (const std::exception&) {
    return usage("N is not a number");
  }
  if (n < 1 || n > pg::crypto::kMaxPublicSignals) return usage("N must be 1 to 256");
  const pg::testing::Trapdoor t = pg::testing::make_trapdoor(seed, n);
  const std::string key_text = pg::testing::verification_key_json(t, "trapdoor_proofs");
  {
    std::ofstream out(argv[3], std::ios::binary | std::ios::trunc);
    out << key_text;
    if (!out.flush()) return usage(std::string("cannot write ") + argv[3]);
  }
  auto key = pg::crypto::snarkjs::load_verifying_key(key_text);
  if (!key) return usage("the key was refused: " + key.error().to_string());

  std::string line;
  std::size_t count = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    ++count;
    const std::string where = "line " + std::to_string(count);
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    if (ec || !v.is_array() || v.as_array().size() != n)
      return usage(where + ": not an array of " + std::to_string(n) + " decimals");
    std::vector<Fr> publics;
    for (const auto& x : v.as_array()) {
      pg::crypto::Limbs limbs{};
      if (!x.is_string() || !pg::crypto::limbs_from_decimal(x.as_string(), limbs) ||
          !Fr::from_canonical_checked(limbs))
        return usage(where + ": every public signal must be a canonical decimal below r");
      publics.push_back(Fr::from_canonical(limbs));
    }
    const auto proof = pg::testing::forge(t, publics, pg::testing::derive(seed, "a", line),
                                          pg::testing::derive(seed, "b", line));
    if (!(*key)->verify(proof, publics)) {
      std::cerr << "trapdoor_proofs: the proof for " << where << " does not verify\n";
      return 1;
    }
    json::array signals;
    for (const auto& x : publics) signals.push_back(json::value(pg::testing::decimal(x)));
    std::cout << json::serialize(json::object{{"proof", pg::testing::proof_json(proof)},
                                              {"public_signals", signals}})
              << '\n';
  }
  std::cout.flush();
  return std::cout ? 0 : 2;
}
