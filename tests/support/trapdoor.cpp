// Forging proofs under a key with a known trapdoor (see trapdoor.hpp).
#include "support/trapdoor.hpp"

#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::testing {

namespace json = boost::json;
using crypto::Fp;
using crypto::Fr;
using crypto::G1;
using crypto::G1Affine;
using crypto::G2;
using crypto::G2Affine;

namespace {
G1Affine g1_mul(const Fr& s) {
  return G1::from_affine(crypto::g1_generator()).mul_vartime(s.to_canonical()).to_affine();
}
G2Affine g2_mul(const Fr& s) {
  return G2::from_affine(crypto::g2_generator()).mul_vartime(s.to_canonical()).to_affine();
}
std::string dec(const Fp& x) {
  return crypto::snarkjs::to_decimal(x.to_canonical());
}
json::array g1_json(const G1Affine& p) {
  return {dec(p.x), dec(p.y), "1"};
}
json::array g2_json(const G2Affine& q) {
  return {json::array{dec(q.x.c0), dec(q.x.c1)}, json::array{dec(q.y.c0), dec(q.y.c1)},
          json::array{"1", "0"}};
}
}  // namespace

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
    const auto d = core::sha256(msg);
    crypto::Limbs l{};
    for (int i = 0; i < 32; ++i) {
      l[3 - i / 8] = (l[3 - i / 8] << 8) | d[static_cast<std::size_t>(i)];
    }
    l[3] &= (std::uint64_t{1} << 61) - 1;
    const Fr x = Fr::from_canonical(l);
    if (!x.is_zero()) return x;
  }
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

crypto::Proof forge(const Trapdoor& t, const std::vector<Fr>& publics, const Fr& a, const Fr& b,
                    const crypto::FixedBaseTable* g1_table) {
  Fr s = t.k[0];
  for (std::size_t i = 0; i < publics.size(); ++i) s += publics[i] * t.k[i + 1];
  const Fr c = (a * b - t.alpha * t.beta - t.gamma * s) * t.delta.inverse();
  const auto g1 = [g1_table](const Fr& x) {
    if (!g1_table) return g1_mul(x);
    G1 acc = G1::identity();
    g1_table->accumulate(acc, x.to_canonical());
    return acc.to_affine();
  };
  return crypto::Proof{g1(a), g2_mul(b), g1(c)};
}

std::string verification_key_json(const Trapdoor& t, std::string_view label) {
  json::array ic;
  for (const auto& p : t.vk.ic) ic.push_back(g1_json(p));
  const json::object doc{{"protocol", "groth16"},
                         {"curve", "bn128"},
                         {"nPublic", t.vk.ic.size() - 1},
                         {"vk_alpha_1", g1_json(t.vk.alpha)},
                         {"vk_beta_2", g2_json(t.vk.beta)},
                         {"vk_gamma_2", g2_json(t.vk.gamma)},
                         {"vk_delta_2", g2_json(t.vk.delta)},
                         {"IC", ic},
                         {"benchmark_only", label}};
  return json::serialize(doc) + "\n";
}

json::object proof_json(const crypto::Proof& proof) {
  return json::object{{"pi_a", g1_json(proof.a)},
                      {"pi_b", g2_json(proof.b)},
                      {"pi_c", g1_json(proof.c)},
                      {"protocol", "groth16"},
                      {"curve", "bn128"}};
}

std::string decimal(const Fr& x) {
  return crypto::snarkjs::to_decimal(x.to_canonical());
}

}  // namespace pg::testing
