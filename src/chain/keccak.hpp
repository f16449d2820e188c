// Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not SHA3-256's 0x06):
// function selectors, EIP-55 checksums, registry keys. OpenSSL 3.0 has no Keccak-256 digest.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace pg::chain {

using Hash32 = std::array<std::uint8_t, 32>;

/// Keccak-256 of `data` (Keccak-f[1600], rate 1088 bits; FIPS 202 §3 with the pre-standard
/// padding pad10*1 after the byte 0x01).
Hash32 keccak256(std::string_view data) noexcept;

}  // namespace pg::chain
