// Google Benchmark programs for the arithmetic under the verifier, reported in nanoseconds and
// in TSC cycles ("cycles" counter) to compare with herumi/mcl's published cycle counts.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <array>
#include <random>

#include "crypto/cpu.hpp"
#include "crypto/pairing.hpp"

namespace {

using namespace pg::crypto;

std::mt19937_64 rng(7);

template <class F>
F random_field() {
  for (;;) {
    Limbs l{rng(), rng(), rng(), rng() & ((1ULL << 62) - 1)};
    if (auto v = F::from_canonical_checked(l)) return *v;
  }
}
Fp2 random_fp2() {
  return {random_field<Fp>(), random_field<Fp>()};
}
Fp12 random_fp12() {
  return {Fp6{random_fp2(), random_fp2(), random_fp2()},
          Fp6{random_fp2(), random_fp2(), random_fp2()}};
}
G1Affine random_g1() {
  return G1::from_affine(g1_generator()).mul_vartime(random_field<Fr>().to_canonical()).to_affine();
}
G2Affine random_g2() {
  return G2::from_affine(g2_generator()).mul_vartime(random_field<Fr>().to_canonical()).to_affine();
}

/// Runs `body` per iteration and reports TSC cycles per iteration as a counter.
template <class Body>
void with_cycles(benchmark::State& state, Body body) {
  const auto c0 = __rdtsc();
  for (auto _ : state) body();
  const auto c1 = __rdtsc();
  state.counters["cycles"] = static_cast<double>(c1 - c0) / static_cast<double>(state.iterations());
}

void set_path(benchmark::State& state) {
  set_adx_enabled(state.range(0) != 0);
}

void BM_fp_mul(benchmark::State& state) {
  set_path(state);
  Fp a = random_field<Fp>(), b = random_field<Fp>();
  with_cycles(state, [&] {
    a = a * b;
    benchmark::DoNotOptimize(a);
  });
  set_adx_enabled(true);
}
BENCHMARK(BM_fp_mul)->Arg(1)->Arg(0)->ArgName("adx");

void BM_fp_add(benchmark::State& state) {
  Fp a = random_field<Fp>(), b = random_field<Fp>();
  with_cycles(state, [&] {
    a = a + b;
    benchmark::DoNotOptimize(a);
  });
}
BENCHMARK(BM_fp_add);

void BM_fp_sub(benchmark::State& state) {
  Fp a = random_field<Fp>(), b = random_field<Fp>();
  with_cycles(state, [&] {
    a = a - b;
    benchmark::DoNotOptimize(a);
  });
}
BENCHMARK(BM_fp_sub);

void BM_fp2_mul(benchmark::State& state) {
  Fp2 a = random_fp2(), b = random_fp2();
  with_cycles(state, [&] {
    a = a * b;
    benchmark::DoNotOptimize(a);
  });
}
BENCHMARK(BM_fp2_mul);

void BM_fp12_mul(benchmark::State& state) {
  Fp12 a = random_fp12(), b = random_fp12();
  with_cycles(state, [&] {
    a = a * b;
    benchmark::DoNotOptimize(a);
  });
}
BENCHMARK(BM_fp12_mul);

void BM_fp12_square(benchmark::State& state) {
  Fp12 a = random_fp12();
  with_cycles(state, [&] {
    a = a.square();
    benchmark::DoNotOptimize(a);
  });
}
BENCHMARK(BM_fp12_square);

void BM_fp12_cyclotomic_square(benchmark::State& state) {
  Fp12 a = random_fp12();
  with_cycles(state, [&] {
    a = a.cyclotomic_square();
    benchmark::DoNotOptimize(a);
  });
}
BENCHMARK(BM_fp12_cyclotomic_square);

void BM_g1_scalar_mul(benchmark::State& state) {
  // GLV: the scalar split in two halves of about 128 bits, one for p and one for phi(p).
  const G1 p = G1::from_affine(random_g1());
  const Limbs k = random_field<Fr>().to_canonical();
  with_cycles(state, [&] { benchmark::DoNotOptimize(g1_mul_vartime(p, k)); });
}
BENCHMARK(BM_g1_scalar_mul);

void BM_g1_scalar_mul_wnaf(benchmark::State& state) {
  // Width-5 NAF double-and-add over the whole scalar (before GLV).
  const G1 p = G1::from_affine(random_g1());
  const Limbs k = random_field<Fr>().to_canonical();
  with_cycles(state, [&] { benchmark::DoNotOptimize(p.mul_vartime(k)); });
}
BENCHMARK(BM_g1_scalar_mul_wnaf);

void BM_glv_split(benchmark::State& state) {
  const Limbs k = random_field<Fr>().to_canonical();
  with_cycles(state, [&] { benchmark::DoNotOptimize(glv_split(k)); });
}
BENCHMARK(BM_glv_split);

void BM_g2_scalar_mul(benchmark::State& state) {
  // GLS: k = k0 + k1 6x^2, psi(p) = 6x^2 p.
  const G2 p = G2::from_affine(random_g2());
  const Limbs k = random_field<Fr>().to_canonical();
  with_cycles(state, [&] { benchmark::DoNotOptimize(g2_mul_vartime(p, k)); });
}
BENCHMARK(BM_g2_scalar_mul);

void BM_g2_scalar_mul_wnaf(benchmark::State& state) {
  const G2 p = G2::from_affine(random_g2());
  const Limbs k = random_field<Fr>().to_canonical();
  with_cycles(state, [&] { benchmark::DoNotOptimize(p.mul_vartime(k)); });
}
BENCHMARK(BM_g2_scalar_mul_wnaf);

void BM_g2_subgroup_check(benchmark::State& state) {
  const G2Affine q = random_g2();
  with_cycles(state, [&] { benchmark::DoNotOptimize(g2_in_subgroup_vartime(q)); });
}
BENCHMARK(BM_g2_subgroup_check);

void BM_miller_loop(benchmark::State& state) {
  const PointPair pair{random_g1(), random_g2()};
  with_cycles(state, [&] { benchmark::DoNotOptimize(multi_miller_loop({}, std::span(&pair, 1))); });
}
BENCHMARK(BM_miller_loop);

void BM_miller_loop_prepared(benchmark::State& state) {
  const G2Prepared q = G2Prepared::prepare(random_g2());
  const PreparedPair pair{random_g1(), &q};
  with_cycles(state, [&] { benchmark::DoNotOptimize(multi_miller_loop(std::span(&pair, 1), {})); });
}
BENCHMARK(BM_miller_loop_prepared);

/// The Groth16 verify's pairing work: two prepared pairs (gamma, delta), one on-the-fly (A, B),
/// one final exponentiation.
void BM_verify_pairings(benchmark::State& state) {
  const G2Prepared gamma = G2Prepared::prepare(random_g2());
  const G2Prepared delta = G2Prepared::prepare(random_g2());
  const std::array<PreparedPair, 2> prepared{PreparedPair{random_g1(), &gamma},
                                             PreparedPair{random_g1(), &delta}};
  const PointPair dynamic{random_g1(), random_g2()};
  with_cycles(state, [&] {
    benchmark::DoNotOptimize(
        final_exponentiation(multi_miller_loop(prepared, std::span(&dynamic, 1))));
  });
}
BENCHMARK(BM_verify_pairings);

void BM_final_exponentiation(benchmark::State& state) {
  const Fp12 f = random_fp12();
  with_cycles(state, [&] { benchmark::DoNotOptimize(final_exponentiation(f)); });
}
BENCHMARK(BM_final_exponentiation);

void BM_pairing(benchmark::State& state) {
  const G1Affine p = random_g1();
  const G2Affine q = random_g2();
  with_cycles(state, [&] { benchmark::DoNotOptimize(pairing(p, q)); });
}
BENCHMARK(BM_pairing);

}  // namespace

BENCHMARK_MAIN();
