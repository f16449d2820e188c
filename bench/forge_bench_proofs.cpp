// BENCHMARK ONLY — a verification key whose trapdoor is known, and proofs forged with it, so the
// load benchmark of POST /api/v1/verify (scripts/bench-api.mjs) can send thousands of distinct
// valid proofs: each verify needs a fresh proof request, and the binding signal depends on its
// nonce, so every request needs its own proof, and snarkjs takes ~2 s per proof.
//
// Whoever knows alpha, beta, gamma, delta and the k_i behind a key can make a valid proof for any
// public signals (Groth, ePrint 2016/260 §3.2, the verification equation):
//   vk = (alpha G1, beta G2, gamma G2, delta G2, IC_i = k_i G1)
//   A = a G1, B = b G2, C = ((a b - alpha beta - gamma sum_i x_i k_i) / delta) G1   (x_0 = 1)
//   => e(A, B) = e(G1, G2)^(ab) = e(alpha, beta) e(sum_i x_i IC_i, gamma) e(C, delta).
// The server's cost of verifying such a proof is the same as for an honest one: the pairing check
// does not depend on which key it runs under. Such a key must never be deployed: anyone holding
// the seed can prove anything.
//
//   forge_bench_proofs keygen --publics N --seed HEX --out vk.json
//   forge_bench_proofs prove --seed HEX --claim-type C --version V --domain D --root R
//       < requests.jsonl > bodies.jsonl
//
// `prove` reads one proof request per line (the answer of POST /api/v1/requests) and writes one
// POST /api/v1/verify body per line, public signals in the frame order of the claim manifests
// [nullifier, root, binding, scope, today]. Every forged proof is checked with
// PreparedVerifyingKey::verify before it is written. Exit 0 done, 1 a forged proof did not
// verify (a bug), 2 bad arguments or input.
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/binding.hpp"
#include "core/secrets.hpp"
#include "crypto/groth16.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "support/trapdoor.hpp"

namespace {

namespace json = boost::json;
using pg::crypto::Fr;
using pg::crypto::Limbs;
using pg::testing::derive;
using pg::testing::make_trapdoor;
using pg::testing::Trapdoor;

constexpr std::string_view kLabel =
    "BENCHMARK ONLY: trapdoor known (forge_bench_proofs), anyone with the seed can forge proofs";
constexpr std::size_t kFramePublics = 5;  // nullifier, root, binding, scope, today

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string bytes_from_hex(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 128) {
    throw UsageError("--seed must be 2 to 128 hex digits, an even number");
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw UsageError("--seed must be hex digits");
  };
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

std::map<std::string, std::string> parse_flags(int argc, char** argv, int first) {
  std::map<std::string, std::string> flags;
  for (int i = first; i < argc; i += 2) {
    const std::string name = argv[i];
    if (!name.starts_with("--") || i + 1 >= argc)
      throw UsageError("expected --flag value pairs, got " + name);
    flags[name.substr(2)] = argv[i + 1];
  }
  return flags;
}

const std::string& flag(const std::map<std::string, std::string>& flags, const std::string& name) {
  const auto it = flags.find(name);
  if (it == flags.end()) throw UsageError("--" + name + " is required");
  return it->second;
}

std::shared_ptr<const pg::crypto::PreparedVerifyingKey> prepare(const Trapdoor& t) {
  auto key = pg::crypto::PreparedVerifyingKey::prepare(t.vk);
  if (!key) throw std::runtime_error("the benchmark key was refused: " + key.error().to_string());
  return *key;
}

int keygen(const std::map<std::string, std::string>& flags) {
  const std::string seed = bytes_from_hex(flag(flags, "seed"));
  const long n = std::stol(flag(flags, "publics"));
  if (n < 1 || n > static_cast<long>(pg::crypto::kMaxPublicSignals))
    throw UsageError("--publics must be 1 to 256");
  const Trapdoor t = make_trapdoor(seed, static_cast<std::size_t>(n));
  const std::string text = pg::testing::verification_key_json(t, kLabel);
  // The server's own decoder must take it back, and prepare it (no insecure-key refusal).
  if (auto back = pg::crypto::snarkjs::load_verifying_key(text); !back) {
    throw std::runtime_error("the written key does not decode: " + back.error().to_string());
  }
  std::ofstream out(flag(flags, "out"), std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + flag(flags, "out"));
  return 0;
}

std::string string_at(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string())
    throw UsageError("request line: " + std::string(name) + " is not a string");
  return std::string(v->get_string());
}

