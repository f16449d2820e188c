// Google Benchmark for the issuer's Merkle tree (src/issuer/tree.hpp): (a) building a full depth-20
// tree of 2^20 leaves, (b) appending one leaf and reading its path, (c) serving a path, and the
// one Poseidon(2) a node costs, alone and in a level's batch (AVX-512 IFMA or the scalar loop).
// scripts/bench-tree.mjs sets these against circomlibjs doing the same work
// (bench/tree_circomlibjs.mjs).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "crypto/cpu.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/poseidon_batch.hpp"
#include "issuer/tree.hpp"

namespace {

using pg::crypto::Fr;
using pg::issuer::MerkleTree;

std::vector<Fr> random_leaves(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<Fr> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(Fr::from_canonical(pg::crypto::Limbs{rng(), rng(), rng(), rng() >> 4}));
  return out;
}

/// One tree node: Poseidon([left, right]).
void bm_tree_hash_node(benchmark::State& state) {
  Fr a = Fr::from_u64(1);
  const Fr b = Fr::from_u64(2);
  for (auto _ : state) {
    a = pg::issuer::hash_node(a, b);  // chained so that calls cannot overlap
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(bm_tree_hash_node);

/// One level of 4096 nodes from 8192 children, as from_leaves hashes it (one thread), per node:
/// `ifma` true = AVX-512 IFMA when the CPU has it, false = the scalar poseidon_hash2 loop.
void bm_tree_hash_level(benchmark::State& state, bool ifma) {
  const bool saved = pg::crypto::cpu_has_ifma();
  pg::crypto::set_ifma_enabled(ifma);
  constexpr std::size_t kNodes = 4096;
  std::vector<Fr> children = random_leaves(2 * kNodes);
  std::vector<Fr> nodes(kNodes);
  for (auto _ : state) {
    if (!pg::crypto::poseidon_hash2_pairs(children, nodes)) state.SkipWithError("sizes");
    benchmark::DoNotOptimize(nodes.data());
    children[0] = nodes[kNodes - 1];  // chain the iterations
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kNodes));
  state.counters["ifma"] = pg::crypto::cpu_has_ifma() ? 1 : 0;
  pg::crypto::set_ifma_enabled(saved);
}
BENCHMARK_CAPTURE(bm_tree_hash_level, batched, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_tree_hash_level, scalar, false)->Unit(benchmark::kMillisecond);

/// (a) from_leaves of 2^20 leaves (a full depth-20 tree: 2^20 - 1 hashes), on every core, each
/// level hashed in batches (AVX-512 IFMA when the CPU has it).
/// Reported: wall time and the CPU time of all threads.
void bm_tree_build_million(benchmark::State& state) {
  const auto leaves = random_leaves(std::size_t{1} << pg::issuer::kTreeDepth);
  for (auto _ : state) {
    const MerkleTree t = MerkleTree::from_leaves(leaves);
    benchmark::DoNotOptimize(t.root());
  }
  state.counters["hashes"] = static_cast<double>((std::uint64_t{1} << pg::issuer::kTreeDepth) - 1);
}
// CPU time of the whole process (all the threads), wall time beside it.
BENCHMARK(bm_tree_build_million)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

/// (b) append one leaf (20 hashes) and read its path, on a depth-20 tree holding 2^16 leaves.
void bm_tree_append_with_path(benchmark::State& state) {
  const auto leaves = random_leaves(std::size_t{1} << 16);
  MerkleTree t = MerkleTree::from_leaves(leaves);
  Fr leaf = Fr::from_u64(7);
  for (auto _ : state) {
    const auto index = t.append(leaf);
    if (!index) {
      state.SkipWithError("tree full");
      break;
    }
    const pg::issuer::MerklePath p = t.path(*index);
    benchmark::DoNotOptimize(p.siblings.data());
    leaf += Fr::one();
  }
}
BENCHMARK(bm_tree_append_with_path)->Unit(benchmark::kMicrosecond);

/// (c) serve a path (20 siblings, no hashing) of a random leaf of a depth-20 tree of 2^16 leaves.
void bm_tree_path(benchmark::State& state) {
  const auto leaves = random_leaves(std::size_t{1} << 16);
  const MerkleTree t = MerkleTree::from_leaves(leaves);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    const pg::issuer::MerklePath p = t.path(rng() & 0xffff);
    benchmark::DoNotOptimize(p.siblings.data());
  }
}
BENCHMARK(bm_tree_path)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
