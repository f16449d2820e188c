// Keccak-256: the Keccak-f[1600] permutation of FIPS 202 §3.2 (theta, rho, pi, chi, iota) over a
// sponge of rate 136 bytes, with Keccak's original padding (0x01 ... 0x80).
#include "chain/keccak.hpp"

#include <cstddef>
#include <cstring>

namespace pg::chain {

namespace {
constexpr std::size_t kRate = 136;

// Round constants RC[i] (FIPS 202 §3.2.5).
constexpr std::uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// rho offsets and the pi lane order, walked along the (x, y) -> (y, 2x + 3y) cycle from lane 1.
constexpr int kRho[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                          27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                         15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

constexpr std::uint64_t rotl(std::uint64_t v, int n) noexcept {
  return (v << n) | (v >> (64 - n));
}

void keccak_f(std::uint64_t a[25]) noexcept {
  for (const std::uint64_t rc : kRoundConstants) {
    std::uint64_t c[5];
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) {
      const std::uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    std::uint64_t carried = a[1];
    for (int i = 0; i < 24; ++i) {
      const std::uint64_t next = a[kPi[i]];
      a[kPi[i]] = rotl(carried, kRho[i]);
      carried = next;
    }
    for (int y = 0; y < 25; y += 5) {
      std::uint64_t row[5];
      for (int x = 0; x < 5; ++x) row[x] = a[y + x];
      for (int x = 0; x < 5; ++x) a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
    }
    a[0] ^= rc;
  }
}

void absorb(std::uint64_t state[25], const std::uint8_t* block) noexcept {
  for (std::size_t i = 0; i < kRate / 8; ++i) {
    std::uint64_t lane = 0;
    for (int b = 7; b >= 0; --b) lane = (lane << 8) | block[i * 8 + static_cast<std::size_t>(b)];
    state[i] ^= lane;
  }
  keccak_f(state);
}
}  // namespace

Hash32 keccak256(std::string_view data) noexcept {
  std::uint64_t state[25] = {};
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t left = data.size();
  for (; left >= kRate; left -= kRate, p += kRate) absorb(state, p);
  std::uint8_t last[kRate] = {};
  if (left > 0) std::memcpy(last, p, left);
  last[left] ^= 0x01;
  last[kRate - 1] ^= 0x80;
  absorb(state, last);
  Hash32 out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint8_t>(state[i / 8] >> (8 * (i % 8)));
  return out;
}

}  // namespace pg::chain
