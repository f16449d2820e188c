// Verification keys whose toxic waste is public, so anyone can forge proofs for them: the server
// never loads them outside development (catalog.cpp), whatever their manifest says.
#pragma once

#include <algorithm>
#include <iterator>
#include <string_view>

namespace pg::core {

/// SHA-256 (hex) of the verification_key.json files of:
/// - the DEVELOPMENT-ONLY claim circuits of scripts/build-circuits.mjs (phase 2 from a public
///   beacon), as their committed circuits/<claim>/manifest.json record them;
///   tests/core/known_keys_test.cpp fails when a manifest's digest is missing here;
/// - the benchmarks' trapdoor key (`forge_bench_proofs keygen --publics 5 --seed
///   b3e1c4a0de7ec7ab1e5eed00be9c4f00`, scripts/lib/bench-proofs.mjs), checked by the same test.
inline constexpr std::string_view kDevelopmentKeyDigests[] = {
    // age_over_18 1.0.0
    "e148ca69e889c29baa2f8be03d1212e401431b596cc8902c1973c4b0958e7919",
    // citizenship 1.0.0
    "f9840d1b735df1409ea892f10195a9348025a3c8cee9aac9bbe32530839f9904",
    // education 1.0.0
    "f35558348fe72e6b6c4d555e27af7316f0d2f962660d8d74447bb9a00b39c790",
    // income_gte 1.0.0
    "8312fa263a95b3187a2ea81290b21e1542caccab92782ce2f92d9db736185e28",
    // benchmark trapdoor key, 5 publics
    "8c9586eebbcde22611fac3e6b6efc0d4b7418f607843e05ba42a4df46e0da7d4",
};

inline bool is_development_key(std::string_view sha256_hex) noexcept {
  return std::find(std::begin(kDevelopmentKeyDigests), std::end(kDevelopmentKeyDigests),
                   sha256_hex) != std::end(kDevelopmentKeyDigests);
}

}  // namespace pg::core
