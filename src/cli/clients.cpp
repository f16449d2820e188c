// Partner creation (see clients.hpp).
#include "cli/clients.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/catalog.hpp"
#include "webhooks/address_guard.hpp"
#include "webhooks/signer.hpp"

namespace pg::cli {

namespace json = boost::json;

namespace {
bool is_domain(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.' || s.front() == '-')
    return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '.';
                     }) &&
         s.find("..") == std::string::npos;
}
}  // namespace

json::object create_client(core::Store& store, const core::MasterKey& master_key,
                           const NewClient& spec) {
  if (spec.name.empty() || spec.name.size() > 200)
    throw std::runtime_error("--name: must be 1 to 200 characters");
  if (spec.scopes.empty()) throw std::runtime_error("--scopes: at least one claim type");
  for (const auto& s : spec.scopes) {
    if (!core::is_claim_type(s))
      throw std::runtime_error("--scopes: unknown claim type '" + s + "'");
  }
  if (spec.domains.empty()) throw std::runtime_error("--domains: at least one verifier domain");
  for (const auto& d : spec.domains) {
    if (!is_domain(d))
      throw std::runtime_error("--domains: '" + d + "' is not a lowercase DNS name");
  }
  if (!spec.webhook_url.empty()) {
    webhooks::GuardPolicy policy;
    policy.allow_loopback = spec.allow_loopback_webhook;
    policy.require_https = !spec.allow_loopback_webhook;
    if (const auto refused = webhooks::check_registration(spec.webhook_url, policy)) {
      throw std::runtime_error("--webhook-url: " + *refused);
    }
  }
  core::Client c;
  c.id = core::uuid_v4();
  c.name = spec.name;
  const core::ApiKey key = core::new_api_key();
  c.key_prefix = key.prefix;
  c.key_hash = key.hash;
  c.scopes = spec.scopes;
  c.domains = spec.domains;
  c.webhook_url = spec.webhook_url;
  std::string webhook_secret;
  if (!spec.webhook_url.empty()) {
    webhook_secret = webhooks::new_secret();
    c.webhook_secret_sealed = core::seal(master_key, webhook_secret, c.id);
  }
  c.created_at = core::SystemClock().now_ms();
  store.insert_client(c);
  json::array scopes(spec.scopes.begin(), spec.scopes.end());
  json::array domains(spec.domains.begin(), spec.domains.end());
  json::object out{{"client_id", c.id},          {"name", c.name},   {"api_key", key.text},
                   {"key_prefix", c.key_prefix}, {"scopes", scopes}, {"domains", domains}};
  if (!spec.webhook_url.empty()) {
    out["webhook_url"] = spec.webhook_url;
    out["webhook_secret"] = webhook_secret;
  }
  return out;
}

}  // namespace pg::cli
