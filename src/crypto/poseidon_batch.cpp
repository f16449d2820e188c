// Batched Poseidon(2): the dispatch between the AVX-512 IFMA kernel (poseidon_ifma.cpp) and the
// scalar loop, and the kernel's constant tables, converted once from poseidon_constants.cpp.
#include "crypto/poseidon_batch.hpp"

#include <cassert>
#include <cstdint>
#include <cstring>

#include "crypto/cpu.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/poseidon_constants.hpp"
#include "crypto/poseidon_ifma.hpp"

namespace pg::crypto {
namespace {

using detail::IfmaElement;
using detail::kIfmaLanes;

constexpr std::uint64_t kMask52 = (std::uint64_t{1} << 52) - 1;

/// The radix-2^52 limbs of a 256-bit integer below 2^260.
IfmaElement radix52(const Limbs& a) noexcept {
  return IfmaElement{{a[0] & kMask52, ((a[0] >> 52) | (a[1] << 12)) & kMask52,
                      ((a[1] >> 40) | (a[2] << 24)) & kMask52,
                      ((a[2] >> 28) | (a[3] << 36)) & kMask52, a[3] >> 16}};
}

/// x (an Fr) in the kernel's form x * 2^260 mod r: Fr holds x * 2^256, times 16.
IfmaElement ifma_form(const Fr& x) noexcept {
  return radix52((x * Fr::from_u64(16)).montgomery());
}

const detail::PoseidonIfmaTables& ifma_tables() noexcept {
  static const detail::PoseidonIfmaTables tables = [] {
    const detail::PoseidonParams& prm = detail::kPoseidonParams[1];
    // The kernel's table sizes are fixed at compile time; they are width 3's (checked here in
    // debug builds, and by PoseidonTest.constant_tables_have_circomlib_round_counts and every
    // PoseidonBatchTest in all builds: other sizes would give other hashes).
    assert(prm.t == detail::kIfmaWidth && prm.partial_rounds == detail::kIfmaPartialRounds);
    detail::PoseidonIfmaTables t{};
    const auto constant = [](const Limbs& l) { return Fr::from_montgomery(l); };
    for (std::size_t i = 0; i < detail::kIfmaRoundConstants; ++i)
      t.c[i] = ifma_form(constant(prm.c[i]));
    for (std::size_t i = 0; i < detail::kIfmaSparse; ++i) t.s[i] = ifma_form(constant(prm.s[i]));
    for (std::size_t i = 0; i < 9; ++i) {
      t.m[i] = ifma_form(constant(prm.m[i]));
      t.p[i] = ifma_form(constant(prm.p[i]));
    }
    const Fr c0 = constant(prm.c[0]);
    t.first_word = ifma_form(c0.square().square() * c0 + constant(prm.c[3]));
    // Fr's Montgomery limbs of 256 and of 1 are the integers 2^264 and 2^256 mod r.
    t.into = radix52(Fr::from_u64(256).montgomery());
    t.out_of = radix52(Fr::one().montgomery());
    t.modulus = radix52(Fr::kModulus);
    std::uint64_t carry = 0;
    t.twice_modulus = radix52(add_limbs(Fr::kModulus, Fr::kModulus, carry));
    t.neg_inv = Fr::kInv & kMask52;
    return t;
  }();
  return tables;
}

/// Hashes n pairs read at left[i * stride] and right[i * stride] into out[i].
void hash_strided(const Fr* left, const Fr* right, std::size_t stride, Fr* out,
                  std::size_t n) noexcept {
  std::size_t i = 0;
  if (cpu_has_ifma()) {
    const detail::PoseidonIfmaTables& tables = ifma_tables();
    constexpr std::size_t kBlock = 2 * kIfmaLanes;
    std::uint64_t a[kBlock * 4], b[kBlock * 4], h[kBlock * 4];
    const auto gather = [&](std::size_t from, std::size_t count) {
      for (std::size_t k = 0; k < count; ++k) {
        std::memcpy(a + 4 * k, left[(from + k) * stride].montgomery().data(), 32);
        std::memcpy(b + 4 * k, right[(from + k) * stride].montgomery().data(), 32);
      }
    };
    const auto scatter = [&](std::size_t from, std::size_t count) {
      for (std::size_t k = 0; k < count; ++k)
        out[from + k] =
            Fr::from_montgomery(Limbs{h[4 * k], h[4 * k + 1], h[4 * k + 2], h[4 * k + 3]});
    };
    // One kernel call on `count` pairs from i, the lanes past count hashing zeros (dropped).
    const auto step = [&](std::size_t count, bool sixteen) {
      if (count < (sixteen ? kBlock : kIfmaLanes)) {
        std::memset(a, 0, sizeof a);
        std::memset(b, 0, sizeof b);
      }
      gather(i, count);
      if (sixteen)
        detail::poseidon2_ifma_x16(tables, a, b, h);
      else
        detail::poseidon2_ifma_x8(tables, a, b, h);
      scatter(i, count);
      i += count;
    };
    while (n - i >= kBlock) step(kBlock, true);
    // The tail: an 8-lane call costs about one scalar hash (bench/poseidon_bench), a 16-lane one
    // about 1.6, so a single pair goes to the scalar loop and anything more to a padded vector.
    if (n - i > kIfmaLanes)
      step(n - i, true);
    else if (n - i >= 2)
      step(n - i, false);
  }
  for (; i < n; ++i) out[i] = poseidon_hash2(left[i * stride], right[i * stride]);
}

}  // namespace

bool poseidon_hash2_batch(std::span<const Fr> left, std::span<const Fr> right,
                          std::span<Fr> out) noexcept {
  if (left.size() != out.size() || right.size() != out.size()) return false;
  hash_strided(left.data(), right.data(), 1, out.data(), out.size());
  return true;
}

bool poseidon_hash2_pairs(std::span<const Fr> children, std::span<Fr> out) noexcept {
  if (children.size() != 2 * out.size()) return false;
  hash_strided(children.data(), children.data() + 1, 2, out.data(), out.size());
  return true;
}

}  // namespace pg::crypto
