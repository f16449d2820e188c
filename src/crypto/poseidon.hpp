// Poseidon over the BN254 scalar field, bit-for-bit the hash of circomlib's Poseidon(nInputs)
// template and circomlibjs's `poseidon` (x^5 S-box, 8 full rounds, N_ROUNDS_P partial rounds,
// state = [0, inputs...], output state[0]) for every width circomlib has: 1..16 inputs.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "crypto/bn254.hpp"

namespace pg::crypto {

/// The largest number of inputs circomlib's Poseidon takes (state width t = 17).
inline constexpr std::size_t kPoseidonMaxInputs = 16;

/// Poseidon(inputs) as circomlib's Poseidon(inputs.size()) computes it.
/// Precondition: 1 <= inputs.size() <= kPoseidonMaxInputs (checked by assert in debug builds
/// only; use poseidon_hash_checked for sizes that come from outside). Allocates nothing;
/// constant-time in the input values.
Fr poseidon_hash(std::span<const Fr> inputs) noexcept;

/// poseidon_hash({left, right}), bit for bit, specialised for the width t = 3 a Merkle tree node
/// uses: the loops unrolled, the first round's constant S-box precomputed, and every dot product
/// summed as 512-bit products with one Montgomery reduction. Allocates nothing; constant-time.
Fr poseidon_hash2(const Fr& left, const Fr& right) noexcept;

/// poseidon_hash(inputs), or nullopt when inputs.size() is outside 1..kPoseidonMaxInputs.
std::optional<Fr> poseidon_hash_checked(std::span<const Fr> inputs) noexcept;

}  // namespace pg::crypto
