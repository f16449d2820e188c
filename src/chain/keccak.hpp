// Keccak-256 as Ethereum uses it: Keccak[c=512] with the original multi-rate padding (0x01 ...
// 0x80), not SHA3-256's domain byte 0x06. OpenSSL 3.0 offers only the latter, hence our own
// permutation.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace pg::chain {

using Hash32 = std::array<std::uint8_t, 32>;

/// The Keccak-f[1600] permutation (FIPS 202 §3.3, Algorithm 7 with 24 rounds) on 25 lanes,
/// lane (x, y) at index x + 5y.
void keccak_f1600(std::array<std::uint64_t, 25>& lanes) noexcept;

/// Incremental Keccak-256: update() any number of times, then finish() once.
class Keccak256 {
 public:
  void update(std::span<const std::uint8_t> data) noexcept;
  void update(std::string_view data) noexcept;
  /// The digest; the hasher must not be used afterwards.
  Hash32 finish() noexcept;

 private:
  static constexpr std::size_t kRate = 136;  // (1600 - 2 * 256) / 8 bytes
  void absorb_byte(std::uint8_t b) noexcept;

  std::array<std::uint64_t, 25> lanes_{};
  std::size_t pos_ = 0;  // bytes absorbed into the current block
};

/// Keccak-256 of `data` in one call.
Hash32 keccak256(std::span<const std::uint8_t> data) noexcept;
Hash32 keccak256(std::string_view data) noexcept;

}  // namespace pg::chain
