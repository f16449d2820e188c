// The issuer's Merkle tree (src/issuer/tree.hpp): the empty tree, append / set / path round trips,
// root_from_path as the circuit's MerkleRoot computes it, refusals, bulk build = appends, and the
// wallet's trees (tests/vectors/tree.json, written by tests/vectors/gen-tree-vectors.mjs), on both
// batch paths of the bulk build (AVX-512 IFMA and the scalar loop).
#include "issuer/tree.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/cpu.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::issuer {
namespace {

using crypto::Fr;

Fr h2(const Fr& a, const Fr& b) {
  const std::array<Fr, 2> in{a, b};
  return crypto::poseidon_hash(in);
}

/// Distinct, non-zero leaves.
std::vector<Fr> some_leaves(std::size_t n, std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::vector<Fr> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(Fr::from_canonical(crypto::Limbs{rng(), rng(), rng(), rng() >> 4}));
  return out;
}

/// Restores the Poseidon batch path a test changed.
class IfmaGuard {
 public:
  IfmaGuard() : saved_(crypto::cpu_has_ifma()) {}
  ~IfmaGuard() { crypto::set_ifma_enabled(saved_); }

 private:
  bool saved_;
};

/// Each leaf's path leads back to the tree's root.
void expect_all_paths_lead_to_root(const MerkleTree& t) {
  for (std::uint64_t i = 0; i < t.size(); ++i) {
    const MerklePath p = t.path(i);
    ASSERT_EQ(p.siblings.size(), static_cast<std::size_t>(t.depth()));
    EXPECT_EQ(MerkleTree::root_from_path(t.leaf(i), p), t.root()) << "leaf " << i;
  }
}

TEST(MerkleTreeTest, empty_root_is_the_zero_chain) {
  Fr z = Fr::zero();
  for (int l = 0; l < kTreeDepth; ++l) {
    EXPECT_EQ(MerkleTree::empty_root(l), z) << "level " << l;
    z = h2(z, z);
  }
  const MerkleTree t;
  EXPECT_EQ(t.root(), z);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.capacity(), std::uint64_t{1} << 20);
  EXPECT_EQ(MerkleTree::from_leaves({}).root(), z);
}

TEST(MerkleTreeTest, one_leaf_root_is_the_leaf_hashed_up_with_empty_subtrees) {
  MerkleTree t(4);
  const Fr leaf = Fr::from_u64(42);
  ASSERT_EQ(t.append(leaf), std::optional<std::uint64_t>(0));
  Fr expected = leaf;
  for (int l = 0; l < 4; ++l) expected = h2(expected, MerkleTree::empty_root(l));
  EXPECT_EQ(t.root(), expected);
  EXPECT_EQ(t.leaf(0), leaf);
}

TEST(MerkleTreeTest, append_returns_consecutive_indices_and_every_path_leads_to_the_root) {
  MerkleTree t(6);
  const auto leaves = some_leaves(37);
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const Fr before = t.root();
    ASSERT_EQ(t.append(leaves[i]), std::optional<std::uint64_t>(i));
    EXPECT_NE(t.root(), before);
    EXPECT_EQ(t.size(), i + 1);
  }
  expect_all_paths_lead_to_root(t);
}

TEST(MerkleTreeTest, path_indices_are_the_index_bits_from_the_leaves_up) {
  MerkleTree t(5);
  for (const Fr& l : some_leaves(23)) (void)t.append(l);
  const MerklePath p = t.path(22);  // 0b10110
  const std::array<std::uint8_t, 5> bits{0, 1, 1, 0, 1};
  for (std::size_t i = 0; i < bits.size(); ++i) EXPECT_EQ(p.path_indices[i], bits[i]) << i;
  // Leaf 23 is not appended yet: the sibling is the empty leaf; one level up, node 10 covers
  // 20, 21.
  EXPECT_EQ(p.siblings[0], Fr::zero());
  EXPECT_EQ(p.siblings[1], h2(t.leaf(20), t.leaf(21)));
}

TEST(MerkleTreeTest, set_changes_the_root_and_setting_back_restores_it) {
  MerkleTree t(5);
  for (const Fr& l : some_leaves(13)) (void)t.append(l);
  const Fr root = t.root();
  const Fr old = t.leaf(6);
  ASSERT_TRUE(t.set(6, Fr::zero()));  // revocation
  EXPECT_NE(t.root(), root);
  EXPECT_EQ(t.leaf(6), Fr::zero());
  expect_all_paths_lead_to_root(t);
  ASSERT_TRUE(t.set(6, old));
  EXPECT_EQ(t.root(), root);
}

