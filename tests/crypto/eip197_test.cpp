// The EIP-196/197 precompiles (ecAdd, ecMul, ecPairing) written on top of our curve and pairing
// API, checked against go-ethereum's vectors (tests/vectors/eip196_197/) and against inputs
// that the EIPs say must fail.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/pairing.hpp"
#include "test_util.hpp"

namespace pg::crypto {
namespace {

namespace json = boost::json;
using Bytes = std::vector<std::uint8_t>;

// --- the precompiles' encoding: big-endian 32-byte words ---

Bytes from_hex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    return static_cast<std::uint8_t>(c - 'A' + 10);
  };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

std::string to_hex(const Bytes& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (const std::uint8_t x : b) {
    s += kDigits[x >> 4];
    s += kDigits[x & 15];
  }
  return s;
}

Limbs read_word(std::span<const std::uint8_t> in, std::size_t offset) {
  Limbs l{};
  for (std::size_t i = 0; i < 32; ++i) {
    l[3 - i / 8] |= std::uint64_t{in[offset + i]} << (8 * (7 - i % 8));
  }
  return l;
}

void write_word(Bytes& out, const Limbs& l) {
  for (int i = 0; i < 32; ++i) {
    out.push_back(static_cast<std::uint8_t>(l[3 - i / 8] >> (8 * (7 - i % 8))));
  }
}

/// The input, cut or padded with zeros to `size` bytes (EIP-196: missing bytes are zero).
Bytes padded(std::span<const std::uint8_t> in, std::size_t size) {
  Bytes b(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(std::min(in.size(), size)));
  b.resize(size, 0);
  return b;
}

std::optional<Fp> read_fp(std::span<const std::uint8_t> in, std::size_t offset) {
  return Fp::from_canonical_checked(read_word(in, offset));
}

/// A G1 point: (0, 0) is the identity; coordinates must be below p and the point on the curve.
std::optional<G1Affine> read_g1(std::span<const std::uint8_t> in, std::size_t offset) {
  const auto x = read_fp(in, offset), y = read_fp(in, offset + 32);
  if (!x || !y) return std::nullopt;
  if (x->is_zero() && y->is_zero()) return G1Affine::identity();
  const G1Affine p = G1Affine::from_xy(*x, *y);
  if (!p.is_on_curve()) return std::nullopt;
  return p;
}

/// A G2 point as x_im, x_re, y_im, y_re: all zero is the identity; otherwise on the twist and
/// in the order-r subgroup.
std::optional<G2Affine> read_g2(std::span<const std::uint8_t> in, std::size_t offset) {
  const auto x_im = read_fp(in, offset), x_re = read_fp(in, offset + 32);
  const auto y_im = read_fp(in, offset + 64), y_re = read_fp(in, offset + 96);
  if (!x_im || !x_re || !y_im || !y_re) return std::nullopt;
  const Fp2 x{*x_re, *x_im}, y{*y_re, *y_im};
  if (x.is_zero() && y.is_zero()) return G2Affine::identity();
  const G2Affine q = G2Affine::from_xy(x, y);
  if (!q.is_on_curve() || !g2_in_subgroup_vartime(q)) return std::nullopt;
  return q;
}

Bytes write_g1(const G1& p) {
  Bytes out;
  const G1Affine a = p.to_affine();
  write_word(out, a.infinity ? Limbs{} : a.x.to_canonical());
  write_word(out, a.infinity ? Limbs{} : a.y.to_canonical());
  return out;
}

/// EIP-196 ecAdd (address 0x06); nullopt where the precompile fails.
std::optional<Bytes> ec_add(std::span<const std::uint8_t> input) {
  const Bytes in = padded(input, 128);
  const auto a = read_g1(in, 0), b = read_g1(in, 64);
  if (!a || !b) return std::nullopt;
  return write_g1(G1::from_affine(*a).add(G1::from_affine(*b)));
}

/// EIP-196 ecMul (address 0x07): the scalar is any 256-bit integer.
std::optional<Bytes> ec_mul(std::span<const std::uint8_t> input) {
  const Bytes in = padded(input, 96);
  const auto a = read_g1(in, 0);
  if (!a) return std::nullopt;
  return write_g1(G1::from_affine(*a).mul_vartime(read_word(in, 64)));
}

/// EIP-197 ecPairing (address 0x08): 1 when the product of the pairings is one.
std::optional<Bytes> ec_pairing(std::span<const std::uint8_t> in) {
  if (in.size() % 192 != 0) return std::nullopt;
  std::vector<PointPair> pairs;
  for (std::size_t off = 0; off < in.size(); off += 192) {
    const auto p = read_g1(in, off);
    const auto q = read_g2(in, off + 64);
    if (!p || !q) return std::nullopt;
    pairs.push_back({*p, *q});
  }
  Bytes out(32, 0);
  out[31] = pairing_product_is_one(pairs) ? 1 : 0;
  return out;
}

// --- go-ethereum's vectors ---

struct Vector {
  std::string name, input, expected;
};

std::vector<Vector> load(const std::string& file) {
  const std::string path = std::string(PROOFGATE_SOURCE_DIR) + "/tests/vectors/eip196_197/" + file;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const json::value doc = json::parse(text.str(), ec);
  EXPECT_FALSE(ec) << path << ": " << ec.message();
  std::vector<Vector> out;
  if (ec || !doc.is_array()) return out;
  for (const json::value& v : doc.as_array()) {
    const json::object& o = v.as_object();
    out.push_back({std::string(o.at("Name").as_string()), std::string(o.at("Input").as_string()),
                   std::string(o.at("Expected").as_string())});
  }
  EXPECT_FALSE(out.empty()) << path;
  return out;
}

template <class Precompile>
void check_vectors(const std::string& file, Precompile precompile, std::size_t at_least) {
  const std::vector<Vector> vectors = load(file);
  EXPECT_GE(vectors.size(), at_least);
  for (const Vector& v : vectors) {
    const auto out = precompile(from_hex(v.input));
    ASSERT_TRUE(out.has_value()) << file << " " << v.name << " failed";
    EXPECT_EQ(to_hex(*out), v.expected) << file << " " << v.name;
  }
}

TEST(Eip196Test, ec_add_matches_every_go_ethereum_vector) {
  check_vectors("bn256Add.json", ec_add, 15);
}

TEST(Eip196Test, ec_mul_matches_every_go_ethereum_vector) {
  check_vectors("bn256ScalarMul.json", ec_mul, 16);
}

TEST(Eip197Test, ec_pairing_matches_every_go_ethereum_vector) {
  check_vectors("bn256Pairing.json", ec_pairing, 14);
}

// --- inputs the EIPs say must fail ---

Bytes word_bytes(const Limbs& l) {
  Bytes b;
  write_word(b, l);
  return b;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Limbs plus_p(const Limbs& a) {
  std::uint64_t carry = 0;
  return add_limbs(a, Fp::kModulus, carry);
}

Bytes g1_bytes(const G1Affine& p) {
  return write_g1(G1::from_affine(p));
}

/// x_im, x_re, y_im, y_re.
Bytes g2_bytes(const G2Affine& q) {
  return concat({word_bytes(q.x.c1.to_canonical()), word_bytes(q.x.c0.to_canonical()),
                 word_bytes(q.y.c1.to_canonical()), word_bytes(q.y.c0.to_canonical())});
}

const Limbs kOne{1, 0, 0, 0};
const Limbs kTwo{2, 0, 0, 0};

TEST(Eip196Test, ec_add_and_ec_mul_refuse_coordinates_at_or_above_p) {
  // The generator (1, 2) with x written as 1 + p, then y as 2 + p, then the identity as (0, p).
  const Bytes gen = g1_bytes(g1_generator());
  for (const Bytes& bad : {concat({word_bytes(plus_p(kOne)), word_bytes(kTwo)}),
                           concat({word_bytes(kOne), word_bytes(plus_p(kTwo))}),
                           concat({word_bytes(Limbs{}), word_bytes(Fp::kModulus)})}) {
    EXPECT_FALSE(ec_add(concat({bad, gen})).has_value());
    EXPECT_FALSE(ec_add(concat({gen, bad})).has_value());
    EXPECT_FALSE(ec_mul(concat({bad, word_bytes(kTwo)})).has_value());
  }
  EXPECT_TRUE(ec_add(concat({gen, gen})).has_value());
}

TEST(Eip196Test, ec_add_and_ec_mul_refuse_points_off_the_curve) {
  const Bytes off = concat({word_bytes(kOne), word_bytes(Limbs{3, 0, 0, 0})});
  EXPECT_FALSE(ec_add(concat({off, g1_bytes(g1_generator())})).has_value());
  EXPECT_FALSE(ec_mul(concat({off, word_bytes(kTwo)})).has_value());
  // Zero scalar or not, an off-curve point is an error.
  EXPECT_FALSE(ec_mul(concat({off, word_bytes(Limbs{})})).has_value());
}

TEST(Eip197Test, ec_pairing_refuses_input_not_a_multiple_of_192_bytes) {
  const Bytes pair = concat({g1_bytes(g1_generator()), g2_bytes(g2_generator())});
  ASSERT_TRUE(ec_pairing(pair).has_value());
  EXPECT_FALSE(ec_pairing(std::span(pair).first(191)).has_value());
  EXPECT_FALSE(ec_pairing(concat({pair, Bytes(1, 0)})).has_value());
  EXPECT_FALSE(ec_pairing(concat({pair, Bytes(64, 0)})).has_value());
}

TEST(Eip197Test, ec_pairing_refuses_a_twist_point_outside_g2) {
  testing::Rng rng;
  const G2Affine outside = rng.twist_point_outside_g2();
  ASSERT_TRUE(outside.is_on_curve());
  EXPECT_FALSE(ec_pairing(concat({g1_bytes(g1_generator()), g2_bytes(outside)})).has_value());
  // Also when its G1 partner is the identity: the check is on the input, not the product.
  EXPECT_FALSE(ec_pairing(concat({Bytes(64, 0), g2_bytes(outside)})).has_value());
}

TEST(Eip197Test, ec_pairing_refuses_swapped_fp2_limbs_and_coordinates_at_or_above_p) {
  const Bytes g1 = g1_bytes(g1_generator());
  const Bytes g2 = g2_bytes(g2_generator());
  // x_re, x_im, y_re, y_im: the order some libraries use; not a point of the twist.
  Bytes swapped = g2;
  for (std::size_t i = 0; i < 128; i += 64) {
    std::swap_ranges(swapped.begin() + static_cast<std::ptrdiff_t>(i),
                     swapped.begin() + static_cast<std::ptrdiff_t>(i + 32),
                     swapped.begin() + static_cast<std::ptrdiff_t>(i + 32));
  }
  EXPECT_FALSE(ec_pairing(concat({g1, swapped})).has_value());
  for (std::size_t word = 0; word < 4; ++word) {
    Bytes bad = g2;
    const Bytes w = word_bytes(plus_p(read_word(g2, 32 * word)));
    std::copy(w.begin(), w.end(), bad.begin() + static_cast<std::ptrdiff_t>(32 * word));
    EXPECT_FALSE(ec_pairing(concat({g1, bad})).has_value()) << "word " << word;
  }
  EXPECT_FALSE(
      ec_pairing(concat({concat({word_bytes(plus_p(kOne)), word_bytes(kTwo)}), g2})).has_value());
}

TEST(Eip197Test, ec_pairing_answers_zero_for_a_false_product) {
  // e(G1, G2) * e(G1, G2) is not one; e(G1, G2) * e(-G1, G2) is.
  const Bytes pair = concat({g1_bytes(g1_generator()), g2_bytes(g2_generator())});
  const Bytes neg = concat({g1_bytes(g1_generator().negate()), g2_bytes(g2_generator())});
  EXPECT_EQ(to_hex(ec_pairing(concat({pair, pair})).value()), std::string(64, '0'));
  EXPECT_EQ(to_hex(ec_pairing(concat({pair, neg})).value()), std::string(63, '0') + "1");
}

}  // namespace
}  // namespace pg::crypto
