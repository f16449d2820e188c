// Wiring core::AdminService (see clients.hpp).
#include "cli/clients.hpp"

#include <algorithm>
#include <stdexcept>

#include "webhooks/address_guard.hpp"
#include "webhooks/signer.hpp"

namespace pg::cli {

namespace json = boost::json;

namespace {
template <class Port>
Port& port_of(core::Store& store, std::string_view name) {
  auto* port = dynamic_cast<Port*>(&store);
  if (port == nullptr)
    throw std::runtime_error("this storage does not provide the " + std::string(name) + " port");
  return *port;
}
}  // namespace

std::optional<std::string> GuardedWebhooks::refuse(std::string_view url,
                                                   bool allow_loopback) const {
  webhooks::GuardPolicy policy;
  policy.allow_loopback = allow_loopback;
  policy.require_https = !allow_loopback;
  return webhooks::check_registration(url, policy);
}

std::string GuardedWebhooks::new_secret() const {
  return webhooks::new_secret();
}

AdminWiring::AdminWiring(core::Store& store, const core::MasterKey& master_key,
                         const core::Clock& clock, std::function<void()> notify_worker)
    : service_({store, port_of<core::OutboxStore>(store, "outbox"),
                port_of<core::AuditStore>(store, "audit"),
                port_of<core::AdminStore>(store, "admin"), clock, master_key, webhooks_,
                std::move(notify_worker), &port_of<core::UsageStore>(store, "usage")}) {}

json::object created_client_json(const core::CreatedClient& created) {
  const core::Client& c = created.client;
  json::object out{{"client_id", c.id},
                   {"name", c.name},
                   {"mode", core::mode_name(c.mode)},
                   {"api_key", created.api_key},
                   {"client_secret", created.client_secret},
                   {"key_prefix", c.key_prefix},
                   {"scopes", json::array(c.scopes.begin(), c.scopes.end())},
                   {"domains", json::array(c.domains.begin(), c.domains.end())}};
  if (!c.webhook_url.empty()) {
    out["webhook_url"] = c.webhook_url;
    out["webhook_secret"] = created.webhook_secret;
  }
  if (created.test) {
    // The partner's test side: its own id, key and OAuth2 secret; no webhook URL yet.
    out["test_client_id"] = created.test->client.id;
    out["test_api_key"] = created.test->api_key;
    out["test_client_secret"] = created.test->client_secret;
  }
  return out;
}

json::object create_client(core::Store& store, const core::MasterKey& master_key,
                           const NewClient& spec, const core::Actor& actor) {
  static const core::SystemClock clock;
  AdminWiring admin(store, master_key, clock);
  const auto created = admin.service().create_client(actor, spec);
  if (!created) {
    std::string field = created.error().field;
    std::replace(field.begin(), field.end(), '_', '-');
    throw std::runtime_error("--" + field + ": " + created.error().detail);
  }
  return created_client_json(created.value());
}

}  // namespace pg::cli
