// The interface between the Poseidon(2) batch dispatcher (poseidon_batch.cpp) and its AVX-512 IFMA
// kernel (poseidon_ifma.cpp, the only file compiled with -mavx512ifma). Plain structs and one
// function, so that no inline function of ours is compiled with AVX-512 code in that file (the
// linker may keep any copy of an inline function, and an AVX-512 one would crash other CPUs).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pg::crypto::detail {

/// Lanes of one AVX-512 vector of 64-bit words: the kernel hashes this many pairs per call.
inline constexpr std::size_t kIfmaLanes = 8;
/// Limbs of 52 bits: 5 x 52 = 260 bits hold Fr, and R = 2^260 is the Montgomery radix.
inline constexpr std::size_t kIfmaLimbs = 5;

inline constexpr std::size_t kIfmaWidth = 3;           ///< state width t of Poseidon(2)
inline constexpr std::size_t kIfmaFullRounds = 8;      ///< full rounds, circomlib's N_ROUNDS_F
inline constexpr std::size_t kIfmaPartialRounds = 57;  ///< N_ROUNDS_P[1]
inline constexpr std::size_t kIfmaRoundConstants =
    kIfmaFullRounds * kIfmaWidth + kIfmaPartialRounds;
inline constexpr std::size_t kIfmaSparse = kIfmaPartialRounds * (2 * kIfmaWidth - 1);

/// One field element in radix 2^52, limb 0 least significant, each limb below 2^52.
struct IfmaElement {
  std::uint64_t limb[kIfmaLimbs];
};

/// Poseidon(2)'s tables (poseidon_constants.cpp, width 3) in the kernel's Montgomery form
/// x * 2^260 mod r, and the constants of the arithmetic. Filled once by poseidon_batch.cpp.
struct PoseidonIfmaTables {
  IfmaElement c[kIfmaRoundConstants];      ///< round constants
  IfmaElement s[kIfmaSparse];              ///< sparse partial-round matrices
  IfmaElement m[kIfmaWidth * kIfmaWidth];  ///< MDS matrix, m[j * 3 + i] = M[j][i]
  IfmaElement p[kIfmaWidth * kIfmaWidth];  ///< pre-sparse matrix
  IfmaElement first_word;  ///< pow5(c[0]) + c[3]: state[0] after the first S-box, for every input
  IfmaElement into;        ///< 2^264 mod r (an integer): x * 2^256 -> x * 2^260
  IfmaElement out_of;      ///< 2^256 mod r (an integer): x * 2^260 -> x * 2^256
  IfmaElement modulus;     ///< r
  IfmaElement twice_modulus;  ///< 2r
  std::uint64_t neg_inv;      ///< -r^-1 mod 2^52
};

/// True when poseidon_ifma.cpp was compiled with the IFMA kernel (x86-64 with a compiler that
/// takes -mavx512ifma); the CPU must still be checked (cpu_supports_ifma) before calling it.
extern const bool kIfmaKernelCompiled;

/// Hashes 8 pairs: out[8k .. 8k+3] (k = lane) = Poseidon(left lane k, right lane k), every value
/// given and returned as the 4 little-endian 64-bit limbs of its Montgomery form x * 2^256 mod r
/// (Fr's), below r. Constant-time. Precondition: kIfmaKernelCompiled and the CPU has AVX-512 F,
/// VL and IFMA.
void poseidon2_ifma_x8(const PoseidonIfmaTables& tables, const std::uint64_t* left,
                       const std::uint64_t* right, std::uint64_t* out) noexcept;

/// The same for 16 pairs (lanes 0..15), two vectors interleaved to hide the multiplications'
/// latency.
void poseidon2_ifma_x16(const PoseidonIfmaTables& tables, const std::uint64_t* left,
                        const std::uint64_t* right, std::uint64_t* out) noexcept;

}  // namespace pg::crypto::detail
