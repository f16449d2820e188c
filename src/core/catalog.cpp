// Loading and checking circuit manifests and verification keys (see catalog.hpp).
#include "core/catalog.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {
constexpr std::string_view kSignals[] = {"nullifier", "root",      "binding",   "scope",
                                         "today",     "min_level", "threshold", "fiscal_year"};
constexpr std::string_view kRequiredSignals[] = {"nullifier", "root", "binding", "scope", "today"};
constexpr std::uintmax_t kMaxKeyBytes = 1 << 20;

std::string read_file(const fs::path& p, std::uintmax_t limit) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) throw std::runtime_error(p.string() + ": " + ec.message());
  if (size > limit)
    throw std::runtime_error(p.string() + ": larger than " + std::to_string(limit) + " bytes");
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) throw std::runtime_error(p.string() + ": cannot read");
  return ss.str();
}

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

const json::value& member(const json::object& o, std::string_view name, const fs::path& file) {
  const auto* v = o.if_contains(name);
  if (!v) throw std::runtime_error(file.string() + ": missing member " + std::string(name));
  return *v;
}

std::string string_member(const json::object& o, std::string_view name, const fs::path& file) {
  const auto& v = member(o, name, file);
  if (!v.is_string())
    throw std::runtime_error(file.string() + ": " + std::string(name) + " is not a string");
  return std::string(v.get_string());
}
}  // namespace

bool is_claim_type(std::string_view s) noexcept {
  return std::find(std::begin(kClaimTypes), std::end(kClaimTypes), s) != std::end(kClaimTypes);
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

CircuitCatalog CircuitCatalog::load(const fs::path& dir) {
  CircuitCatalog catalog;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return catalog;
  std::vector<fs::path> manifests;
  for (const auto& claim : fs::directory_iterator(dir)) {
    const std::string name = claim.path().filename().string();
    if (!claim.is_directory() || name.starts_with("_")) continue;
    for (const auto& version : fs::directory_iterator(claim.path())) {
      const fs::path m = version.path() / "manifest.json";
      if (version.is_directory() && fs::exists(m)) manifests.push_back(m);
    }
  }
  std::sort(manifests.begin(), manifests.end());
  for (const fs::path& file : manifests) {
    auto parsed = crypto::snarkjs::parse_json(read_file(file, kMaxKeyBytes), "manifest");
    if (!parsed || !parsed->is_object())
      throw std::runtime_error(file.string() + ": not a JSON object");
    const json::object& m = parsed->get_object();
    auto c = std::make_unique<Circuit>();
    c->dir = file.parent_path();
    c->claim_type = string_member(m, "claim_type", file);
    c->version = string_member(m, "version", file);
    if (!is_claim_type(c->claim_type))
      throw std::runtime_error(file.string() + ": unknown claim_type " + c->claim_type);
    if (!is_semver(c->version))
      throw std::runtime_error(file.string() + ": version is not MAJOR.MINOR.PATCH");
    if (c->dir.filename() != c->version || c->dir.parent_path().filename() != c->claim_type) {
      throw std::runtime_error(file.string() +
                               ": directory is not <claim_type>/<version> of the manifest");
    }
    const auto& signals = member(m, "public_signals", file);
    if (!signals.is_array())
      throw std::runtime_error(file.string() + ": public_signals is not an array");
    for (const auto& s : signals.get_array()) {
      if (!s.is_string())
        throw std::runtime_error(file.string() + ": public_signals holds a non-string");
      const std::string name(s.get_string());
      if (std::find(std::begin(kSignals), std::end(kSignals), name) == std::end(kSignals)) {
        throw std::runtime_error(file.string() + ": public signal " + name +
                                 " is not one the server can check");
      }
      if (c->index_of(name) != std::string::npos)
        throw std::runtime_error(file.string() + ": duplicate signal " + name);
      c->public_signals.push_back(name);
    }
    for (const auto required : kRequiredSignals) {
      if (c->index_of(required) == std::string::npos) {
        throw std::runtime_error(file.string() + ": public signal " + std::string(required) +
                                 " is missing");
      }
    }
    const auto& issuer = member(m, "issuer", file);
    if (!issuer.is_object() || !issuer.get_object().contains("id") || !issuer.at("id").is_int64() ||
        issuer.at("id").get_int64() <= 0) {
      throw std::runtime_error(file.string() + ": issuer.id is not a positive integer");
    }
    c->issuer_id = static_cast<std::uint32_t>(issuer.at("id").get_int64());
    if (const auto* n = issuer.get_object().if_contains("name"); n && n->is_string())
      c->issuer_name = n->get_string();
    const auto& digests = member(m, "sha256", file);
    if (!digests.is_object()) throw std::runtime_error(file.string() + ": sha256 is not an object");
    for (const auto& [k, v] : digests.get_object()) {
      if (!v.is_string())
        throw std::runtime_error(file.string() + ": sha256." + std::string(k) + " is not a string");
      c->sha256.emplace(std::string(k), std::string(v.get_string()));
    }
    const auto vk_digest = c->sha256.find("verification_key.json");
    if (vk_digest == c->sha256.end())
      throw std::runtime_error(file.string() + ": no sha256 of verification_key.json");
    const fs::path vk_file = c->dir / "verification_key.json";
    const std::string vk_text = read_file(vk_file, kMaxKeyBytes);
    const auto digest = sha256(vk_text);
    if (hex(digest) != vk_digest->second) {
      throw std::runtime_error(vk_file.string() + ": SHA-256 differs from the manifest's");
    }
    auto key = crypto::snarkjs::load_verifying_key(vk_text);
    if (!key) throw std::runtime_error(vk_file.string() + ": " + key.error().to_string());
    if ((*key)->num_public() != c->public_signals.size()) {
      throw std::runtime_error(
          vk_file.string() + ": the key has " + std::to_string((*key)->num_public()) +
          " public inputs, the manifest names " + std::to_string(c->public_signals.size()));
    }
    c->key = *key;
    catalog.circuits_.push_back(std::move(c));
  }
  return catalog;
}

const Circuit* CircuitCatalog::find(std::string_view claim_type,
                                    std::string_view version) const noexcept {
  for (const auto& c : circuits_) {
    if (c->claim_type == claim_type && c->version == version) return c.get();
  }
  return nullptr;
}

std::vector<const Circuit*> CircuitCatalog::versions(std::string_view claim_type) const {
  std::vector<const Circuit*> out;
  for (const auto& c : circuits_) {
    if (c->claim_type == claim_type) out.push_back(c.get());
  }
  std::sort(out.begin(), out.end(), [](const Circuit* a, const Circuit* b) {
    return semver_parts(a->version) > semver_parts(b->version);
  });
  return out;
}

}  // namespace pg::core
