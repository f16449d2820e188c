// Groth16 verification on BN254 over a prepared verification key: e(alpha, beta) computed once,
// the Miller-loop lines of beta, gamma and delta precomputed, fixed-base tables for the IC points
// (the public-input multi-scalar multiplication), one multi-Miller loop and one final
// exponentiation per proof; and batch verification of many proofs under one key.
// Groth, "On the Size of Pairing-based Non-interactive Arguments", EUROCRYPT 2016 (ePrint
// 2016/260), §3.2: e(A, B) = e(alpha, beta) e(sum_i a_i IC_i, gamma) e(C, delta).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "crypto/pairing.hpp"
#include "crypto/result.hpp"

namespace pg::crypto {

/// The most public signals a key may have. Each IC point gets a 69 KB fixed-base table, so this
/// bounds a prepared key at about 18 MB; a hostile key cannot make us allocate gigabytes.
inline constexpr std::size_t kMaxPublicSignals = 256;

/// A verification key as snarkjs exports it (vk_alphabeta_12 is not kept: we compute it).
struct VerifyingKey {
  G1Affine alpha;
  G2Affine beta, gamma, delta;
  std::vector<G1Affine> ic;  // ic.size() == number of public signals + 1
};

struct Proof {
  G1Affine a;
  G2Affine b;
  G1Affine c;
};

/// Checks a proof's points: on their curves, B in G2, none the identity (an honest prover's
/// A, B, C are never the identity). Returns the field at fault ("pi_a", "pi_b", "pi_c").
Result<bool> check_proof_points(const Proof& proof);

/// k * P for any 256-bit k with precomputed multiples of P: for each 4-bit window j the points
/// d * 16^j * P (d = 1..15), so a multiplication is at most 64 mixed additions and no doubling.
class FixedBaseTable {
 public:
  static constexpr int kWindowBits = 4;
  static constexpr int kWindows = 256 / kWindowBits;
  static constexpr int kDigits = (1 << kWindowBits) - 1;

  explicit FixedBaseTable(const G1Affine& base);
  /// acc += k * base.
  void accumulate(G1& acc, const Limbs& k) const noexcept;

 private:
  std::vector<G1Affine> table_;  // kWindows * kDigits points, window-major
};

/// Batch coefficients a + b lambda (lambda from g1_endomorphism), a and b 64-bit integers from the
/// OS CSPRNG, drawn again when both are zero. Throws std::runtime_error when the OS has no
/// randomness to give.
///
/// Distinct pairs give distinct coefficients modulo r, so each coefficient is uniform over
/// 2^128 - 1 nonzero values and a bad proof passes the combined check with probability at most
/// 1/(2^128 - 1), as with 128-bit integer coefficients. Proof: two pairs with the same
/// coefficient differ by (a, b) with a + b lambda = 0 (mod r) and |a|, |b| < 2^64. If b != 0,
/// then lambda = -a/b and lambda^3 = 1 give a^3 + b^3 = 0 (mod r); as |a^3 + b^3| < 2^193 < r,
/// a^3 + b^3 = 0 over the integers, so a = -b and lambda = 1, which a primitive cube root of
/// unity is not. So b = 0, and then a = 0. A coefficient's multiple of a point then costs 64
/// doublings (a P + b phi(P), interleaved) instead of 128.
void draw_batch_coefficients(std::span<GlvScalar> out);

/// A verification key checked and prepared for repeated verification. Immutable once made, so
/// one instance can be shared by threads (the server keeps these in an LRU).
class PreparedVerifyingKey {
 public:
  /// Checks the key and prepares it. Refuses: an identity alpha, beta, gamma, delta or IC point,
  /// points off their curves or outside their subgroups, an empty IC or more than
  /// kMaxPublicSignals + 1 IC points, two IC points equal up to sign (their public signals could
  /// be traded against each other), delta == +-gamma or delta == +-the G2 generator (no phase-2
  /// contribution: anyone can forge proofs).
  static Result<std::shared_ptr<const PreparedVerifyingKey>> prepare(const VerifyingKey& vk);

  std::size_t num_public() const noexcept { return ic_tables_.size() - 1; }

  /// True when the proof is valid for these public signals. Preconditions: the proof's points
  /// passed check_proof_points, and publics.size() == num_public() (otherwise: false).
  bool verify(const Proof& proof, std::span<const Fr> publics) const;

  struct BatchItem {
    Proof proof;
    std::vector<Fr> publics;
  };

  /// A verdict per proof, equal to verify() on each. The whole batch is checked at once with a
  /// random linear combination sharing one Miller loop and one final exponentiation; its
  /// coefficients are a + b lambda with 64-bit a, b from the OS CSPRNG (2^128 distinct values
  /// each but zero, see draw_batch_coefficients). When that check fails, the batch is bisected to
  /// find the bad proofs. The preconditions of verify() apply to every item.
  std::vector<bool> verify_batch(std::span<const BatchItem> items) const;

  /// The verdicts of a batch whose combined check (verify_together) failed: verify_batch without
  /// its first check, starting from the two halves. Same verdicts as verify_batch.
  std::vector<bool> verify_halves(std::span<const BatchItem> items) const;

  /// The combined check alone: true when all items pass one random linear combination (so,
  /// except with probability 1/(2^128 - 1), when every item is valid). Empty: true. The
  /// preconditions of verify() apply, and every item must have num_public() signals.
  bool verify_together(std::span<const BatchItem> items) const;

 private:
  PreparedVerifyingKey() = default;
  /// sum_i s_i IC_i with IC_0's coefficient `c0`.
  G1 linear_combination(const Fr& c0, std::span<const Fr> publics) const noexcept;
  bool batch_holds(std::span<const BatchItem> items, std::span<const std::size_t> idx) const;
  /// The indices of the items with num_public() signals (the others are refused outright).
  std::vector<std::size_t> checkable(std::span<const BatchItem> items) const;
  void resolve(std::span<const BatchItem> items, std::span<const std::size_t> idx,
               std::vector<bool>& out) const;

  std::unique_ptr<const FixedBaseTable> alpha_table_;  // for the batch's (sum r_j) alpha
  Fp12 alpha_beta_;
  G2Prepared beta_, gamma_, delta_;
  std::vector<FixedBaseTable> ic_tables_;
};

}  // namespace pg::crypto
