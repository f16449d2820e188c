// Google Benchmark for Poseidon over Fr (circomlib-compatible) with 2 and 16 inputs, on the
// BMI2/ADX multiplication path when the CPU has it and on the portable path, and the two-input
// specialisation poseidon_hash2.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <span>

#include "crypto/cpu.hpp"
#include "crypto/poseidon.hpp"

namespace {

using pg::crypto::Fr;

/// state.range(0) inputs; `adx` selects the multiplication path (true = BMI2/ADX if present).
void bm_poseidon(benchmark::State& state, bool adx) {
  const bool saved = pg::crypto::cpu_has_adx();
  pg::crypto::set_adx_enabled(adx);
  const auto n = static_cast<std::size_t>(state.range(0));
  std::array<Fr, pg::crypto::kPoseidonMaxInputs> in{};
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = Fr::from_u64(0x9e3779b97f4a7c15ULL * (i + 1));
  for (auto _ : state) {
    const Fr h = pg::crypto::poseidon_hash(std::span<const Fr>(in.data(), n));
    benchmark::DoNotOptimize(h);
    in[0] = h;  // chain the calls so they cannot overlap or be hoisted
  }
  pg::crypto::set_adx_enabled(saved);
}

BENCHMARK_CAPTURE(bm_poseidon, adx, true)->ArgName("inputs")->Arg(2)->Arg(16);
BENCHMARK_CAPTURE(bm_poseidon, portable, false)->ArgName("inputs")->Arg(2)->Arg(16);

/// The width-3 specialisation a Merkle tree node uses (poseidon_hash2), on the same path choice.
void bm_poseidon_hash2(benchmark::State& state, bool adx) {
  const bool saved = pg::crypto::cpu_has_adx();
  pg::crypto::set_adx_enabled(adx);
  Fr a = Fr::from_u64(0x9e3779b97f4a7c15ULL);
  const Fr b = Fr::from_u64(0x3c6ef372fe94f82aULL);
  for (auto _ : state) {
    a = pg::crypto::poseidon_hash2(a, b);  // chained, as above
    benchmark::DoNotOptimize(a);
  }
  pg::crypto::set_adx_enabled(saved);
}

BENCHMARK_CAPTURE(bm_poseidon_hash2, adx, true);
BENCHMARK_CAPTURE(bm_poseidon_hash2, portable, false);

}  // namespace
