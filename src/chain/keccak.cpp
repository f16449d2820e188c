// Keccak-f[1600] and the Keccak-256 sponge (FIPS 202 §3 and §5.1 with Keccak's original padding,
// as in the Keccak team's reference, keccak.team/keccak_specs_summary.html).
#include "chain/keccak.hpp"

#include <bit>

namespace pg::chain {
namespace {

using Lanes = std::array<std::uint64_t, 25>;

/// rc(t) of FIPS 202 Algorithm 5: the output bit of an 8-bit LFSR, x^8 + x^6 + x^5 + x^4 + 1.
constexpr std::uint64_t rc_bit(unsigned t) noexcept {
  if (t % 255 == 0) return 1;
  unsigned r = 1;  // R = 10000000, bit k of r is R[k]
  for (unsigned i = 1; i <= t % 255; ++i) {
    r <<= 1;  // R = 0 || R
    const unsigned r8 = (r >> 8) & 1;
    r ^= r8 | r8 << 4 | r8 << 5 | r8 << 6;
    r &= 0xff;
  }
  return r & 1;
}

/// The iota constants RC[i_r] (FIPS 202 Algorithm 6): bit 2^j - 1 is rc(j + 7 i_r).
constexpr std::array<std::uint64_t, 24> make_round_constants() noexcept {
  std::array<std::uint64_t, 24> rc{};
  for (unsigned round = 0; round < 24; ++round) {
    for (unsigned j = 0; j <= 6; ++j) rc[round] |= rc_bit(j + 7 * round) << ((1u << j) - 1);
  }
  return rc;
}

/// The rho offsets (FIPS 202 Algorithm 2): (t+1)(t+2)/2 mod 64 along the walk (x, y) -> (y, 2x+3y).
constexpr std::array<unsigned, 25> make_rotations() noexcept {
  std::array<unsigned, 25> r{};
  unsigned x = 1;
  unsigned y = 0;
  for (unsigned t = 0; t < 24; ++t) {
    r[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
    const unsigned nx = y;
    y = (2 * x + 3 * y) % 5;
    x = nx;
  }
  return r;
}

constexpr auto kRoundConstants = make_round_constants();
constexpr auto kRotations = make_rotations();
static_assert(kRoundConstants[0] == 0x0000000000000001ULL);
static_assert(kRoundConstants[1] == 0x0000000000008082ULL);
static_assert(kRoundConstants[23] == 0x8000000080008008ULL);
static_assert(kRotations[1] == 1 && kRotations[2] == 62 && kRotations[24] == 14);

}  // namespace

void keccak_f1600(Lanes& a) noexcept {
  for (const std::uint64_t rc : kRoundConstants) {
    // theta
    std::array<std::uint64_t, 5> c{};
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) {
      const std::uint64_t d = c[(x + 4) % 5] ^ std::rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    // rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
    Lanes b{};
    for (int x = 0; x < 5; ++x) {
      for (int y = 0; y < 5; ++y) {
        b[y + 5 * ((2 * x + 3 * y) % 5)] =
            std::rotl(a[x + 5 * y], static_cast<int>(kRotations[x + 5 * y]));
      }
    }
    // chi
    for (int y = 0; y < 25; y += 5) {
      for (int x = 0; x < 5; ++x) a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
    }
    // iota
    a[0] ^= rc;
  }
}

void Keccak256::absorb_byte(std::uint8_t b) noexcept {
  lanes_[pos_ / 8] ^= static_cast<std::uint64_t>(b) << (8 * (pos_ % 8));
  if (++pos_ == kRate) {
    keccak_f1600(lanes_);
    pos_ = 0;
  }
}

void Keccak256::update(std::span<const std::uint8_t> data) noexcept {
  for (const std::uint8_t b : data) absorb_byte(b);
}

void Keccak256::update(std::string_view data) noexcept {
  for (const char c : data) absorb_byte(static_cast<std::uint8_t>(c));
}

Hash32 Keccak256::finish() noexcept {
  // pad10*1 with Keccak's domain bit: 0x01 here, 0x80 in the block's last byte (one byte 0x81
  // when they coincide).
  lanes_[pos_ / 8] ^= std::uint64_t{0x01} << (8 * (pos_ % 8));
  lanes_[(kRate - 1) / 8] ^= std::uint64_t{0x80} << (8 * ((kRate - 1) % 8));
  keccak_f1600(lanes_);
  Hash32 out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(lanes_[i / 8] >> (8 * (i % 8)));
  }
  return out;
}

Hash32 keccak256(std::span<const std::uint8_t> data) noexcept {
  Keccak256 h;
  h.update(data);
  return h.finish();
}

Hash32 keccak256(std::string_view data) noexcept {
  Keccak256 h;
  h.update(data);
  return h.finish();
}

}  // namespace pg::chain
