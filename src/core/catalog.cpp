// Loading and checking circuit manifests and verification keys (see catalog.hpp).
#include "core/catalog.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <stdexcept>

#include "core/ceremony_transcript.hpp"
#include "core/known_keys.hpp"
#include "core/release_signature.hpp"
#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {
constexpr std::size_t kMaxManifestBytes = 1 << 20;
constexpr std::size_t kMaxKeyBytes = 1 << 20;

std::vector<unsigned> semver_parts(std::string_view v) {
  std::vector<unsigned> parts;
  unsigned cur = 0;
  for (const char c : v) {
    if (c == '.') {
      parts.push_back(cur);
      cur = 0;
    } else {
      cur = cur * 10 + unsigned(c - '0');
    }
  }
  parts.push_back(cur);
  return parts;
}

/// Refusals name the manifest's place in the source, then the problem.
struct Problem {
  std::string where;
  [[noreturn]] void operator()(const std::string& what) const {
    throw std::runtime_error(where + ": " + what);
  }
};

const json::value& member(const json::object& o, std::string_view name, const Problem& fail) {
  const auto* v = o.if_contains(name);
  if (!v) fail("missing member " + std::string(name));
  return *v;
}

std::string string_member(const json::object& o, std::string_view name, const Problem& fail) {
  const auto& v = member(o, name, fail);
  if (!v.is_string()) fail(std::string(name) + " is not a string");
  return std::string(v.get_string());
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

/// The manifest's public signals, checked against the claim type's pinned list.
std::vector<std::string> pinned_signals(const json::object& m, const ClaimSpec& spec,
                                        const Problem& fail) {
  const auto& signals = member(m, "public_signals", fail);
  if (!signals.is_array()) fail("public_signals is not an array");
  std::vector<std::string> names;
  for (const auto& s : signals.get_array()) {
    if (!s.is_string()) fail("public_signals holds a non-string");
    names.emplace_back(s.get_string());
  }
  std::vector<std::string> expected(spec.public_signals.begin(), spec.public_signals.end());
  if (names != expected) {
    fail("public_signals [" + joined(names) + "] differ from " + std::string(spec.claim_type) +
         "'s [" + joined(expected) + "]");
  }
  return names;
}
}  // namespace

bool is_claim_type(std::string_view s) noexcept {
  return claim_spec(s) != nullptr;
}

const ClaimSpec* claim_spec(std::string_view claim_type) noexcept {
  for (const ClaimSpec& spec : kClaimSpecs) {
    if (spec.claim_type == claim_type) return &spec;
  }
  return nullptr;
}

bool is_semver(std::string_view s) noexcept {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    const std::size_t len = j - i;
    if (len == 0 || len > 9 || (len > 1 && s[i] == '0')) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 3;
}

std::size_t Circuit::index_of(std::string_view signal) const noexcept {
  for (std::size_t i = 0; i < public_signals.size(); ++i) {
    if (public_signals[i] == signal) return i;
  }
  return std::string::npos;
}

CircuitCatalog::CircuitCatalog(CircuitCatalog&& other) noexcept
    : circuits_(std::move(other.circuits_)), refused_(std::move(other.refused_)) {}

CircuitCatalog& CircuitCatalog::operator=(CircuitCatalog&& other) noexcept {
  std::unique_lock lock(mutex_);
  circuits_ = std::move(other.circuits_);
  refused_ = std::move(other.refused_);
  return *this;
}

CircuitCatalog CircuitCatalog::load(const ArtifactSource& source, const KeyPolicy& policy) {
  CircuitCatalog catalog;
  for (const auto& [dir_claim, dir_version] : source.versions()) {
    catalog.circuits_.push_back(load_version(source, dir_claim, dir_version, policy));
  }
  return catalog;
}

