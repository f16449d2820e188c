// The issuer's Poseidon Merkle tree (tree.hpp).
#include "issuer/tree.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/poseidon.hpp"
#include "crypto/poseidon_batch.hpp"

namespace pg::issuer {
namespace {

using crypto::Fr;

void check_depth(int depth) {
  if (depth < 1 || depth > kMaxTreeDepth)
    throw std::invalid_argument("tree depth " + std::to_string(depth) + " is outside 1.." +
                                std::to_string(kMaxTreeDepth));
}

/// zeros[l]: the root of an empty subtree of height l.
std::array<Fr, kMaxTreeDepth + 1> make_empty_roots() noexcept {
  std::array<Fr, kMaxTreeDepth + 1> zeros{};
  zeros[0] = Fr::zero();
  for (int l = 1; l <= kMaxTreeDepth; ++l) zeros[l] = hash_node(zeros[l - 1], zeros[l - 1]);
  return zeros;
}

/// Levels with fewer pairs than this are hashed on the calling thread: below it a thread's start
/// costs more than it saves (a pair is one Poseidon, 1.5 us batched, 12 us alone).
constexpr std::size_t kParallelPairs = 4096;

/// Workers' slices start on multiples of this, the batch kernel's widest step (16 lanes), so that
/// only the level's last slice has a partial vector.
constexpr std::size_t kSliceAlign = 16;

/// above[p] = hash_node(below[2p], below[2p + 1]) for p in [begin, end), batched (AVX-512 IFMA
/// when the CPU has it).
void hash_pairs(const std::vector<Fr>& below, std::vector<Fr>& above, std::size_t begin,
                std::size_t end) noexcept {
  [[maybe_unused]] const bool ok =
      crypto::poseidon_hash2_pairs(std::span(below).subspan(2 * begin, 2 * (end - begin)),
                                   std::span(above).subspan(begin, end - begin));
  assert(ok);  // the sizes are 2(end - begin) and end - begin by construction
}

/// hash_pairs over [0, pairs), split across the machine's cores when there are many pairs. Each
/// worker writes its own slice of `above`, so they share nothing but the read-only level below.
void hash_level(const std::vector<Fr>& below, std::vector<Fr>& above, std::size_t pairs) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::min<std::size_t>({cores, 16, pairs / kParallelPairs + 1});
  if (workers <= 1) return hash_pairs(below, above, 0, pairs);
  std::vector<std::jthread> threads;
  threads.reserve(workers - 1);
  const std::size_t per_worker = (pairs + workers - 1) / workers;
  const std::size_t chunk = (per_worker + kSliceAlign - 1) / kSliceAlign * kSliceAlign;
  for (std::size_t w = 1; w < workers; ++w) {
    const std::size_t begin = std::min(pairs, w * chunk);
    const std::size_t end = std::min(pairs, begin + chunk);
    threads.emplace_back([&below, &above, begin, end] { hash_pairs(below, above, begin, end); });
  }
  hash_pairs(below, above, 0, std::min(pairs, chunk));
}  // the jthreads join here

}  // namespace

Fr hash_node(const Fr& left, const Fr& right) noexcept {
  return crypto::poseidon_hash2(left, right);
}

const Fr& MerkleTree::empty_root(int level) noexcept {
  static const std::array<Fr, kMaxTreeDepth + 1> zeros = make_empty_roots();
  return zeros[static_cast<std::size_t>(level)];
}

MerkleTree::MerkleTree(int depth) : depth_(depth) {
  check_depth(depth);
  levels_.resize(static_cast<std::size_t>(depth) + 1);
  root_ = empty_root(depth);
}

MerkleTree MerkleTree::from_leaves(std::span<const Fr> leaves, int depth) {
  MerkleTree tree(depth);
  if (leaves.size() > tree.capacity())
    throw std::invalid_argument(std::to_string(leaves.size()) +
                                " leaves do not fit a tree of depth " + std::to_string(depth));
  if (leaves.empty()) return tree;
  tree.levels_[0].assign(leaves.begin(), leaves.end());
  for (int l = 0; l < depth; ++l) {
    const std::vector<Fr>& below = tree.levels_[static_cast<std::size_t>(l)];
    std::vector<Fr>& above = tree.levels_[static_cast<std::size_t>(l) + 1];
    const std::size_t n = below.size();
    above.resize((n + 1) / 2);
    hash_level(below, above, n / 2);
    if (n % 2 == 1) above[n / 2] = hash_node(below[n - 1], empty_root(l));
  }
  tree.root_ = tree.levels_[static_cast<std::size_t>(depth)][0];
  return tree;
}

