// Wiring core::AdminService for the composition root (the storage objects fill every storage port,
// the outbound-address guard is its webhook policy), and creating a partner for the demo.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cli/backends.hpp"
#include "core/admin_service.hpp"
#include "core/ports.hpp"
#include "core/secrets.hpp"

namespace pg::cli {

using NewClient = core::NewClient;

/// core::WebhookPolicy from src/webhooks: the address guard at registration (https, no
/// loopback/private/link-local/metadata address unless allow_loopback) and the signer's secrets.
class GuardedWebhooks final : public core::WebhookPolicy {
 public:
  std::optional<std::string> refuse(std::string_view url, bool allow_loopback) const override;
  std::string new_secret() const override;
};

/// core::AdminService over `store`, which must fill core's Store, OutboxStore, AuditStore and
/// AdminStore ports (SqliteStore and PostgresStore do; else std::runtime_error). `store`,
/// `master_key` and `clock` must outlive it.
class AdminWiring {
 public:
  AdminWiring(core::Store& store, const core::MasterKey& master_key, const core::Clock& clock,
              std::function<void()> notify_worker = {});
  AdminWiring(const Backends& backends, const core::Clock& clock,
              std::function<void()> notify_worker = {})
      : AdminWiring(*backends.store, backends.master_key, clock, std::move(notify_worker)) {}
  AdminWiring(const AdminWiring&) = delete;
  AdminWiring& operator=(const AdminWiring&) = delete;

  core::AdminService& service() { return service_; }

 private:
  GuardedWebhooks webhooks_;
  core::AdminService service_;
};

/// {client_id, name, api_key, key_prefix, scopes, domains[, webhook_url, webhook_secret]}: the only
/// time the key and secret are shown.
boost::json::object created_client_json(const core::CreatedClient& created);

/// Creates a partner through core::AdminService as `actor` (the demo's partner: kActorSystem)
/// and returns created_client_json. Throws std::runtime_error "--<field>: <detail>" when refused.
boost::json::object create_client(core::Store& store, const core::MasterKey& master_key,
                                  const NewClient& spec,
                                  const core::Actor& actor = {std::string(core::kActorSystem),
                                                              "demo"});

}  // namespace pg::cli
