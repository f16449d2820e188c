// Checking a production key's ceremony transcript (see ceremony_transcript.hpp).
#include "core/ceremony_transcript.hpp"

#include <boost/json.hpp>
#include <cstdint>

#include "core/secrets.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::core {

namespace json = boost::json;

namespace {
bool is_lower_hex(std::string_view s, std::size_t len) noexcept {
  if (s.size() != len) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

const json::string* string_at(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

/// A non-negative integer member, else nullopt.
std::optional<std::int64_t> count_at(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_int64() || v->get_int64() < 0) return std::nullopt;
  return v->get_int64();
}
}  // namespace

std::optional<std::string> transcript_problem(const ArtifactSource& source,
                                              std::string_view claim_type, std::string_view version,
                                              const json::object& manifest,
                                              std::string_view key_sha256) {
  const auto* ceremony_value = manifest.if_contains("ceremony");
  if (!ceremony_value || !ceremony_value->is_object()) return "the manifest has no ceremony object";
  const json::object& ceremony = ceremony_value->get_object();
  const auto* expected = string_at(ceremony, "transcript_sha256");
  if (!expected || !is_lower_hex(*expected, 64)) {
    return "the manifest's ceremony.transcript_sha256 is missing or not a lowercase hex SHA-256";
  }
  const auto text = source.read(claim_type, version, "transcript.json", kMaxTranscriptBytes);
  if (!text) return "there is no transcript.json beside the manifest";
  const std::string digest = hex(sha256(*text));
  if (digest != *expected) {
    return "transcript.json's SHA-256 " + digest + " differs from the manifest's " +
           "ceremony.transcript_sha256 " + std::string(*expected);
  }
  if (const auto* listed = manifest.if_contains("sha256"); listed && listed->is_object()) {
    if (const auto* d = string_at(listed->get_object(), "transcript.json"); d && *d != digest) {
      return "transcript.json's SHA-256 " + digest + " differs from the manifest's sha256 " +
             std::string(*d);
    }
  }
  auto parsed = crypto::snarkjs::parse_json(*text, "transcript");
  if (!parsed || !parsed->is_object()) return "transcript.json is not a JSON object";
  const json::object& t = parsed->get_object();
  if (const auto* format = string_at(t, "format"); !format || *format != kTranscriptFormat) {
    return "transcript.json's format is not \"" + std::string(kTranscriptFormat) + "\"";
  }
  const auto* records = t.if_contains("contributions");
  if (!records || !records->is_array()) return "transcript.json has no contributions array";
  std::int64_t contributors = 0;
  for (std::size_t i = 0; i < records->get_array().size(); ++i) {
    const auto& r = records->get_array()[i];
    const std::string where = "transcript.json contributions[" + std::to_string(i) + "]";
    if (!r.is_object()) return where + " is not an object";
    const auto* kind = string_at(r.get_object(), "kind");
    const auto* hash = string_at(r.get_object(), "hash");
    if (!kind || (*kind != "contribution" && *kind != "beacon")) {
      return where + ".kind is not \"contribution\" or \"beacon\"";
    }
    // BLAKE2b-512 of the contribution's public key, as snarkjs prints it to the contributor.
    if (!hash || !is_lower_hex(*hash, 128)) return where + ".hash is not 128 lowercase hex digits";
    if (*kind == "contribution") ++contributors;
  }
  if (contributors == 0) return "transcript.json names no contribution";
  const auto* beacon = t.if_contains("beacon");
  const json::string* beacon_hash =
      beacon && beacon->is_object() ? string_at(beacon->get_object(), "hash") : nullptr;
  if (!beacon_hash || beacon_hash->empty() || !count_at(beacon->get_object(), "iterations_exp")) {
    return "transcript.json names no beacon (beacon.hash and beacon.iterations_exp)";
  }
  if (count_at(t, "contributors") != contributors) {
    return "transcript.json's contributors is not the " + std::to_string(contributors) +
           " contributions it lists";
  }
  if (ceremony.contains("contributors") && count_at(ceremony, "contributors") != contributors) {
    return "the manifest's ceremony.contributors is not the transcript's " +
           std::to_string(contributors);
  }
  const auto* vk = string_at(t, "verification_key_sha256");
  if (!vk || *vk != key_sha256) {
    return "transcript.json is for another key (its verification_key_sha256 is " +
           (vk ? std::string(*vk) : std::string("missing")) + ", this key's is " +
           std::string(key_sha256) + ")";
  }
  return std::nullopt;
}

}  // namespace pg::core
