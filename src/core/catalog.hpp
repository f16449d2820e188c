// The circuit versions the server can verify: each version's manifest.json (the contract between
// circuit and server) and its verification key, read through the artifacts port, checked against
// the claim types pinned in code and against the key policy, and prepared once at start-up.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/artifacts.hpp"
#include "core/release_signature.hpp"
#include "crypto/groth16.hpp"

namespace pg::core {

/// The issuers (docs/protocol.md, docs/issuers.md): id and the short name the command line, the
/// settings, the feeds and the verify answer use.
struct IssuerSpec {
  std::uint32_t id;
  std::string_view slug;
};
inline constexpr IssuerSpec kIssuers[] = {{1, "moha"}, {2, "tu"}, {3, "nrb"}};
/// The slug of a known issuer id, else "".
constexpr std::string_view issuer_slug(std::uint32_t id) noexcept {
  for (const auto& i : kIssuers) {
    if (i.id == id) return i.slug;
  }
  return "";
}
/// The id of an issuer slug, else 0.
constexpr std::uint32_t issuer_id_of(std::string_view slug) noexcept {
  for (const auto& i : kIssuers) {
    if (i.slug == slug) return i.id;
  }
  return 0;
}

/// What a claim type is, pinned in code: its issuer and its exact public signals, in order. A
/// manifest that says otherwise is refused (a manifest cannot move a claim to another issuer's
/// tree or drop a check).
struct ClaimSpec {
  std::string_view claim_type;
  std::uint32_t issuer_id;
  std::string_view issuer_name;
  std::span<const std::string_view> public_signals;
};

namespace claim_specs {
inline constexpr std::string_view kIdentitySignals[] = {"nullifier", "root", "binding", "scope",
                                                        "today"};
inline constexpr std::string_view kEducationSignals[] = {"nullifier", "root",  "binding",
                                                         "scope",     "today", "min_level"};
inline constexpr std::string_view kIncomeSignals[] = {
    "nullifier", "root", "binding", "scope", "today", "threshold", "fiscal_year"};
}  // namespace claim_specs

inline constexpr std::array<ClaimSpec, 4> kClaimSpecs{{
    {"age_over_18", 1, "MOHA", claim_specs::kIdentitySignals},
    {"citizenship", 1, "MOHA", claim_specs::kIdentitySignals},
    {"education", 2, "TU", claim_specs::kEducationSignals},
    {"income_gte", 3, "NRB/IRD", claim_specs::kIncomeSignals},
}};

/// The claim types the server knows.
inline constexpr std::string_view kClaimTypes[] = {"age_over_18", "citizenship", "education",
                                                   "income_gte"};
bool is_claim_type(std::string_view s) noexcept;
/// The pinned spec of a claim type, or null.
const ClaimSpec* claim_spec(std::string_view claim_type) noexcept;
/// Semantic version MAJOR.MINOR.PATCH (digits only, no leading zeros, each at most 9 digits).
bool is_semver(std::string_view s) noexcept;

/// Which keys may be loaded. The default refuses every key that is not from a production
/// ceremony: a manifest whose ceremony.kind is not "production", a production key without a
/// transcript.json that describes it (ceremony_transcript.hpp), and any key on the list of
/// known development and benchmark keys (known_keys.hpp), whatever its manifest says.
struct KeyPolicy {
  /// DEVELOPMENT ONLY (serve --demo, insecure_development_keys): load them too, marked as such.
  bool allow_development_keys = false;
  /// The trusted release keys (release_public_keys). When there are any, a version is loaded only
  /// when its manifest.sig verifies under one of them (release_signature.hpp).
  std::vector<ReleaseKey> release_keys = {};
};

struct Circuit {
  std::string claim_type;
  std::string version;
  std::vector<std::string> public_signals;  // names, in order
  std::uint32_t issuer_id = 0;
  std::string issuer_name;
  std::map<std::string, std::string, std::less<>> sha256;  // artifact file -> hex digest
  std::string ceremony_kind;  // the manifest's ceremony.kind ("production", "development", ...)
  /// True when the key is not from a production ceremony with a valid transcript, or is a known
  /// development key: anyone may be able to forge proofs for it. Only loaded under
  /// KeyPolicy::allow_development_keys.
  bool development = false;
  std::shared_ptr<const crypto::PreparedVerifyingKey> key;
  /// The id of the release key manifest.sig verified under; empty when no release keys are
  /// configured (signatures not checked).
  std::string release_key_id;
  std::size_t index_of(std::string_view signal) const noexcept;  // npos when absent
};

/// The versions this process verifies. Loaded at start; versions uploaded while the server runs
/// are added (add, reload) without a restart, so every method is safe to call from several
/// threads at once. A Circuit, once in the catalog, stays at the same address until the catalog
/// is destroyed: the pointers find() and versions() return stay valid.
class CircuitCatalog {
 public:
  CircuitCatalog() = default;
  /// Moves are for setting a catalog up, before other threads use it.
  CircuitCatalog(CircuitCatalog&& other) noexcept;
  CircuitCatalog& operator=(CircuitCatalog&& other) noexcept;

  /// Loads every version `source` lists. Throws std::runtime_error naming the circuit and the
  /// problem when a circuit is unusable: unknown claim type, an issuer or public-signal list
  /// other than the claim type's pinned one, a manifest in another version's place, a key whose
  /// SHA-256 differs from the manifest's, a key refused by the verifier, a key whose number of
  /// publics differs, a key the policy refuses (a production key's transcript included), or (with
  /// release keys) a manifest.sig that is missing, malformed or does not verify.
  static CircuitCatalog load(const ArtifactSource& source, const KeyPolicy& policy);
  /// One version of `source`, with every check of load(); throws as load() does.
  static std::unique_ptr<Circuit> load_version(const ArtifactSource& source,
                                               std::string_view claim_type,
                                               std::string_view version, const KeyPolicy& policy);

  /// Adds a checked version; returns it, or the one already loaded under the same claim type and
  /// version (the argument is then dropped).
  const Circuit* add(std::unique_ptr<Circuit> circuit);

  /// What reload() did: the versions it added, and those it refused with the reason (each refused
  /// version is tried once per process: its files do not change, an upload is a new version).
  struct Reloaded {
    std::vector<const Circuit*> added;
    std::vector<std::pair<std::string, std::string>> refused;  // "claim_type version", why
  };
  /// Loads the versions `source` lists that are not loaded yet and that `admit(claim_type,
  /// version)` lets in (the server admits only versions with a lifecycle row, so a version whose
  /// files appear without an upload's row is never loaded on the fly).
  Reloaded reload(const ArtifactSource& source, const KeyPolicy& policy,
                  const std::function<bool(std::string_view, std::string_view)>& admit);

  const Circuit* find(std::string_view claim_type, std::string_view version) const noexcept;
  /// The circuits of a claim type, newest version first.
  std::vector<const Circuit*> versions(std::string_view claim_type) const;
  /// Every circuit, in the order loaded.
  std::vector<const Circuit*> all() const;
  bool empty() const noexcept;

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::unique_ptr<Circuit>> circuits_;
  std::vector<std::string> refused_;  // "claim_type version" reload() refused
};

}  // namespace pg::core