TEST(MerkleTreeTest, truncate_gives_the_tree_of_the_kept_leaves_and_appending_goes_on) {
  const std::vector<Fr> leaves = some_leaves(23);
  for (std::size_t keep : {0u, 1u, 2u, 7u, 8u, 9u, 16u, 22u, 23u}) {
    MerkleTree t(5);
    for (const Fr& l : leaves) (void)t.append(l);
    t.truncate(keep);
    const MerkleTree expected =
        MerkleTree::from_leaves(std::span<const Fr>(leaves.data(), keep), 5);
    EXPECT_EQ(t.size(), keep);
    EXPECT_EQ(t.root(), expected.root()) << keep;
    expect_all_paths_lead_to_root(t);
    // Appending again gives the same tree as never having appended the dropped leaves.
    for (std::size_t i = keep; i < leaves.size(); ++i) (void)t.append(leaves[(i * 7) % 23]);
    MerkleTree again(5);
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      (void)again.append(i < keep ? leaves[i] : leaves[(i * 7) % 23]);
    }
    EXPECT_EQ(t.root(), again.root()) << keep;
  }
}

TEST(MerkleTreeTest, revoking_the_only_leaf_gives_the_empty_root_with_size_kept) {
  MerkleTree t(8);
  (void)t.append(Fr::from_u64(5));
  ASSERT_TRUE(t.set(0, Fr::zero()));
  EXPECT_EQ(t.root(), MerkleTree::empty_root(8));
  EXPECT_EQ(t.size(), 1u);
}

TEST(MerkleTreeTest, set_refuses_an_index_not_appended_and_changes_nothing) {
  MerkleTree t(4);
  (void)t.append(Fr::from_u64(1));
  const Fr root = t.root();
  EXPECT_FALSE(t.set(1, Fr::from_u64(9)));
  EXPECT_FALSE(t.set(~std::uint64_t{0}, Fr::from_u64(9)));
  EXPECT_EQ(t.root(), root);
  EXPECT_EQ(t.size(), 1u);
}

TEST(MerkleTreeTest, leaf_and_path_refuse_an_index_not_appended) {
  MerkleTree t(4);
  EXPECT_THROW((void)t.leaf(0), std::out_of_range);
  EXPECT_THROW((void)t.path(0), std::out_of_range);
  (void)t.append(Fr::from_u64(1));
  EXPECT_NO_THROW((void)t.path(0));
  EXPECT_THROW((void)t.path(1), std::out_of_range);
  EXPECT_THROW((void)t.leaf(16), std::out_of_range);
}

TEST(MerkleTreeTest, a_full_tree_refuses_append) {
  MerkleTree t(3);
  for (std::uint64_t i = 0; i < 8; ++i) ASSERT_EQ(t.append(Fr::from_u64(i + 1)), i);
  const Fr root = t.root();
  EXPECT_EQ(t.append(Fr::from_u64(99)), std::nullopt);
  EXPECT_EQ(t.size(), 8u);
  EXPECT_EQ(t.root(), root);
  expect_all_paths_lead_to_root(t);
  EXPECT_TRUE(t.set(7, Fr::zero()));  // a full tree still revokes
}

TEST(MerkleTreeTest, refuses_a_depth_outside_the_supported_range) {
  EXPECT_THROW(MerkleTree(0), std::invalid_argument);
  EXPECT_THROW(MerkleTree(-1), std::invalid_argument);
  EXPECT_THROW(MerkleTree(kMaxTreeDepth + 1), std::invalid_argument);
  EXPECT_NO_THROW(MerkleTree(1));
  const auto leaves = some_leaves(2);
  EXPECT_THROW((void)MerkleTree::from_leaves(leaves, 0), std::invalid_argument);
}

TEST(MerkleTreeTest, from_leaves_refuses_more_leaves_than_capacity) {
  const auto leaves = some_leaves(9);
  EXPECT_THROW((void)MerkleTree::from_leaves(leaves, 3), std::invalid_argument);
  EXPECT_NO_THROW((void)MerkleTree::from_leaves(std::span(leaves).first(8), 3));
}

TEST(MerkleTreeTest, from_leaves_equals_repeated_append_for_every_size) {
  const auto leaves = some_leaves(33, 7);
  for (std::size_t n = 0; n <= leaves.size(); ++n) {
    MerkleTree appended(6);
    for (std::size_t i = 0; i < n; ++i) (void)appended.append(leaves[i]);
    const MerkleTree built = MerkleTree::from_leaves(std::span(leaves).first(n), 6);
    ASSERT_EQ(built.size(), n);
    EXPECT_EQ(built.root(), appended.root()) << n << " leaves";
    for (std::uint64_t i = 0; i < n; ++i) {
      const MerklePath a = appended.path(i);
      const MerklePath b = built.path(i);
      EXPECT_EQ(a.siblings, b.siblings) << n << " leaves, index " << i;
      EXPECT_EQ(a.path_indices, b.path_indices);
    }
  }
}

