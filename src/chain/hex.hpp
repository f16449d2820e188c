// Hexadecimal strings as Ethereum's JSON-RPC and ABI use them ("0x"-prefixed, lowercase on output).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pg::chain {

using Bytes = std::vector<std::uint8_t>;

/// Lowercase hex of `bytes`, with "0x" in front when `prefix`.
std::string to_hex(std::span<const std::uint8_t> bytes, bool prefix = true);

/// Bytes of an even-length hex string with or without "0x" (either case); nullopt on anything else.
std::optional<Bytes> from_hex(std::string_view hex);

/// The value of a JSON-RPC quantity ("0x0", "0x1a": "0x" then at least one digit, no leading
/// zero); nullopt when malformed or above 2^64 - 1.
std::optional<std::uint64_t> quantity_to_u64(std::string_view hex);

/// A JSON-RPC quantity ("0x" + shortest lowercase hex).
std::string u64_to_quantity(std::uint64_t value);

/// SHA-256 of `data` as 64 lowercase hex digits, no prefix (the deployment file's vkey_sha256).
std::string sha256_hex(std::string_view data);

}  // namespace pg::chain
