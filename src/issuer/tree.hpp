// The issuer's Poseidon Merkle tree (docs/protocol.md, docs/issuers.md "The tree"): binary, depth
// 20 by default, node = Poseidon([left, right]), empty leaf = 0; the same tree as the wallet's
// clients/wallet/src/tree.mjs and the circuits' MerkleRoot (circuits/lib/credential.circom).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "crypto/bn254.hpp"

namespace pg::issuer {

inline constexpr int kTreeDepth = 20;
/// The deepest tree MerkleTree accepts (2^32 leaves would need 128 GiB of nodes anyway).
inline constexpr int kMaxTreeDepth = 32;

/// A membership path as the circuit takes it: siblings[i] is the other child at level i (counted
/// from the leaves), path_indices[i] is 0 when the path's node is the left child, 1 when the right.
struct MerklePath {
  std::vector<crypto::Fr> siblings;
  std::vector<std::uint8_t> path_indices;
};

/// An append-only tree whose leaves can be overwritten (revocation is set(i, 0)). Dense levels in
/// memory: level l holds the ceil(size / 2^l) nodes over filled leaves, everything to their right
/// is the empty subtree of that level, so a million leaves take about 64 MiB (2 nodes of 32 bytes
/// per leaf). Not thread-safe (the node serialises writes).
class MerkleTree {
 public:
  /// An empty tree. Throws std::invalid_argument when depth is outside 1..kMaxTreeDepth.
  explicit MerkleTree(int depth = kTreeDepth);

  /// Bulk build from leaves (index = position), much faster than appending one by one: one hash
  /// per inner node, level by level, each level's pairs hashed in batches (AVX-512 IFMA, 16 at a
  /// time, when the CPU has it: crypto::poseidon_hash2_pairs), the large levels split across the
  /// machine's cores. Throws std::invalid_argument when depth is outside 1..kMaxTreeDepth or
  /// leaves.size() > 2^depth.
  static MerkleTree from_leaves(std::span<const crypto::Fr> leaves, int depth = kTreeDepth);

  int depth() const noexcept { return depth_; }
  /// Leaves appended so far (revoked ones included).
  std::uint64_t size() const noexcept { return levels_[0].size(); }
  /// 2^depth.
  std::uint64_t capacity() const noexcept { return std::uint64_t{1} << depth_; }

  /// Appends `leaf` at index size() and returns that index; nullopt when the tree is full.
  /// Costs depth hashes.
  std::optional<std::uint64_t> append(const crypto::Fr& leaf);
  /// Overwrites the leaf at `index`; false (and no change) when index >= size(). Costs depth
  /// hashes.
  bool set(std::uint64_t index, const crypto::Fr& leaf);

  /// Drops the leaves from index `size` on (no change when size >= this->size()): the tree is
  /// then the one its first `size` leaves make. Costs depth hashes.
  void truncate(std::uint64_t size);

  const crypto::Fr& root() const noexcept { return root_; }
  /// The leaf at `index`, valid until the next append. Throws std::out_of_range when
  /// index >= size().
  const crypto::Fr& leaf(std::uint64_t index) const;
  /// The membership path of the leaf at `index`. Throws std::out_of_range when index >= size().
  MerklePath path(std::uint64_t index) const;

  /// The root of an empty subtree of height `level` (0: the empty leaf, depth: the empty tree's
  /// root). Precondition: 0 <= level <= kMaxTreeDepth.
  static const crypto::Fr& empty_root(int level) noexcept;

  /// The root the circuit computes from `leaf` at `path` (checks a path independently of any
  /// tree). Throws std::invalid_argument when siblings and path_indices differ in length, a path
  /// index is neither 0 nor 1, or the path is longer than kMaxTreeDepth.
  static crypto::Fr root_from_path(const crypto::Fr& leaf, const MerklePath& path);

 private:
  /// Recomputes the nodes above leaf `index` and the root.
  void update_path(std::uint64_t index);

  int depth_;
  std::vector<std::vector<crypto::Fr>> levels_;  // levels_[0] leaves … levels_[depth] root
  crypto::Fr root_;
};

/// Poseidon([left, right]): one node of the tree.
crypto::Fr hash_node(const crypto::Fr& left, const crypto::Fr& right) noexcept;

}  // namespace pg::issuer
