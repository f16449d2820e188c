// `proofgate admin ...`: partner and state management on the data directory, usable while the
// server runs (SQLite's locks keep both consistent).
#include <boost/json.hpp>
#include <iostream>

#include "cli/clients.hpp"
#include "cli/commands.hpp"
#include "cli/backends.hpp"
#include "core/catalog.hpp"
#include "core/service.hpp"
#include "crypto/snarkjs_codec.hpp"
#include "http/admin.hpp"
#include "webhooks/address_guard.hpp"
#include "webhooks/signer.hpp"

namespace pg::cli {

namespace json = boost::json;

namespace {
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct AdminFlags {
  std::string data_dir = "./data", database_url, master_key_file;
  std::string name, scopes, domains, webhook_url;
  std::uint32_t issuer_id = 0;
  std::string root, claim_type, version, client_id;
  bool enabled = true, allow_loopback_webhook = false;
  std::int64_t overlap_seconds = 86400;
};

Backends open(const AdminFlags& f) {
  RawSettings flags{{"data_dir", f.data_dir}};
  if (!f.database_url.empty()) flags["database_url"] = f.database_url;
  if (!f.master_key_file.empty()) flags["master_key_file"] = f.master_key_file;
  static const core::SystemClock clock;
  return open_backends(resolve_settings(flags, std::nullopt), clock, /*with_cache=*/false);
}
}  // namespace

void add_admin_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<AdminFlags>();
  CLI::App* admin = app.add_subcommand("admin", "Manage partners, issuer roots and circuit versions");
  admin->require_subcommand(1);
  const auto storage = [f](CLI::App* c) {
    c->add_option("--data-dir", f->data_dir, "data directory of the embedded default (default ./data)");
    c->add_option("--database-url", f->database_url, "PostgreSQL URL (production storage)");
    c->add_option("--master-key-file", f->master_key_file, "the deployment's master key (default <data-dir>/master.key)");
  };

  CLI::App* create = admin->add_subcommand("create-client", "Create a partner; prints its API key once");
  create->add_option("--name", f->name, "partner name")->required();
  create->add_option("--scopes", f->scopes, "claim types, comma-separated")->required();
  create->add_option("--domains", f->domains, "verifier domains, comma-separated")->required();
  create->add_option("--webhook-url", f->webhook_url, "where webhooks go (a secret is generated and shown once)");
  create->add_flag("--allow-loopback-webhook", f->allow_loopback_webhook,
                   "DEVELOPMENT/TESTS ONLY: accept a webhook URL on loopback over plain http");
  storage(create);
  create->callback([f, &exit_code] {
    Backends d = open(*f);
    const json::object out = create_client(*d.store, d.master_key,
                                           {f->name, split_list(f->scopes), split_list(f->domains), f->webhook_url,
                                            f->allow_loopback_webhook});
    std::cout << json::serialize(out) << std::endl;
    exit_code = 0;
  });

