// Poseidon tests: every circomlibjs/circomlib vector in tests/vectors/poseidon_circomlibjs.json on
// both multiplication paths, the published vectors, the checked variant's refusals, the shape
// of the generated constant tables, and the batched Poseidon(2) (IFMA and scalar) against
// poseidon_hash2.
#include "crypto/poseidon.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/cpu.hpp"
#include "crypto/poseidon_batch.hpp"
#include "crypto/poseidon_constants.hpp"
#include "test_util.hpp"

namespace pg::crypto {
namespace {

struct Vector {
  std::string label;
  std::vector<Fr> inputs;
  Limbs output;
};

Limbs decimal(std::string_view s) {
  Limbs l{};
  EXPECT_TRUE(limbs_from_decimal(s, l)) << s;
  return l;
}

Fr element(std::string_view s) {
  const auto v = Fr::from_canonical_checked(decimal(s));
  EXPECT_TRUE(v.has_value()) << s << " is not below r";
  return v.value_or(Fr::zero());
}

Vector parse_vector(const boost::json::object& o, std::string label) {
  Vector v{std::move(label), {}, decimal(o.at("output").as_string())};
  for (const auto& in : o.at("inputs").as_array()) v.inputs.push_back(element(in.as_string()));
  return v;
}

const boost::json::object& vector_file() {
  static const boost::json::object doc = [] {
    const std::string path =
        std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/poseidon_circomlibjs.json";
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(ss.str(), ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "cannot read " << path << ": " << ec.message();
      return boost::json::object{};
    }
    return v.as_object();
  }();
  return doc;
}

std::vector<Vector> vectors(const char* key) {
  std::vector<Vector> out;
  const auto* list = vector_file().if_contains(key);
  if (list == nullptr) return out;
  for (const auto& item : list->as_array()) {
    const auto& o = item.as_object();
    std::string label = std::string(key) + " #" + std::to_string(out.size());
    if (const auto* name = o.if_contains("name")) {
      label = std::to_string(o.at("n_inputs").as_int64()) + " inputs, " +
              std::string(name->as_string());
    }
    out.push_back(parse_vector(o, std::move(label)));
  }
  return out;
}

/// Restores the multiplication path a test changed.
class AdxGuard {
 public:
  AdxGuard() : saved_(cpu_has_adx()) {}
  ~AdxGuard() { set_adx_enabled(saved_); }

