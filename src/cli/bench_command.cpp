// `proofgate bench`: times verification of one proof with a prepared key (and, with --batch K,
// batch verification of K re-randomised copies) and prints one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include "cli/commands.hpp"
#include "cli/inputs.hpp"
#include "crypto/cpu.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::cli {

namespace {

namespace pc = pg::crypto;

struct BenchOptions {
  InputFiles files;
  int iterations = 200;
  int batch = 0;
  bool portable = false;
};

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

/// The q-quantile (0..1) of the samples, by nearest rank.
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

/// A valid proof turned into another valid proof: A' = A / s, B' = s B (Groth16 malleability).
pc::Proof rerandomise(const pc::Proof& p, std::mt19937_64& rng) {
  pc::Fr s = pc::Fr::zero();
  while (s.is_zero()) {
    const pc::Limbs l{rng(), rng(), rng(), rng() & ((1ULL << 60) - 1)};
    s = pc::Fr::from_canonical(l);
  }
  pc::Proof q = p;
  q.a = pc::g1_mul_vartime(pc::G1::from_affine(p.a), s.inverse().to_canonical()).to_affine();
  q.b = pc::g2_mul_vartime(pc::G2::from_affine(p.b), s.to_canonical()).to_affine();
  return q;
}

int run_bench(const BenchOptions& o) {
  namespace sj = pc::snarkjs;
  if (o.portable) {
    pc::set_adx_enabled(false);
    pc::set_ifma_enabled(false);
  }
  auto fail = [](const std::string& line) {
    std::cerr << line << "\n";
    return kExitMalformed;
  };
  if (o.iterations < 1) return fail("--iterations: must be at least 1");
  std::string error;
  const auto in = load_inputs(o.files, error);
  if (!in) return fail(error);
  const auto& key = in->key;
  const auto& proof = in->proof;
  const auto& publics = in->publics;
  const double prepare_us = in->prepare_key_us;
  if (!key->verify(proof, publics)) {
    std::cerr << "proof: does not verify; bench needs a valid proof\n";
    return kExitInvalid;
  }

  std::vector<double> verify_us, full_us;
  verify_us.reserve(o.iterations);
  full_us.reserve(o.iterations);
  for (int i = 0; i < o.iterations; ++i) {
    const auto t0 = Clock::now();
    const bool ok = key->verify(proof, publics);
    verify_us.push_back(micros(Clock::now() - t0));
    if (!ok) return fail("proof: verification became unstable during the benchmark");
  }
  for (int i = 0; i < o.iterations; ++i) {
    // What a server pays per request: strict decoding (with the G2 subgroup check) and verify.
    const auto t0 = Clock::now();
    auto p = sj::decode_proof(in->proof_text);
    auto s = sj::decode_public_signals(in->public_text);
    const bool ok = p && s && key->verify(*p, *s);
    full_us.push_back(micros(Clock::now() - t0));
    if (!ok) return fail("proof: verification became unstable during the benchmark");
  }

  std::printf(
      "{\"verify_median_us\":%.1f,\"verify_p95_us\":%.1f,\"verify_min_us\":%.1f,"
      "\"decode_verify_median_us\":%.1f,\"decode_verify_p95_us\":%.1f,"
      "\"prepare_key_us\":%.1f,\"iterations\":%d,\"public_signals\":%zu,\"adx\":%s",
      quantile(verify_us, 0.5), quantile(verify_us, 0.95), quantile(verify_us, 0.0),
      quantile(full_us, 0.5), quantile(full_us, 0.95), prepare_us, o.iterations, publics.size(),
      pc::cpu_has_adx() ? "true" : "false");
  if (o.batch > 0) {
    std::mt19937_64 rng(42);
    std::vector<pc::PreparedVerifyingKey::BatchItem> items;
    items.reserve(o.batch);
    for (int i = 0; i < o.batch; ++i) items.push_back({rerandomise(proof, rng), publics});
    const int rounds = std::max(3, o.iterations / o.batch);
    std::vector<double> per_proof;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = Clock::now();
      const auto verdicts = key->verify_batch(items);
      per_proof.push_back(micros(Clock::now() - t0) / o.batch);
      if (std::count(verdicts.begin(), verdicts.end(), true) != o.batch) {
        std::printf("}\n");
        return fail("proof: batch verification refused a valid proof");
      }
    }
    const double median = quantile(verify_us, 0.5);
    const double batch_med = quantile(per_proof, 0.5);
    std::printf(
        ",\"batch\":%d,\"batch_rounds\":%d,\"batch_per_proof_us\":%.1f,"
        "\"batch_ratio\":%.3f",
        o.batch, rounds, batch_med, batch_med / median);
  }
  std::printf("}\n");
  return kExitValid;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time proof verification with a prepared key; prints one JSON line.");
  add_input_options(*cmd, opts->files);
  cmd->add_option("--iterations", opts->iterations, "timed verifications")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--batch", opts->batch, "also time batches of K re-randomised copies")
      ->check(CLI::Range(0, 100000));
  cmd->add_flag("--portable", opts->portable,
                "force the portable arithmetic (no ADX multiplication, no AVX-512 IFMA)");
  cmd->callback([opts, &exit_code] { exit_code = run_bench(*opts); });
}

}  // namespace pg::cli