std::unique_ptr<Circuit> CircuitCatalog::load_version(const ArtifactSource& source,
                                                      std::string_view dir_claim,
                                                      std::string_view dir_version,
                                                      const KeyPolicy& policy) {
  const Problem fail{source.describe(dir_claim, dir_version, "manifest.json")};
  const auto text = source.read(dir_claim, dir_version, "manifest.json", kMaxManifestBytes);
  if (!text) fail("missing");
  auto parsed = crypto::snarkjs::parse_json(*text, "manifest");
  if (!parsed || !parsed->is_object()) fail("not a JSON object");
  const json::object& m = parsed->get_object();
  auto c = std::make_unique<Circuit>();
  c->release_key_id =
      require_release_signature(source, dir_claim, dir_version, *text, policy.release_keys);
  c->claim_type = string_member(m, "claim_type", fail);
  c->version = string_member(m, "version", fail);
  const ClaimSpec* spec = claim_spec(c->claim_type);
  if (!spec) fail("unknown claim_type " + c->claim_type);
  if (!is_semver(c->version)) fail("version is not MAJOR.MINOR.PATCH");
  if (dir_version != c->version || dir_claim != c->claim_type) {
    fail("directory is not <claim_type>/<version> of the manifest");
  }
  c->public_signals = pinned_signals(m, *spec, fail);
  const auto& issuer = member(m, "issuer", fail);
  if (!issuer.is_object() || !issuer.get_object().contains("id") || !issuer.at("id").is_int64() ||
      issuer.at("id").get_int64() <= 0) {
    fail("issuer.id is not a positive integer");
  }
  if (issuer.at("id").get_int64() != spec->issuer_id) {
    fail("issuer.id " + std::to_string(issuer.at("id").get_int64()) + " is not " +
         std::string(spec->issuer_name) + " (" + std::to_string(spec->issuer_id) +
         "), the issuer of " + c->claim_type);
  }
  if (const auto* n = issuer.get_object().if_contains("name");
      n && (!n->is_string() || n->get_string() != spec->issuer_name)) {
    fail("issuer.name is not " + std::string(spec->issuer_name));
  }
  c->issuer_id = spec->issuer_id;
  c->issuer_name = spec->issuer_name;
  const auto& digests = member(m, "sha256", fail);
  if (!digests.is_object()) fail("sha256 is not an object");
  for (const auto& [k, v] : digests.get_object()) {
    if (!v.is_string()) fail("sha256." + std::string(k) + " is not a string");
    c->sha256.emplace(std::string(k), std::string(v.get_string()));
  }
  c->ceremony_kind = "unknown";
  if (const auto* ceremony = m.if_contains("ceremony"); ceremony && ceremony->is_object()) {
    if (const auto* kind = ceremony->get_object().if_contains("kind"); kind && kind->is_string()) {
      c->ceremony_kind = kind->get_string();
    }
  }
  const auto vk_digest = c->sha256.find("verification_key.json");
  if (vk_digest == c->sha256.end()) fail("no sha256 of verification_key.json");
  const Problem key_fail{source.describe(dir_claim, dir_version, "verification_key.json")};
  const auto vk_text = source.read(dir_claim, dir_version, "verification_key.json", kMaxKeyBytes);
  if (!vk_text) key_fail("missing");
  const std::string digest = hex(sha256(*vk_text));
  if (digest != vk_digest->second) key_fail("SHA-256 differs from the manifest's");
  // The policy, before any work on the key: a key anyone can forge proofs for is refused by
  // name, never loaded quietly.
  const std::string name = c->claim_type + " " + c->version;
  if (is_development_key(digest)) {
    c->development = true;
    if (!policy.allow_development_keys) {
      key_fail("refused: " + name + "'s key (sha256 " + digest +
               ") is a known development or benchmark key whose trapdoor is public: anyone can "
               "forge proofs for it (development only: serve --demo or insecure_development_keys)");
    }
  } else if (c->ceremony_kind != "production") {
    c->development = true;
    if (!policy.allow_development_keys) {
      fail("refused: " + name + "'s key comes from a ceremony of kind \"" + c->ceremony_kind +
           "\", not \"production\": whoever knows that ceremony's randomness can forge proofs "
           "(development only: serve --demo or insecure_development_keys)");
    }
  } else if (const auto problem = transcript_problem(source, dir_claim, dir_version, m, digest)) {
    // A production key is only as good as its ceremony: without a transcript that describes
    // this key, nobody can check that anyone contributed (docs/ceremony.md).
    c->development = true;
    if (!policy.allow_development_keys) {
      fail("refused: " + name + "'s key has no valid ceremony transcript: " + *problem);
    }
  }
  auto key = crypto::snarkjs::load_verifying_key(*vk_text);
  if (!key) key_fail(key.error().to_string());
  if ((*key)->num_public() != c->public_signals.size()) {
    key_fail("the key has " + std::to_string((*key)->num_public()) +
             " public inputs, the manifest names " + std::to_string(c->public_signals.size()));
  }
  c->key = *key;
  return c;
}

const Circuit* CircuitCatalog::add(std::unique_ptr<Circuit> circuit) {
  std::unique_lock lock(mutex_);
  for (const auto& c : circuits_) {
    if (c->claim_type == circuit->claim_type && c->version == circuit->version) return c.get();
  }
  circuits_.push_back(std::move(circuit));
  return circuits_.back().get();
}

CircuitCatalog::Reloaded CircuitCatalog::reload(
    const ArtifactSource& source, const KeyPolicy& policy,
    const std::function<bool(std::string_view, std::string_view)>& admit) {
  Reloaded out;
  for (const auto& [claim_type, version] : source.versions()) {
    const std::string name = claim_type + " " + version;
    {
      std::shared_lock lock(mutex_);
      if (std::find(refused_.begin(), refused_.end(), name) != refused_.end()) continue;
    }
    if (find(claim_type, version) || !admit(claim_type, version)) continue;
    try {
      out.added.push_back(add(load_version(source, claim_type, version, policy)));
    } catch (const std::exception& e) {
      std::unique_lock lock(mutex_);
      refused_.push_back(name);
      out.refused.emplace_back(name, e.what());
    }
  }
  return out;
}

const Circuit* CircuitCatalog::find(std::string_view claim_type,
                                    std::string_view version) const noexcept {
  std::shared_lock lock(mutex_);
  for (const auto& c : circuits_) {
    if (c->claim_type == claim_type && c->version == version) return c.get();
  }
  return nullptr;
}

std::vector<const Circuit*> CircuitCatalog::versions(std::string_view claim_type) const {
  std::vector<const Circuit*> out;
  {
    std::shared_lock lock(mutex_);
    for (const auto& c : circuits_) {
      if (c->claim_type == claim_type) out.push_back(c.get());
    }
  }
  std::sort(out.begin(), out.end(), [](const Circuit* a, const Circuit* b) {
    return semver_parts(a->version) > semver_parts(b->version);
  });
  return out;
}

std::vector<const Circuit*> CircuitCatalog::all() const {
  std::shared_lock lock(mutex_);
  std::vector<const Circuit*> out;
  for (const auto& c : circuits_) out.push_back(c.get());
  return out;
}

bool CircuitCatalog::empty() const noexcept {
  std::shared_lock lock(mutex_);
  return circuits_.empty();
}

}  // namespace pg::core
