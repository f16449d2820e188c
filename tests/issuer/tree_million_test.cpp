// One million leaves (a full depth-20 tree) built in bulk, and a few hundred random paths checked
// with root_from_path, the circuit's MerkleRoot computation, against the root (issue #12, "Trees").
// Its own ctest entry (issuer_tree_million) because it takes seconds, not milliseconds.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "issuer/tree.hpp"

namespace pg::issuer {
namespace {

using crypto::Fr;

TEST(MerkleTreeMillionTest, random_paths_of_a_full_depth_20_tree_lead_to_its_root) {
  constexpr std::uint64_t kLeaves = std::uint64_t{1} << kTreeDepth;
  std::mt19937_64 rng(20);
  std::vector<Fr> leaves;
  leaves.reserve(kLeaves);
  for (std::uint64_t i = 0; i < kLeaves; ++i)
    leaves.push_back(Fr::from_canonical(crypto::Limbs{rng(), rng(), rng(), rng() >> 4}));
  leaves[12345] = Fr::zero();  // a revoked leaf among them

  MerkleTree tree = MerkleTree::from_leaves(leaves);
  ASSERT_EQ(tree.size(), kLeaves);
  EXPECT_EQ(tree.append(Fr::one()), std::nullopt);

  std::uniform_int_distribution<std::uint64_t> pick(0, kLeaves - 1);
  std::vector<std::uint64_t> indices{0, 1, 12345, kLeaves / 2, kLeaves - 2, kLeaves - 1};
  for (int i = 0; i < 300; ++i) indices.push_back(pick(rng));
  for (const std::uint64_t i : indices) {
    const MerklePath p = tree.path(i);
    ASSERT_EQ(MerkleTree::root_from_path(leaves[i], p), tree.root()) << "leaf " << i;
    // The same path with a different leaf must not reach the root.
    ASSERT_NE(MerkleTree::root_from_path(leaves[i] + Fr::one(), p), tree.root()) << "leaf " << i;
  }

  // Revoking a leaf of the full tree moves the root, and the other paths follow it.
  const Fr before = tree.root();
  ASSERT_TRUE(tree.set(777777, Fr::zero()));
  EXPECT_NE(tree.root(), before);
  EXPECT_EQ(MerkleTree::root_from_path(Fr::zero(), tree.path(777777)), tree.root());
  EXPECT_EQ(MerkleTree::root_from_path(leaves[777776], tree.path(777776)), tree.root());
}

}  // namespace
}  // namespace pg::issuer
