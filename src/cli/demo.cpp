// The demo set-up (see demo.hpp). Credentials are computed as docs/protocol.md states them:
// leaf = Poseidon(issuer_id, schema_id, commitment, attributes..., expiry) in a depth-20 tree.
#include "cli/demo.hpp"

#include <sys/stat.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "cli/clients.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/snarkjs_codec.hpp"

namespace pg::cli {

namespace fs = std::filesystem;
namespace json = boost::json;
using crypto::Fr;

namespace {
constexpr int kDepth = 20;
constexpr std::string_view kDemoDomain = "bank.example";

Fr fr_u64(std::uint64_t v) {
  crypto::Limbs l{};
  l[0] = v;
  return Fr::from_canonical(l);
}

std::string dec(const Fr& x) {
  return crypto::snarkjs::to_decimal(x.to_canonical());
}

Fr hash2(const Fr& a, const Fr& b) {
  const std::array<Fr, 2> in{a, b};
  return crypto::poseidon_hash(in);
}

struct Credential {
  std::string issuer, schema;
  std::uint32_t issuer_id, schema_id;
  std::vector<std::pair<std::string, std::uint64_t>> attributes;
  std::uint64_t expiry;
};

/// A sparse depth-20 tree with filler leaves 101, 202, 303 and the credential's leaf at index 3;
/// returns the wallet's credential JSON (attributes, expiry, root, siblings, path_indices).
json::object issue(const Credential& c, const Fr& commitment, Fr& root_out) {
  std::vector<Fr> leaf_in{fr_u64(c.issuer_id), fr_u64(c.schema_id), commitment};
  for (const auto& [k, v] : c.attributes) leaf_in.push_back(fr_u64(v));
  leaf_in.push_back(fr_u64(c.expiry));
  const Fr leaf = crypto::poseidon_hash(leaf_in);
  std::array<Fr, kDepth + 1> zero{};
  zero[0] = Fr::zero();
  for (int i = 0; i < kDepth; ++i) zero[i + 1] = hash2(zero[i], zero[i]);
  std::map<std::uint64_t, Fr> level{
      {0, fr_u64(101)}, {1, fr_u64(202)}, {2, fr_u64(303)}, {3, leaf}};
  std::uint64_t index = 3;
  json::array siblings, bits;
  for (int d = 0; d < kDepth; ++d) {
    const auto sib = level.find(index ^ 1);
    siblings.push_back(json::value(dec(sib == level.end() ? zero[d] : sib->second)));
    bits.push_back(index & 1);
    std::map<std::uint64_t, Fr> next;
    for (const auto& [i, v] : level) {
      if (next.contains(i / 2)) continue;
      const auto l = level.find(i & ~std::uint64_t{1});
      const auto r = level.find(i | 1);
      next[i / 2] =
          hash2(l == level.end() ? zero[d] : l->second, r == level.end() ? zero[d] : r->second);
    }
    level = std::move(next);
    index /= 2;
  }
  root_out = level.at(0);
  json::object attrs;
  for (const auto& [k, v] : c.attributes) attrs[k] = v;
  return json::object{{"issuer", c.issuer + " (sandbox)"},
                      {"schema", c.schema},
                      {"attributes", attrs},
                      {"expiry", c.expiry},
                      {"root", dec(root_out)},
                      {"siblings", siblings},
                      {"path_indices", bits}};
}

void write_private(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text << "\n";
  out.close();
  if (!out) throw std::runtime_error(file.string() + ": cannot write");
  ::chmod(file.c_str(), 0600);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::string set_up_demo(core::Store& store, const core::MasterKey& master_key,
                        const fs::path& data_dir, const std::string& listen,
                        const fs::path& artifacts_dir) {
  const fs::path dir = data_dir / "demo";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
  std::string out;
  // The partner: created once; its key is shown once, so the demo keeps it in partner.json.
  const fs::path partner_file = dir / "partner.json";
  std::string api_key;
  if (fs::exists(partner_file)) {
    api_key = json::parse(read_text(partner_file)).at("api_key").as_string().c_str();
    out += "demo partner: " + partner_file.string() + " (kept from an earlier run)\n";
  } else {
    NewClient spec{"Demo Bank",
                   {"age_over_18", "citizenship", "education", "income_gte"},
                   {std::string(kDemoDomain)},
                   ""};
    const json::object created = create_client(store, master_key, spec);
    api_key = created.at("api_key").as_string().c_str();
    write_private(partner_file, json::serialize(created));
    out += "demo partner: " + partner_file.string() + " (API key inside; domain bank.example)\n";
  }
  // The holder: the wallet's format ({version, secret, commitment}).
  const fs::path holder_file = dir / "holder.json";
  Fr secret, commitment;
  if (fs::exists(holder_file)) {
    const auto h = json::parse(read_text(holder_file));
    auto s = crypto::snarkjs::fr_from_decimal(h.at("secret"), "holder.secret");
    if (!s) throw std::runtime_error(holder_file.string() + ": " + s.error().to_string());
    secret = *s;
  } else {
    for (;;) {
      const std::string bytes = core::random_bytes(32);
      crypto::Limbs l{};
      for (int i = 0; i < 4; ++i) {
        for (int b = 0; b < 8; ++b)
          l[i] |= std::uint64_t(std::uint8_t(bytes[i * 8 + b])) << (8 * b);
      }
      l[3] &= 0x3fffffffffffffffULL;  // 254 bits, then rejection below r
      auto parsed =
          crypto::snarkjs::fr_from_decimal(json::value(crypto::snarkjs::to_decimal(l)), "secret");
      if (parsed && !parsed->is_zero()) {
        secret = *parsed;
        break;
      }
    }
  }
  const std::array<Fr, 1> s_in{secret};
  commitment = crypto::poseidon_hash(s_in);
  if (!fs::exists(holder_file)) {
    write_private(holder_file,
                  json::serialize(json::object{
                      {"version", 1}, {"secret", dec(secret)}, {"commitment", dec(commitment)}}));
  }
  out += "demo holder: " + holder_file.string() + "\n";
  const std::array<Credential, 3> credentials{
      Credential{"MOHA", "identity", 1, 1, {{"birth_date", 20000101}, {"country", 524}}, 20351231},
      Credential{"TU",
                 "education",
                 2,
                 2,
                 {{"degree_level", 4}, {"graduation_year", 2022}, {"institution_id", 1}},
                 20991231},
      Credential{"NRB/IRD",
                 "income",
                 3,
                 3,
                 {{"annual_income_npr", 1500000}, {"fiscal_year", 2081}},
                 20351231},
  };
  const auto now = core::SystemClock().now_ms();
  for (const Credential& c : credentials) {
    Fr root;
    const json::object cred = issue(c, commitment, root);
    write_private(dir / (c.schema + ".json"), json::serialize(cred));
    store.publish_root(c.issuer_id, dec(root), now);
    out += "credential: " + (dir / (c.schema + ".json")).string() + " (" + c.issuer +
           " tree root published)\n";
  }
  const std::string base = "http://" + listen;
  const std::string key_expr =
      "$(node -p 'require(\"" + fs::absolute(partner_file).string() + "\").api_key')";
  const std::string request_file = (dir / "request.json").string();
  const std::string body_file = (dir / "verify-body.json").string();
  out +=
      "\nTry it from the repository's root (three commands; the wallet proves in about 2 "
      "seconds):\n";
  out += "  curl -s -H \"Authorization: Bearer " + key_expr +
         "\" -H 'Content-Type: application/json' \\\n"
         "    -d '{\"claim_type\":\"age_over_18\"}' " +
         base + "/api/v1/requests > " + request_file + "\n";
  out += "  node clients/wallet/bin/wallet.mjs prove --holder " + holder_file.string() +
         " --credential " + (dir / "identity.json").string() + " \\\n    --request " +
         request_file + " --artifacts " + artifacts_dir.string() + " > " + body_file + "\n";
  out += "  curl -s -H \"Authorization: Bearer " + key_expr +
         "\" -H 'Content-Type: application/json' \\\n"
         "    --data @" +
         body_file + " " + base + "/api/v1/verify\n";
  return out;
}

}  // namespace pg::cli