std::optional<std::uint64_t> MerkleTree::append(const Fr& leaf) {
  const std::uint64_t index = size();
  if (index >= capacity()) return std::nullopt;
  levels_[0].push_back(leaf);
  update_path(index);
  return index;
}

bool MerkleTree::set(std::uint64_t index, const Fr& leaf) {
  if (index >= size()) return false;
  levels_[0][index] = leaf;
  update_path(index);
  return true;
}

void MerkleTree::truncate(std::uint64_t size) {
  if (size >= this->size()) return;
  // Level l keeps the ceil(size / 2^l) nodes over the kept leaves; the rightmost of each may have
  // covered a dropped leaf, and those are exactly the nodes above leaf size - 1.
  for (int l = 0; l <= depth_; ++l) {
    const std::uint64_t span = std::uint64_t{1} << l;
    levels_[static_cast<std::size_t>(l)].resize((size + span - 1) >> l);
  }
  if (size == 0) {
    root_ = empty_root(depth_);
    return;
  }
  update_path(size - 1);
}

void MerkleTree::update_path(std::uint64_t index) {
  for (int l = 0; l < depth_; ++l) {
    const std::vector<Fr>& below = levels_[static_cast<std::size_t>(l)];
    std::vector<Fr>& above = levels_[static_cast<std::size_t>(l) + 1];
    const std::uint64_t left = index & ~std::uint64_t{1};
    const Fr& right = left + 1 < below.size() ? below[left + 1] : empty_root(l);
    const Fr node = hash_node(below[left], right);
    index >>= 1;
    if (index < above.size())
      above[index] = node;
    else
      above.push_back(node);  // index == above.size(): the level grows by one node
  }
  root_ = levels_[static_cast<std::size_t>(depth_)][0];
}

const Fr& MerkleTree::leaf(std::uint64_t index) const {
  if (index >= size())
    throw std::out_of_range("leaf index " + std::to_string(index) +
                            " is not below the tree's size " + std::to_string(size()));
  return levels_[0][index];
}

MerklePath MerkleTree::path(std::uint64_t index) const {
  if (index >= size())
    throw std::out_of_range("leaf index " + std::to_string(index) +
                            " is not below the tree's size " + std::to_string(size()));
  MerklePath out;
  out.siblings.reserve(static_cast<std::size_t>(depth_));
  out.path_indices.reserve(static_cast<std::size_t>(depth_));
  for (int l = 0; l < depth_; ++l) {
    const std::vector<Fr>& level = levels_[static_cast<std::size_t>(l)];
    const std::uint64_t sibling = index ^ 1;
    out.siblings.push_back(sibling < level.size() ? level[sibling] : empty_root(l));
    out.path_indices.push_back(static_cast<std::uint8_t>(index & 1));
    index >>= 1;
  }
  return out;
}

Fr MerkleTree::root_from_path(const Fr& leaf, const MerklePath& path) {
  if (path.siblings.size() != path.path_indices.size())
    throw std::invalid_argument("path has " + std::to_string(path.siblings.size()) +
                                " siblings but " + std::to_string(path.path_indices.size()) +
                                " path_indices");
  if (path.siblings.size() > static_cast<std::size_t>(kMaxTreeDepth))
    throw std::invalid_argument("path is longer than " + std::to_string(kMaxTreeDepth));
  Fr node = leaf;
  for (std::size_t i = 0; i < path.siblings.size(); ++i) {
    const std::uint8_t bit = path.path_indices[i];
    if (bit > 1)
      throw std::invalid_argument("path_indices[" + std::to_string(i) + "] is " +
                                  std::to_string(bit) + ", not 0 or 1");
    node = bit == 0 ? hash_node(node, path.siblings[i]) : hash_node(path.siblings[i], node);
  }
  return node;
}

}  // namespace pg::issuer
