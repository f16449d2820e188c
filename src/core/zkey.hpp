// The verification key a snarkjs Groth16 proving key (.zkey) embeds, read from the file's binary
// sections, so an upload can check that the zkey the wallet proves with belongs to the
// verification key the server verifies with. Our own reader of the format snarkjs writes
// (src/zkey_utils.js there): "zkey", version, sections {u32 id, u64 size, bytes}; section 1 the
// protocol (1 = Groth16), section 2 the Groth16 header (n8q, q, n8r, r, nVars, nPublic,
// domainSize, alpha1, beta1, beta2, gamma2, delta1, delta2), section 3 the IC points. Points are
// little-endian Montgomery form, G2 as x.c0, x.c1, y.c0, y.c1. Section 10 ("MPC params",
// readMPCParams there) is the zkey's own record of its phase-2 contributions, which an upload
// compares with the ceremony transcript.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

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

/// One phase-2 contribution as the zkey records it (section 10, snarkjs readContribution).
struct ZkeyContribution {
  std::uint32_t type = 0;  // 0 a contribution, 1 a beacon
  std::string name;        // UTF-8, at most 255 bytes ("" when the zkey records none)
  std::string hash_hex;    // 128 lowercase hex: BLAKE2b-512 of the public key, as snarkjs prints it
  std::string beacon_hex;  // lowercase hex of the beacon hash ("" when none is recorded)
  int iterations_exp = -1;  // the beacon's 2^E hash iterations (-1 when none is recorded)
};

/// The contributions `zkey` (the whole file, a Groth16 BN254 zkey) records, oldest first, or why
/// they cannot be read ("the zkey has no section 10 ...", "section 10: contribution 2 of 3:
/// unknown parameter tag 7", "section 10: 12 bytes after the last contribution", ...). Strict: a
/// truncated record, an unknown or unsorted parameter, a name that is not UTF-8, a coordinate not
/// below the field modulus or bytes left over are refused. Checks no point (a record, not
/// arithmetic). Each hash is snarkjs's hashPubKey: BLAKE2b-512 over deltaAfter, g1_s, g1_sx (G1)
/// and g2_spx (G2) uncompressed (canonical big-endian x then y, an Fp2 as c1 then c0) and the
/// 64-byte transcript.
std::variant<std::vector<ZkeyContribution>, std::string> read_zkey_contributions(
    std::string_view zkey);

/// nullopt when `transcript` (parsed transcript.json, format proofgate-ceremony-transcript/1)
/// describes exactly this zkey: its final_zkey_sha256 is the zkey's SHA-256, its circuit_hash the
/// zkey's (section 10 csHash), and it lists the zkey's contributions in the same order, each with
/// the same kind ("contribution" / "beacon"), name, hash and, for beacons, beacon hash and
/// iterations_exp. Else what differs, naming the contribution by its 1-based index ("contribution
/// 2: its hash differs from the zkey's (the zkey records 8041f5b08afad770...)"), or why the zkey's
/// record cannot be read.
std::optional<std::string> transcript_zkey_mismatch(const boost::json::object& transcript,
                                                    std::string_view zkey);

}  // namespace pg::core