int prove(const std::map<std::string, std::string>& flags) {
  const std::string seed = bytes_from_hex(flag(flags, "seed"));
  const std::string claim_type = flag(flags, "claim-type");
  const std::string version = flag(flags, "version");
  const std::string domain = flag(flags, "domain");
  Limbs root_limbs{};
  if (!pg::crypto::limbs_from_decimal(flag(flags, "root"), root_limbs) ||
      !Fr::from_canonical_checked(root_limbs)) {
    throw UsageError("--root must be a canonical decimal below r");
  }
  const Fr root = Fr::from_canonical(root_limbs);
  const Fr scope = pg::core::partner_scope(domain);

  const Trapdoor t = make_trapdoor(seed, kFramePublics);
  const auto key = prepare(t);
  const pg::crypto::FixedBaseTable g1_table(pg::crypto::g1_generator());

  std::string line;
  std::size_t count = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    ++count;
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    if (ec || !v.is_object())
      throw UsageError("line " + std::to_string(count) + ": not a JSON object");
    const json::object& req = v.get_object();
    const std::string nonce = string_at(req, "nonce");
    if (string_at(req, "claim_type") != claim_type ||
        string_at(req, "circuit_version") != version ||
        string_at(req, "verifier_domain") != domain) {
      throw UsageError("line " + std::to_string(count) + ": the request is not for " + claim_type +
                       " " + version + " at " + domain);
    }
    const auto* params = req.if_contains("params");
    if (!params || !params->is_object() || params->get_object().size() != 1 ||
        !params->get_object().contains("today") || !params->at("today").is_int64()) {
      throw UsageError("line " + std::to_string(count) +
                       ": params must be exactly {today} (frame-only claims)");
    }
    const Fr today = Fr::from_u64(static_cast<std::uint64_t>(params->at("today").get_int64()));
    const Fr binding = pg::core::request_binding({nonce, domain, claim_type, version});
    const std::vector<Fr> publics{derive(seed, "nullifier", nonce), root, binding, scope, today};

    const pg::crypto::Proof proof = pg::testing::forge(t, publics, derive(seed, "a", nonce),
                                                       derive(seed, "b", nonce), &g1_table);
    if (!key->verify(proof, publics)) {
      std::cerr << "forge_bench_proofs: the forged proof for line " << count
                << " does not verify\n";
      return 1;
    }

    json::array signals;
    for (const auto& x : publics) signals.push_back(json::value(pg::testing::decimal(x)));
    const json::object body{
        {"claim_type", claim_type},
        {"circuit_version", version},
        {"proof", pg::testing::proof_json(proof)},
        {"public_signals", signals},
        {"request", json::object{{"nonce", nonce}, {"verifier_domain", domain}}}};
    std::cout << json::serialize(body) << '\n';
  }
  std::cout.flush();
  return std::cout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "keygen") return keygen(parse_flags(argc, argv, 2));
    if (cmd == "prove") return prove(parse_flags(argc, argv, 2));
    throw UsageError(
        "usage: forge_bench_proofs keygen --publics N --seed HEX --out vk.json\n"
        "       forge_bench_proofs prove --seed HEX --claim-type C --version V --domain D --root R"
        " < requests.jsonl > bodies.jsonl\n"
        "(BENCHMARK ONLY: the key's trapdoor is derived from the seed)");
  } catch (const UsageError& e) {
    std::cerr << "forge_bench_proofs: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "forge_bench_proofs: " << e.what() << '\n';
    return 2;
  }
}