 private:
  bool saved_;
};

void expect_all_vectors_match(const std::vector<Vector>& vs) {
  for (const auto& v : vs) {
    SCOPED_TRACE(v.label);
    EXPECT_EQ(poseidon_hash(v.inputs).to_canonical(), v.output);
  }
}

TEST(PoseidonTest, vector_file_covers_every_width_with_several_input_sets) {
  std::array<int, kPoseidonMaxInputs + 1> per_width{};
  for (const auto& v : vectors("vectors")) {
    ASSERT_GE(v.inputs.size(), 1u);
    ASSERT_LE(v.inputs.size(), kPoseidonMaxInputs);
    ++per_width[v.inputs.size()];
  }
  for (std::size_t n = 1; n <= kPoseidonMaxInputs; ++n) EXPECT_GE(per_width[n], 4) << n;
  EXPECT_TRUE(vector_file().contains("source"));
}

TEST(PoseidonTest, matches_every_circomlibjs_vector) {
  expect_all_vectors_match(vectors("vectors"));
}

TEST(PoseidonTest, matches_every_circomlibjs_vector_on_the_portable_path) {
  AdxGuard guard;
  set_adx_enabled(false);
  expect_all_vectors_match(vectors("vectors"));
}

TEST(PoseidonTest, matches_circomlib_published_vectors) {
  const auto published = vectors("published");
  EXPECT_EQ(published.size(), 4u);
  expect_all_vectors_match(published);
}

TEST(PoseidonTest, hashes_1_2_to_the_published_value) {
  // Poseidon([1, 2]) from circomlib test/poseidoncircuit.js, independent of the vector file.
  const std::array<Fr, 2> in{Fr::from_u64(1), Fr::from_u64(2)};
  EXPECT_EQ(
      poseidon_hash(in).to_canonical(),
      decimal("7853200120776062878684798364095072458815029376092732009249414926327459813530"));
}

/// poseidon_hash2 against the general width-3 permutation: edge values, then random pairs.
void expect_hash2_equals_general(std::size_t random_pairs) {
  const Fr p_minus_1 = Fr::zero() - Fr::one();
  const std::array<Fr, 4> edges{Fr::zero(), Fr::one(), p_minus_1, Fr::from_u64(2)};
  for (const Fr& a : edges) {
    for (const Fr& b : edges) {
      const std::array<Fr, 2> in{a, b};
      ASSERT_EQ(poseidon_hash2(a, b), poseidon_hash(in));
    }
  }
  testing::Rng rng(0x6861736832ULL);
  for (std::size_t i = 0; i < random_pairs; ++i) {
    const std::array<Fr, 2> in{rng.field<Fr>(), rng.field<Fr>()};
    ASSERT_EQ(poseidon_hash2(in[0], in[1]), poseidon_hash(in)) << "pair " << i;
  }
}

TEST(PoseidonTest, hash2_equals_the_general_two_input_hash_on_random_inputs) {
  expect_hash2_equals_general(3000);
}

TEST(PoseidonTest, hash2_equals_the_general_two_input_hash_on_the_portable_path) {
  AdxGuard guard;
  set_adx_enabled(false);
  expect_hash2_equals_general(500);
}

TEST(PoseidonTest, hash2_matches_every_two_input_circomlibjs_vector) {
  std::size_t checked = 0;
  std::vector<Vector> all = vectors("vectors");
  for (Vector& v : vectors("published")) all.push_back(std::move(v));
  for (const Vector& v : all) {
    if (v.inputs.size() != 2) continue;
    EXPECT_EQ(poseidon_hash2(v.inputs[0], v.inputs[1]).to_canonical(), v.output) << v.label;
    ++checked;
  }
  EXPECT_GE(checked, 3u);
}

TEST(PoseidonTest, checked_refuses_no_inputs) {
  EXPECT_FALSE(poseidon_hash_checked(std::span<const Fr>{}).has_value());
}

TEST(PoseidonTest, checked_refuses_seventeen_or_more_inputs) {
  std::array<Fr, 40> in{};
  EXPECT_FALSE(poseidon_hash_checked(std::span<const Fr>(in.data(), 17)).has_value());
  EXPECT_FALSE(poseidon_hash_checked(in).has_value());
}

TEST(PoseidonTest, checked_equals_unchecked_for_every_width) {
  testing::Rng rng;
  std::array<Fr, kPoseidonMaxInputs> in{};
  for (auto& x : in) x = rng.field<Fr>();
  for (std::size_t n = 1; n <= kPoseidonMaxInputs; ++n) {
    const std::span<const Fr> s(in.data(), n);
    const auto checked = poseidon_hash_checked(s);
    ASSERT_TRUE(checked.has_value()) << n;
    EXPECT_EQ(*checked, poseidon_hash(s)) << n;
  }
}

TEST(PoseidonTest, width_and_input_order_change_the_hash) {
  const std::array<Fr, 3> in{Fr::from_u64(1), Fr::from_u64(2), Fr::zero()};
  const std::array<Fr, 2> swapped{Fr::from_u64(2), Fr::from_u64(1)};
  const Fr h2 = poseidon_hash(std::span<const Fr>(in.data(), 2));
  EXPECT_NE(h2, poseidon_hash(in));  // a trailing zero is not padding
  EXPECT_NE(h2, poseidon_hash(swapped));
}

TEST(PoseidonTest, constant_tables_have_circomlib_round_counts) {
  // N_ROUNDS_P from circomlib circuits/poseidon.circom.
  constexpr std::array<std::size_t, kPoseidonMaxInputs> kPartial{56, 57, 56, 60, 60, 63, 64, 63,
                                                                 60, 66, 60, 65, 70, 60, 64, 68};
  for (std::size_t i = 0; i < kPoseidonMaxInputs; ++i) {
    const auto& p = detail::kPoseidonParams[i];
    EXPECT_EQ(p.t, i + 2);
    EXPECT_EQ(p.partial_rounds, kPartial[i]);
    for (const Limbs* table : {p.c, p.s, p.m, p.p}) {
      ASSERT_NE(table, nullptr);
      EXPECT_LT(compare_limbs(table[0], Fr::kModulus), 0);
    }
  }
  // Tables hold Montgomery forms: C[0] for t = 2 is 0x09c46e...d7a7 in poseidon_constants_opt.json.
  EXPECT_EQ(Fr::from_montgomery(detail::kPoseidonParams[0].c[0]).to_canonical(),
            limbs_from_hex("09c46e9ec68e9bd4fe1faaba294cba38a71aa177534cdd1b6c7dc0dbd0abd7a7"));
}

// --- batched Poseidon(2) (poseidon_batch.hpp) ---

/// Restores the batch path a test changed.
class IfmaGuard {
 public:
  IfmaGuard() : saved_(cpu_has_ifma()) {}
  ~IfmaGuard() { set_ifma_enabled(saved_); }

