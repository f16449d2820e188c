// The demo set-up (see demo.hpp): the one-process path of `serve --demo`. Credentials are made by
// the issuer nodes' own code (src/issuer: record rules, leaf, tree), not a second implementation.
#include "cli/demo.hpp"

#include <sys/stat.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "calendar/bikram_sambat.hpp"
#include "cli/clients.hpp"
#include "core/catalog.hpp"
#include "crypto/poseidon.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "issuer/attributes.hpp"
#include "issuer/tree.hpp"

namespace pg::cli {

namespace fs = std::filesystem;
namespace json = boost::json;
using crypto::Fr;

namespace {
constexpr std::string_view kDemoDomain = "bank.example";

std::string dec(const Fr& x) {
  return crypto::snarkjs::to_decimal(x.to_canonical());
}

/// The issuer nodes' own rules and tree (src/issuer): the sandbox-style record becomes its
/// credential attributes (Bikram Sambat dates, fiscal years), its leaf goes into a depth-20 tree
/// after three filler leaves; returns the wallet's credential JSON.
json::object issue(const issuer::AuthorityRecord& record, const Fr& commitment, std::uint32_t today,
                   Fr& root_out) {
  auto attrs = issuer::credential_attributes(record, today);
  if (!attrs) throw std::runtime_error("demo record: " + attrs.error());
  const auto leaf = issuer::credential_leaf(*attrs, commitment);
  if (!leaf) throw std::runtime_error("demo record: too many attributes");
  issuer::MerkleTree tree;
  for (const std::uint64_t filler : {101, 202, 303}) tree.append(Fr::from_u64(filler));
  const std::uint64_t index = *tree.append(*leaf);
  const issuer::MerklePath path = tree.path(index);
  root_out = tree.root();
  json::array siblings, bits;
  for (const Fr& s : path.siblings) siblings.push_back(json::value(dec(s)));
  for (const std::uint8_t b : path.path_indices) bits.push_back(b);
  json::object attributes;
  for (const auto& [k, v] : attrs->attributes) attributes[k] = v;
  return json::object{{"issuer", std::string(core::issuer_slug(attrs->issuer_id)) + " (sandbox)"},
                      {"schema", attrs->schema},
                      {"attributes", attributes},
                      {"expiry", attrs->expiry},
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
  // The partner: a test client (its key pg_test_..., sandbox roots only), created once; its key
  // is shown once, so the demo keeps it in partner.json. A live partner an older demo made is
  // replaced: the demo's issuers are sandbox issuers.
  const fs::path partner_file = dir / "partner.json";
  std::string api_key;
  const json::object kept =
      fs::exists(partner_file) ? json::parse(read_text(partner_file)).as_object() : json::object();
  const json::value* kept_mode = kept.if_contains("mode");
  if (kept_mode != nullptr && *kept_mode == "test") {
    api_key = kept.at("api_key").as_string().c_str();
    out += "demo partner: " + partner_file.string() + " (kept from an earlier run)\n";
  } else {
    NewClient spec{"Demo Bank",
                   {"age_over_18", "citizenship", "education", "income_gte"},
                   {std::string(kDemoDomain)},
                   ""};
    spec.test_only = true;
    const json::object created = create_client(store, master_key, spec);
    api_key = created.at("api_key").as_string().c_str();
    write_private(partner_file, json::serialize(created));
    out += "demo partner: " + partner_file.string() +
           " (test-mode API key inside; domain bank.example)\n";
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
  // Records as the sandbox authorities give them (docs/issuers.md), through the issuers' rules.
  // The income record holds the last two completed fiscal years, whatever today is.
  const auto now = core::SystemClock().now_ms();
  const std::uint32_t today = calendar::nepal_yyyymmdd(now);
  const auto today_bs =
      calendar::ad_to_bs({static_cast<int>(today / 10000), static_cast<int>(today / 100 % 100),
                          static_cast<int>(today % 100)});
  if (!today_bs) throw std::runtime_error("demo: today is outside the Bikram Sambat table");
  const int last_year = calendar::fiscal_year_of(*today_bs) - 1;
  const std::array<std::pair<std::uint32_t, issuer::AuthorityRecord>, 3> records{{
      {1, issuer::MohaRecord{"00-00-00-00001", "Demo Holder", "2056-09-16", "9800000001"}},
      {2, issuer::TuRecord{"0-0-00-0001-2020", 4, 2078, 1, "Demo Campus"}},
      {3, issuer::NrbRecord{"300000001", {{last_year - 1, 1400000}, {last_year, 1500000}}}},
  }};
  for (const auto& [issuer_id, record] : records) {
    Fr root;
    const json::object cred = issue(record, commitment, today, root);
    const std::string schema(cred.at("schema").as_string());
    write_private(dir / (schema + ".json"), json::serialize(cred));
    const core::IssuerRoot sandbox_root{issuer_id, dec(root), 0, 0, 0, 0, /*sandbox=*/true};
    if (const auto outcome = store.publish_root(sandbox_root, now);
        outcome == core::PublishOutcome::kReplacedBefore ||
        outcome == core::PublishOutcome::kOtherSide) {
      throw std::runtime_error("demo: the " + schema +
                               " root is known in this data directory; use a fresh one");
    }
    out += "credential: " + (dir / (schema + ".json")).string() + " (" +
           std::string(core::issuer_slug(issuer_id)) + " sandbox tree root published)\n";
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
  // A partner file from before client secrets has none: no token line then.
  if (json::parse(read_text(partner_file)).as_object().contains("client_secret")) {
    const std::string field =
        "$(node -p 'require(\"" + fs::absolute(partner_file).string() + "\").";
    out +=
        "Or with an OAuth2 access token in place of the key (docs/partners.md, \"Tokens\"):\n"
        "  curl -s -u \"" +
        field + "client_id')\":\"" + field +
        "client_secret')\" \\\n    -d grant_type=client_credentials " + base + "/oauth/token\n";
  }
  return out;
}

}  // namespace pg::cli