  CLI::App* rotate = admin->add_subcommand("rotate-webhook-secret",
                                           "New webhook secret for a partner (shown once); the old one keeps signing during the overlap");
  rotate->add_option("--client-id", f->client_id, "the partner")->required();
  rotate->add_option("--overlap-seconds", f->overlap_seconds, "how long the old secret still signs (default 86400)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{30} * 86400));
  rotate->add_option("--webhook-url", f->webhook_url, "a new webhook URL as well (optional)");
  rotate->add_flag("--allow-loopback-webhook", f->allow_loopback_webhook, "DEVELOPMENT/TESTS ONLY (see create-client)");
  storage(rotate);
  rotate->callback([f, &exit_code] {
    Backends d = open(*f);
    const auto target = d.outbox->webhook_target(f->client_id);
    if (!target) throw std::runtime_error("--client-id: no partner with this id");
    if (!f->webhook_url.empty()) {
      webhooks::GuardPolicy policy;
      policy.allow_loopback = f->allow_loopback_webhook;
      policy.require_https = !f->allow_loopback_webhook;
      if (const auto refused = webhooks::check_registration(f->webhook_url, policy)) {
        throw std::runtime_error("--webhook-url: " + *refused);
      }
    } else if (target->url.empty()) {
      throw std::runtime_error("--webhook-url: the partner has no webhook URL yet; give one");
    }
    const std::string secret = webhooks::new_secret();
    const auto now = core::SystemClock().now_ms();
    d.outbox->rotate_webhook_secret(f->client_id, core::seal(d.master_key, secret, f->client_id),
                                   now + f->overlap_seconds * 1000, f->webhook_url);
    std::cout << json::serialize(json::object{{"client_id", f->client_id}, {"webhook_secret", secret},
                                              {"previous_secret_signs_until", core::rfc3339(now + f->overlap_seconds * 1000)}})
              << std::endl;
    exit_code = 0;
  });

  CLI::App* token = admin->add_subcommand("new-admin-token",
                                          "A new admin token for /api/admin (shown once) and the SHA-256 to configure");
  token->callback([&exit_code] {
    const auto [text, digest] = http::new_admin_token();
    std::cout << json::serialize(json::object{{"admin_token", text}, {"admin_token_sha256", digest},
                                              {"configure", "PROOFGATE_ADMIN_TOKEN_SHA256=" + digest}})
              << std::endl;
    exit_code = 0;
  });

  CLI::App* list = admin->add_subcommand("list-clients", "List partners (never their keys or secrets)");
  storage(list);
  list->callback([f, &exit_code] {
    Backends d = open(*f);
    json::array out;
    for (const auto& c : d.store->list_clients()) {
      out.push_back(json::object{{"client_id", c.id}, {"name", c.name}, {"key_prefix", c.key_prefix},
                                 {"scopes", json::array(c.scopes.begin(), c.scopes.end())},
                                 {"domains", json::array(c.domains.begin(), c.domains.end())},
                                 {"webhook_url", c.webhook_url}, {"last_used", c.last_used}});
    }
    std::cout << json::serialize(out) << std::endl;
    exit_code = 0;
  });

  CLI::App* publish = admin->add_subcommand("publish-root", "Publish an issuer's current credential root");
  publish->add_option("--issuer-id", f->issuer_id, "issuer id (1 MOHA, 2 TU, 3 NRB/IRD)")->required();
  publish->add_option("--root", f->root, "the root, a decimal field element")->required();
  storage(publish);
  publish->callback([f, &exit_code] {
    auto root = crypto::snarkjs::fr_from_decimal(json::value(f->root), "--root");
    if (!root) throw std::runtime_error(root.error().to_string());
    if (f->issuer_id == 0) throw std::runtime_error("--issuer-id: must be positive");
    Backends d = open(*f);
    d.store->publish_root(f->issuer_id, f->root, core::SystemClock().now_ms());
    std::cout << json::serialize(json::object{{"issuer_id", f->issuer_id}, {"root", f->root}, {"current", true}}) << std::endl;
    exit_code = 0;
  });

  CLI::App* circuit = admin->add_subcommand("set-circuit", "Enable or disable a circuit version");
  circuit->add_option("--claim-type", f->claim_type, "claim type")->required();
  circuit->add_option("--version", f->version, "version MAJOR.MINOR.PATCH")->required();
  circuit->add_option("--enabled", f->enabled, "true or false")->required();
  storage(circuit);
  circuit->callback([f, &exit_code] {
    if (!core::is_claim_type(f->claim_type)) throw std::runtime_error("--claim-type: unknown claim type '" + f->claim_type + "'");
    if (!core::is_semver(f->version)) throw std::runtime_error("--version: must be MAJOR.MINOR.PATCH");
    Backends d = open(*f);
    d.store->set_circuit_enabled(f->claim_type, f->version, f->enabled, core::SystemClock().now_ms());
    std::cout << json::serialize(json::object{{"claim_type", f->claim_type}, {"version", f->version}, {"enabled", f->enabled}})
              << std::endl;
    exit_code = 0;
  });
}

}  // namespace pg::cli
