// Google Benchmark for Poseidon over Fr (circomlib-compatible) with 2 and 16 inputs, on the
// BMI2/ADX multiplication path when the CPU has it and on the portable path, the two-input
// specialisation poseidon_hash2, and the batched Poseidon(2) (AVX-512 IFMA or the scalar loop).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/cpu.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/poseidon_batch.hpp"

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

/// poseidon_hash2_batch over state.range(0) pairs; `ifma` selects the path (true = AVX-512 IFMA
/// if present, false = the scalar poseidon_hash2 loop). Reported per hash (items_per_second).
void bm_poseidon_hash2_batch(benchmark::State& state, bool ifma) {
  const bool saved = pg::crypto::cpu_has_ifma();
  pg::crypto::set_ifma_enabled(ifma);
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<Fr> left(n), right(n), out(n);
  for (std::size_t i = 0; i < n; ++i) {
    left[i] = Fr::from_u64(0x9e3779b97f4a7c15ULL * (i + 1));
    right[i] = Fr::from_u64(0x3c6ef372fe94f82aULL * (i + 1));
  }
  for (auto _ : state) {
    if (!pg::crypto::poseidon_hash2_batch(left, right, out)) state.SkipWithError("sizes");
    benchmark::DoNotOptimize(out.data());
    left.swap(out);  // chain the batches
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  pg::crypto::set_ifma_enabled(saved);
}

BENCHMARK_CAPTURE(bm_poseidon_hash2_batch, ifma, true)
    ->ArgName("pairs")
    ->Arg(8)
    ->Arg(16)
    ->Arg(1024);
BENCHMARK_CAPTURE(bm_poseidon_hash2_batch, scalar, false)->ArgName("pairs")->Arg(1024);

}  // namespace