 private:
  bool saved_;
};

/// Values at the edges of both representations: the integers 0, 1, r - 1, r - 2, around 2^252 and
/// 2^256 mod r, and elements whose Montgomery limbs (what the kernel reads) are 0, 1, r - 1 and
/// around 2^252 and 2^253.
std::vector<Fr> edge_values() {
  std::uint64_t borrow = 0;
  const Limbs r_minus_1 = sub_limbs(Fr::kModulus, Limbs{1, 0, 0, 0}, borrow);
  const Limbs r_minus_2 = sub_limbs(Fr::kModulus, Limbs{2, 0, 0, 0}, borrow);
  const Limbs two_252{0, 0, 0, std::uint64_t{1} << 60};
  const Limbs two_252_minus_1{~0ULL, ~0ULL, ~0ULL, (std::uint64_t{1} << 60) - 1};
  const Limbs two_252_plus_1{1, 0, 0, std::uint64_t{1} << 60};
  const Limbs two_253{0, 0, 0, std::uint64_t{1} << 61};
  std::vector<Fr> out;
  for (const Limbs& l : {Limbs{0, 0, 0, 0}, Limbs{1, 0, 0, 0}, r_minus_1, r_minus_2, two_252,
                         two_252_minus_1, two_252_plus_1, Fr::kR}) {
    out.push_back(Fr::from_canonical(l));  // Fr::kR is 2^256 mod r
  }
  for (const Limbs& l : {Limbs{1, 0, 0, 0}, r_minus_1, two_252, two_252_minus_1, two_253})
    out.push_back(Fr::from_montgomery(l));
  return out;
}

/// Every ordered pair of edge values, then `random` random pairs.
void pairs_for_batch(std::size_t random, std::vector<Fr>& left, std::vector<Fr>& right) {
  const std::vector<Fr> edges = edge_values();
  for (const Fr& a : edges)
    for (const Fr& b : edges) {
      left.push_back(a);
      right.push_back(b);
    }
  testing::Rng rng(0x69666d61ULL);
  for (std::size_t i = 0; i < random; ++i) {
    left.push_back(rng.field<Fr>());
    right.push_back(rng.field<Fr>());
  }
}

/// The batch equals poseidon_hash2 for batch sizes that take every route of the dispatch (none;
/// one pair, scalar; 2..8, one 8-lane call, padded below 8; 9..15, one padded 16-lane call; 16;
/// 16 and a scalar pair; 16 and a padded 8-lane call; 16 and a padded 16-lane call; thousands),
/// on both entry points (left/right spans and interleaved children).
void expect_batch_equals_scalar(std::size_t random) {
  std::vector<Fr> left, right;
  pairs_for_batch(random, left, right);
  std::vector<Fr> expected(left.size());
  for (std::size_t i = 0; i < left.size(); ++i) expected[i] = poseidon_hash2(left[i], right[i]);
  std::vector<Fr> children;
  for (std::size_t i = 0; i < left.size(); ++i) {
    children.push_back(left[i]);
    children.push_back(right[i]);
  }
  const Fr sentinel = Fr::from_u64(0xdead);
  for (const std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
        std::size_t{8}, std::size_t{9}, std::size_t{15}, std::size_t{16}, std::size_t{17},
        std::size_t{18}, std::size_t{24}, std::size_t{25}, left.size()}) {
    SCOPED_TRACE("batch of " + std::to_string(n));
    ASSERT_LE(n, left.size());
    // Batches start at an odd offset too, so that no lane lines up with a pair's index by luck.
    for (const std::size_t from : {std::size_t{0}, std::size_t{5}}) {
      const std::size_t count = std::min(n, left.size() - from);
      std::vector<Fr> out(count + 1, sentinel);
      ASSERT_TRUE(poseidon_hash2_batch(std::span(left).subspan(from, count),
                                       std::span(right).subspan(from, count),
                                       std::span(out).first(count)));
      for (std::size_t i = 0; i < count; ++i)
        ASSERT_EQ(out[i], expected[from + i]) << "batch pair " << from + i;
      EXPECT_EQ(out[count], sentinel) << "wrote past the batch";
      std::vector<Fr> pairs_out(count + 1, sentinel);
      ASSERT_TRUE(poseidon_hash2_pairs(std::span(children).subspan(2 * from, 2 * count),
                                       std::span(pairs_out).first(count)));
      for (std::size_t i = 0; i < count; ++i)
        ASSERT_EQ(pairs_out[i], expected[from + i]) << "pairs pair " << from + i;
      EXPECT_EQ(pairs_out[count], sentinel) << "wrote past the level";
    }
  }
}

TEST(PoseidonBatchTest, ifma_is_available_exactly_when_the_cpu_lists_it) {
  // The fast path must not be silently off on a CPU that has it (CI's and ours have it).
  std::ifstream f("/proc/cpuinfo");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string info = ss.str();
  ASSERT_FALSE(info.empty()) << "cannot read /proc/cpuinfo";
  const bool listed = info.find(" avx512ifma") != std::string::npos &&
                      info.find(" avx512vl") != std::string::npos &&
                      info.find(" avx512f ") != std::string::npos;
  EXPECT_EQ(cpu_supports_ifma(), listed);
  EXPECT_EQ(cpu_has_ifma(), listed) << "the default path is the best the CPU has";
}

TEST(PoseidonBatchTest, set_ifma_enabled_switches_the_path) {
  IfmaGuard guard;
  set_ifma_enabled(false);
  EXPECT_FALSE(cpu_has_ifma());
  set_ifma_enabled(true);
  EXPECT_EQ(cpu_has_ifma(), cpu_supports_ifma());
}

TEST(PoseidonBatchTest, batch_equals_hash2_on_edge_and_random_inputs) {
  IfmaGuard guard;
  set_ifma_enabled(true);
  expect_batch_equals_scalar(3000);
}

TEST(PoseidonBatchTest, batch_equals_hash2_on_the_scalar_fallback) {
  IfmaGuard guard;
  set_ifma_enabled(false);
  expect_batch_equals_scalar(200);
}

TEST(PoseidonBatchTest, batch_equals_hash2_with_portable_multiplication_in_the_tail) {
  IfmaGuard ifma;
  AdxGuard adx;
  set_ifma_enabled(true);
  set_adx_enabled(false);
  expect_batch_equals_scalar(40);
}

TEST(PoseidonBatchTest, batch_matches_every_two_input_circomlibjs_vector) {
  std::vector<Fr> left, right;
  std::vector<Limbs> want;
  std::vector<Vector> all = vectors("vectors");
  for (Vector& v : vectors("published")) all.push_back(std::move(v));
  for (const Vector& v : all) {
    if (v.inputs.size() != 2) continue;
    left.push_back(v.inputs[0]);
    right.push_back(v.inputs[1]);
    want.push_back(v.output);
  }
  ASSERT_GE(want.size(), 3u);
  std::vector<Fr> out(want.size());
  ASSERT_TRUE(poseidon_hash2_batch(left, right, out));
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(out[i].to_canonical(), want[i]) << i;
}

TEST(PoseidonBatchTest, output_may_be_an_input_span) {
  std::vector<Fr> left, right;
  pairs_for_batch(30, left, right);
  std::vector<Fr> expected(left.size());
  for (std::size_t i = 0; i < left.size(); ++i) expected[i] = poseidon_hash2(left[i], right[i]);
  std::vector<Fr> in_place = left;
  ASSERT_TRUE(poseidon_hash2_batch(in_place, right, in_place));
  EXPECT_EQ(in_place, expected);
  in_place = right;
  ASSERT_TRUE(poseidon_hash2_batch(left, in_place, in_place));
  EXPECT_EQ(in_place, expected);
}

TEST(PoseidonBatchTest, refuses_mismatched_sizes_and_writes_nothing) {
  const std::vector<Fr> three(3, Fr::one()), two(2, Fr::one());
  const Fr sentinel = Fr::from_u64(77);
  std::vector<Fr> out(3, sentinel);
  EXPECT_FALSE(poseidon_hash2_batch(three, two, out));
  EXPECT_FALSE(poseidon_hash2_batch(two, three, out));
  EXPECT_FALSE(poseidon_hash2_batch(three, three, std::span(out).first(2)));
  EXPECT_FALSE(poseidon_hash2_pairs(three, std::span(out).first(1)));
  EXPECT_FALSE(poseidon_hash2_pairs(two, out));
  EXPECT_EQ(out, std::vector<Fr>(3, sentinel));
}

}  // namespace
}  // namespace pg::crypto
