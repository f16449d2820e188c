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

namespace {

namespace json = boost::json;
using pg::crypto::Fp;
using pg::crypto::Fp2;
using pg::crypto::Fr;
using pg::crypto::G1;
using pg::crypto::G1Affine;
using pg::crypto::G2;
using pg::crypto::G2Affine;
using pg::crypto::Limbs;

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

/// A nonzero element of Fr derived from the seed: SHA-256("proofgate.bench.v1" 0 seed 0 label 0
/// context 0 counter), big-endian, the top three bits cleared (so below 2^253 < r); the counter
/// moves on in the (never seen) case of zero.
Fr derive(const std::string& seed, std::string_view label, std::string_view context) {
  for (unsigned counter = 0;; ++counter) {
    std::string msg = "proofgate.bench.v1";
    msg.push_back('\0');
    msg += seed;
    msg.push_back('\0');
    msg += label;
    msg.push_back('\0');
    msg += context;
    msg.push_back('\0');
    msg += std::to_string(counter);
    const auto d = pg::core::sha256(msg);
    Limbs l{};
    for (int i = 0; i < 32; ++i)
      l[3 - i / 8] = (l[3 - i / 8] << 8) | d[static_cast<std::size_t>(i)];
    l[3] &= (std::uint64_t{1} << 61) - 1;
    const Fr x = Fr::from_canonical(l);
    if (!x.is_zero()) return x;
  }
}

/// The trapdoor of the benchmark key for `n` public signals, and the key.
struct Trapdoor {
  Fr alpha, beta, gamma, delta;
  std::vector<Fr> k;  // k[0..n]
  pg::crypto::VerifyingKey vk;
};

G1Affine g1_mul(const Fr& s) {
  return G1::from_affine(pg::crypto::g1_generator()).mul_vartime(s.to_canonical()).to_affine();
}
G2Affine g2_mul(const Fr& s) {
  return G2::from_affine(pg::crypto::g2_generator()).mul_vartime(s.to_canonical()).to_affine();
}

Trapdoor make_trapdoor(const std::string& seed, std::size_t n) {
  Trapdoor t;
  t.alpha = derive(seed, "alpha", "");
  t.beta = derive(seed, "beta", "");
  t.gamma = derive(seed, "gamma", "");
  t.delta = derive(seed, "delta", "");
  t.vk.alpha = g1_mul(t.alpha);
  t.vk.beta = g2_mul(t.beta);
  t.vk.gamma = g2_mul(t.gamma);
  t.vk.delta = g2_mul(t.delta);
  for (std::size_t i = 0; i <= n; ++i) {
    t.k.push_back(derive(seed, "ic", std::to_string(i)));
    t.vk.ic.push_back(g1_mul(t.k.back()));
  }
  return t;
}

std::string dec(const Fp& x) {
  return pg::crypto::snarkjs::to_decimal(x.to_canonical());
}
std::string dec(const Fr& x) {
  return pg::crypto::snarkjs::to_decimal(x.to_canonical());
}

json::array g1_json(const G1Affine& p) {
  return {dec(p.x), dec(p.y), "1"};
}
json::array g2_json(const G2Affine& q) {
  return {json::array{dec(q.x.c0), dec(q.x.c1)}, json::array{dec(q.y.c0), dec(q.y.c1)},
          json::array{"1", "0"}};
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
  json::array ic;
  for (const auto& p : t.vk.ic) ic.push_back(g1_json(p));
  const json::object doc{{"protocol", "groth16"},
                         {"curve", "bn128"},
                         {"nPublic", n},
                         {"vk_alpha_1", g1_json(t.vk.alpha)},
                         {"vk_beta_2", g2_json(t.vk.beta)},
                         {"vk_gamma_2", g2_json(t.vk.gamma)},
                         {"vk_delta_2", g2_json(t.vk.delta)},
                         {"IC", ic},
                         {"benchmark_only", kLabel}};
  const std::string text = json::serialize(doc) + "\n";
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
  const Fr alpha_beta = t.alpha * t.beta;
  const Fr delta_inv = t.delta.inverse();
  const pg::crypto::FixedBaseTable g1_table(pg::crypto::g1_generator());
  auto g1_fixed = [&g1_table](const Fr& s) {
    G1 acc = G1::identity();
    g1_table.accumulate(acc, s.to_canonical());
    return acc.to_affine();
  };

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

    const Fr a = derive(seed, "a", nonce);
    const Fr b = derive(seed, "b", nonce);
    Fr s = t.k[0];
    for (std::size_t i = 0; i < publics.size(); ++i) s += publics[i] * t.k[i + 1];
    const Fr c = (a * b - alpha_beta - t.gamma * s) * delta_inv;
    const pg::crypto::Proof proof{g1_fixed(a), g2_mul(b), g1_fixed(c)};
    if (!key->verify(proof, publics)) {
      std::cerr << "forge_bench_proofs: the forged proof for line " << count
                << " does not verify\n";
      return 1;
    }

    json::array signals;
    for (const auto& x : publics) signals.push_back(json::value(dec(x)));
    const json::object body{
        {"claim_type", claim_type},
        {"circuit_version", version},
        {"proof", json::object{{"pi_a", g1_json(proof.a)},
                               {"pi_b", g2_json(proof.b)},
                               {"pi_c", g1_json(proof.c)},
                               {"protocol", "groth16"},
                               {"curve", "bn128"}}},
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
