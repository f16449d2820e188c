// Strict reading of the deployment file (deployment.hpp) and EIP-55 addresses
// (https://eips.ethereum.org/EIPS/eip-55).
#include "chain/deployment.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <initializer_list>

#include "chain/keccak.hpp"

namespace pg::chain {

namespace json = boost::json;

namespace {
using Parsed = crypto::Result<Deployment, std::string>;

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

bool is_identifier(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

/// MAJOR.MINOR.PATCH, each a decimal without leading zeros.
bool is_semver(std::string_view s) {
  int parts = 0;
  while (true) {
    const auto dot = s.find('.');
    const std::string_view part = s.substr(0, dot);
    if (part.empty() || part.size() > 9 || (part.size() > 1 && part[0] == '0') ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    ++parts;
    if (dot == std::string_view::npos) return parts == 3;
    s.remove_prefix(dot + 1);
  }
}

std::string unknown_member(const json::object& o, std::initializer_list<std::string_view> known,
                           const std::string& prefix) {
  for (const auto& [k, v] : o) {
    if (std::find(known.begin(), known.end(), std::string_view(k)) == known.end())
      return prefix + std::string(k) + ": unknown member";
  }
  for (const std::string_view k : known) {
    if (!o.contains(k)) return prefix + std::string(k) + ": is required";
  }
  return {};
}

/// A JSON integer from `min` up to 2^63-1, or the error.
std::string read_uint(const json::value& v, const std::string& field, std::uint64_t min,
                      std::uint64_t& out) {
  if (v.is_uint64()) {
    out = v.get_uint64();
  } else if (v.is_int64() && v.get_int64() >= 0) {
    out = static_cast<std::uint64_t>(v.get_int64());
  } else {
    return field + ": must be a non-negative integer";
  }
  if (out < min) return field + ": must be at least " + std::to_string(min);
  return {};
}

std::string read_address(const json::value& v, const std::string& field, std::string& out) {
  if (!v.is_string()) return field + ": must be a string";
  std::string why;
  auto a = parse_address(v.get_string(), &why);
  if (!a) return field + ": " + why;
  out = std::move(*a);
  return {};
}
}  // namespace

std::string checksum_address(std::string_view lower_hex40) {
  const Hash32 h = keccak256(lower_hex40);
  std::string out = "0x";
  for (std::size_t i = 0; i < lower_hex40.size(); ++i) {
    const char c = lower_hex40[i];
    const int nibble = (i % 2 == 0) ? h[i / 2] >> 4 : h[i / 2] & 0x0f;
    out.push_back(c >= 'a' && nibble >= 8 ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

std::optional<std::string> parse_address(std::string_view text, std::string* why) {
  const auto refuse = [why](const char* reason) -> std::optional<std::string> {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (text.size() != 42 || text[0] != '0' || text[1] != 'x' || !is_hex(text.substr(2)))
    return refuse("must be 0x and 40 hex digits");
  const std::string_view digits = text.substr(2);
  std::string lower(digits);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string checked = checksum_address(lower);
  const bool all_lower =
      std::none_of(digits.begin(), digits.end(), [](char c) { return c >= 'A' && c <= 'F'; });
  const bool all_upper =
      std::none_of(digits.begin(), digits.end(), [](char c) { return c >= 'a' && c <= 'f'; });
  if (!all_lower && !all_upper && checked.substr(2) != digits)
    return refuse("mixed-case address with a wrong EIP-55 checksum");
  return checked;
}

const DeployedVerifier* Deployment::find(std::string_view claim_type,
                                         std::string_view version) const {
  for (const auto& v : verifiers) {
    if (v.claim_type == claim_type && v.version == version) return &v;
  }
  return nullptr;
}

Parsed parse_deployment(std::string_view text) {
  boost::system::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec) return std::string("not JSON: ") + ec.message();
  if (!root.is_object()) return std::string("must be a JSON object");
  const json::object& o = root.get_object();
  if (auto e = unknown_member(o,
                              {"chain_id", "circuit_registry", "root_registry", "timelock", "safe",
                               "deployed_block", "verifiers"},
                              "");
      !e.empty())
    return e;
  Deployment d;
  if (auto e = read_uint(o.at("chain_id"), "chain_id", 1, d.chain_id); !e.empty()) return e;
  if (auto e = read_uint(o.at("deployed_block"), "deployed_block", 0, d.deployed_block); !e.empty())
    return e;
  for (const auto& [name, member] :
       {std::pair{"circuit_registry", &d.circuit_registry},
        std::pair{"root_registry", &d.root_registry}, std::pair{"timelock", &d.timelock},
        std::pair{"safe", &d.safe}}) {
    if (auto e = read_address(o.at(name), name, *member); !e.empty()) return e;
  }
  if (!o.at("verifiers").is_array()) return std::string("verifiers: must be an array");
  const json::array& list = o.at("verifiers").get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = "verifiers[" + std::to_string(i) + "].";
    if (!list[i].is_object()) return "verifiers[" + std::to_string(i) + "]: must be an object";
    const json::object& v = list[i].get_object();
    if (auto e = unknown_member(
            v, {"claim_type", "version", "address", "public_inputs", "vkey_sha256"}, at);
        !e.empty())
      return e;
    DeployedVerifier entry;
    const json::value& claim = v.at("claim_type");
    if (!claim.is_string() || !is_identifier(claim.get_string()))
      return at + "claim_type: must be a claim type name ([a-z0-9_], at most 64 characters)";
    entry.claim_type = claim.get_string();
    const json::value& version = v.at("version");
    if (!version.is_string() || !is_semver(version.get_string()))
      return at + "version: must be a version MAJOR.MINOR.PATCH";
    entry.version = version.get_string();
    if (auto e = read_address(v.at("address"), at + "address", entry.address); !e.empty()) return e;
    if (auto e = read_uint(v.at("public_inputs"), at + "public_inputs", 1, entry.public_inputs);
        !e.empty())
      return e;
    if (entry.public_inputs > 1024) return at + "public_inputs: must be at most 1024";
    const json::value& sha = v.at("vkey_sha256");
    if (!sha.is_string() || sha.get_string().size() != 64 ||
        std::string_view(sha.get_string()).find_first_not_of("0123456789abcdef") !=
            std::string_view::npos)
      return at + "vkey_sha256: must be 64 lowercase hex digits";
    entry.vkey_sha256 = sha.get_string();
    if (d.find(entry.claim_type, entry.version))
      return at + "version: " + entry.claim_type + " " + entry.version + " is listed twice";
    d.verifiers.push_back(std::move(entry));
  }
  return d;
}

}  // namespace pg::chain