TEST(MerkleTreeTest, from_leaves_split_across_threads_equals_a_level_by_level_reference) {
  // More than 4096 pairs at the bottom level, so from_leaves splits it across the cores (when the
  // machine has more than one), with chunk edges that fall on odd places.
  const auto leaves = some_leaves(8195, 11);
  std::vector<Fr> level = leaves;
  for (int l = 0; l < 14; ++l) {
    std::vector<Fr> up;
    for (std::size_t i = 0; i < level.size(); i += 2)
      up.push_back(h2(level[i], i + 1 < level.size() ? level[i + 1] : MerkleTree::empty_root(l)));
    level = up;
  }
  const MerkleTree built = MerkleTree::from_leaves(leaves, 14);
  EXPECT_EQ(built.root(), level[0]);
  for (const std::uint64_t i :
       {0ull, 2047ull, 2048ull, 4097ull, 6143ull, 6144ull, 8193ull, 8194ull})
    EXPECT_EQ(MerkleTree::root_from_path(leaves[i], built.path(i)), built.root()) << "leaf " << i;
}

TEST(MerkleTreeTest, from_leaves_on_the_ifma_path_equals_the_scalar_path_node_for_node) {
  // Sizes around the kernel's 8- and 16-lane steps and a level split across threads (> 4096
  // pairs); every leaf's path and the root compared, so every stored node is.
  IfmaGuard guard;
  const auto leaves = some_leaves(8195, 5);
  for (const std::size_t n : {1u, 2u, 15u, 16u, 17u, 31u, 33u, 47u, 255u, 256u, 8195u}) {
    crypto::set_ifma_enabled(true);
    const MerkleTree fast = MerkleTree::from_leaves(std::span(leaves).first(n), 14);
    crypto::set_ifma_enabled(false);
    const MerkleTree scalar = MerkleTree::from_leaves(std::span(leaves).first(n), 14);
    ASSERT_EQ(fast.root(), scalar.root()) << n << " leaves";
    for (std::uint64_t i = 0; i < n; ++i) {
      const MerklePath a = fast.path(i);
      ASSERT_EQ(a.siblings, scalar.path(i).siblings) << n << " leaves, index " << i;
    }
    EXPECT_EQ(MerkleTree::root_from_path(leaves[n - 1], fast.path(n - 1)), fast.root());
  }
}

TEST(MerkleTreeTest, a_tree_built_from_leaves_keeps_appending_and_setting) {
  const auto leaves = some_leaves(20, 3);
  MerkleTree built = MerkleTree::from_leaves(std::span(leaves).first(11), 5);
  MerkleTree appended(5);
  for (std::size_t i = 0; i < 11; ++i) (void)appended.append(leaves[i]);
  for (std::size_t i = 11; i < 20; ++i) {
    EXPECT_EQ(built.append(leaves[i]), appended.append(leaves[i]));
    EXPECT_EQ(built.root(), appended.root());
  }
  ASSERT_TRUE(built.set(3, Fr::zero()));
  ASSERT_TRUE(appended.set(3, Fr::zero()));
  EXPECT_EQ(built.root(), appended.root());
  expect_all_paths_lead_to_root(built);
}

TEST(MerkleTreeTest, root_from_path_puts_the_node_left_on_0_and_right_on_1) {
  const Fr leaf = Fr::from_u64(3);
  const Fr a = Fr::from_u64(10);
  const Fr b = Fr::from_u64(20);
  const MerklePath p{{a, b}, {1, 0}};
  EXPECT_EQ(MerkleTree::root_from_path(leaf, p), h2(h2(a, leaf), b));
  EXPECT_EQ(MerkleTree::root_from_path(leaf, MerklePath{}), leaf);
}

TEST(MerkleTreeTest, a_wrong_sibling_or_direction_gives_another_root) {
  MerkleTree t(6);
  for (const Fr& l : some_leaves(40)) (void)t.append(l);
  MerklePath p = t.path(17);
  p.path_indices[2] ^= 1;
  EXPECT_NE(MerkleTree::root_from_path(t.leaf(17), p), t.root());
  p = t.path(17);
  p.siblings[5] += Fr::one();
  EXPECT_NE(MerkleTree::root_from_path(t.leaf(17), p), t.root());
  EXPECT_NE(MerkleTree::root_from_path(t.leaf(18), t.path(17)), t.root());
}

