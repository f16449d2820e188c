// The verification key a snarkjs Groth16 proving key (.zkey) embeds, read from the file's binary
// sections, so an upload can check that the zkey the wallet proves with belongs to the
// verification key the server verifies with. Our own reader of the format snarkjs writes
// (src/zkey_utils.js there): "zkey", version, sections {u32 id, u64 size, bytes}; section 1 the
// protocol (1 = Groth16), section 2 the Groth16 header (n8q, q, n8r, r, nVars, nPublic,
// domainSize, alpha1, beta1, beta2, gamma2, delta1, delta2), section 3 the IC points. Points are
// little-endian Montgomery form, G2 as x.c0, x.c1, y.c0, y.c1.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "crypto/groth16.hpp"

namespace pg::core {

struct ZkeyKey {
  std::uint32_t n_public = 0;
  crypto::VerifyingKey key;  // alpha, beta, gamma, delta, ic (n_public + 1 points)
};

/// The key in `zkey` (the whole file), or why it cannot be read ("section 2: truncated", "not a
/// Groth16 zkey", "the curve is not BN254", ...). Reads only; checks no point.
std::variant<ZkeyKey, std::string> read_zkey_key(std::string_view zkey);

/// nullopt when the zkey's embedded key is `vk` (every point and the number of publics); else
/// what differs ("vk_delta_2 differs", "IC[3] differs", "2 public signals, the key has 3") or why
/// the zkey cannot be read.
std::optional<std::string> zkey_mismatch(std::string_view zkey, const crypto::VerifyingKey& vk);

}  // namespace pg::core
