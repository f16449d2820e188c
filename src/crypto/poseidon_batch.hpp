// Many independent Poseidon(2) hashes at once (the levels of a Merkle tree): AVX-512 IFMA, 8 or
// 16 pairs per step, when the CPU has it (cpu_has_ifma), the scalar poseidon_hash2 loop otherwise.
// Bit for bit poseidon_hash2 either way.
#pragma once

#include <span>

#include "crypto/bn254.hpp"

namespace pg::crypto {

/// out[i] = poseidon_hash2(left[i], right[i]) for every i. Returns false, writing nothing, when
/// the three sizes differ. `out` may be the same span as `left` or `right` but must not overlap
/// them otherwise. Allocates nothing; constant-time in the values (not in the count).
[[nodiscard]] bool poseidon_hash2_batch(std::span<const Fr> left, std::span<const Fr> right,
                                        std::span<Fr> out) noexcept;

/// out[i] = poseidon_hash2(children[2i], children[2i + 1]): one level of a binary tree. Returns
/// false, writing nothing, when children.size() != 2 * out.size(). `out` must not overlap
/// `children`. Allocates nothing; constant-time in the values.
[[nodiscard]] bool poseidon_hash2_pairs(std::span<const Fr> children, std::span<Fr> out) noexcept;

}  // namespace pg::crypto