TEST(MerkleTreeTest, root_from_path_refuses_a_malformed_path) {
  const Fr leaf = Fr::from_u64(3);
  EXPECT_THROW((void)MerkleTree::root_from_path(leaf, MerklePath{{leaf, leaf}, {0}}),
               std::invalid_argument);
  EXPECT_THROW((void)MerkleTree::root_from_path(leaf, MerklePath{{leaf}, {2}}),
               std::invalid_argument);
  const MerklePath too_long{std::vector<Fr>(kMaxTreeDepth + 1, leaf),
                            std::vector<std::uint8_t>(kMaxTreeDepth + 1, 0)};
  EXPECT_THROW((void)MerkleTree::root_from_path(leaf, too_long), std::invalid_argument);
}

namespace json = boost::json;

json::value tree_vectors() {
  std::ifstream in(std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/tree.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

Fr fr(const json::value& v) {
  crypto::Limbs l{};
  const std::string s(v.as_string().c_str());
  EXPECT_TRUE(crypto::limbs_from_decimal(s, l)) << s;
  return Fr::from_canonical(l);
}

std::string dec(const Fr& x) {
  return crypto::snarkjs::to_decimal(x.to_canonical());
}

void expect_roots_and_paths_match_the_wallets_tree() {
  const json::value v = tree_vectors();
  ASSERT_EQ(v.at("depth").as_int64(), kTreeDepth);
  const json::array& trees = v.at("trees").as_array();
  ASSERT_GE(trees.size(), 5u);
  for (const json::value& t : trees) {
    const std::string name(t.at("name").as_string().c_str());
    std::vector<Fr> leaves;
    for (const json::value& l : t.at("leaves").as_array()) leaves.push_back(fr(l));

    // The same tree three ways: bulk, appended, and appended then revoked where the vector has 0.
    const MerkleTree built = MerkleTree::from_leaves(leaves);
    MerkleTree appended;
    MerkleTree revoked_later;
    for (const Fr& l : leaves) {
      (void)appended.append(l);
      (void)revoked_later.append(l.is_zero() ? Fr::one() : l);
    }
    for (std::uint64_t i = 0; i < leaves.size(); ++i) {
      if (leaves[i].is_zero()) {
        ASSERT_TRUE(revoked_later.set(i, Fr::zero()));
      }
    }

    const std::string root(t.at("root").as_string().c_str());
    EXPECT_EQ(dec(built.root()), root) << name;
    EXPECT_EQ(dec(appended.root()), root) << name;
    EXPECT_EQ(dec(revoked_later.root()), root) << name;

    for (const json::value& pv : t.at("paths").as_array()) {
      const auto index = static_cast<std::uint64_t>(pv.at("index").as_int64());
      const json::array& sib = pv.at("siblings").as_array();
      const json::array& bits = pv.at("path_indices").as_array();
      for (const MerkleTree* tree :
           std::array<const MerkleTree*, 3>{&built, &appended, &revoked_later}) {
        const MerklePath p = tree->path(index);
        ASSERT_EQ(p.siblings.size(), sib.size()) << name;
        for (std::size_t i = 0; i < sib.size(); ++i) {
          EXPECT_EQ(dec(p.siblings[i]), sib[i].as_string().c_str())
              << name << " index " << index << " level " << i;
          EXPECT_EQ(p.path_indices[i], bits[i].as_int64())
              << name << " index " << index << " level " << i;
        }
      }
      MerklePath from_json;
      for (std::size_t i = 0; i < sib.size(); ++i) {
        from_json.siblings.push_back(fr(sib[i]));
        from_json.path_indices.push_back(static_cast<std::uint8_t>(bits[i].as_int64()));
      }
      EXPECT_EQ(dec(MerkleTree::root_from_path(leaves[index], from_json)), root)
          << name << " index " << index;
    }
  }
}

TEST(MerkleTreeVectorsTest, roots_and_paths_match_the_wallets_tree) {
  IfmaGuard guard;
  crypto::set_ifma_enabled(true);  // the bulk build's batches on AVX-512 IFMA when the CPU has it
  expect_roots_and_paths_match_the_wallets_tree();
}

TEST(MerkleTreeVectorsTest, roots_and_paths_match_the_wallets_tree_on_the_scalar_batch_path) {
  IfmaGuard guard;
  crypto::set_ifma_enabled(false);
  expect_roots_and_paths_match_the_wallets_tree();
}

}  // namespace
}  // namespace pg::issuer
