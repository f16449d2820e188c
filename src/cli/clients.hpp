// Creating a partner (API client): the key shown once, only its prefix and hash stored, a
// webhook secret sealed under the master key. Shared by `admin create-client` and the demo.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/ports.hpp"
#include "core/secrets.hpp"

namespace pg::cli {

struct NewClient {
  std::string name;
  std::vector<std::string> scopes;
  std::vector<std::string> domains;
  std::string webhook_url;
  bool allow_loopback_webhook = false;  // development and tests only
};

/// Checks `spec` (known claim types, lowercase DNS domains, a webhook URL that passes the
/// outbound address guard: https, resolving to no loopback/private/link-local/metadata address
/// unless allow_loopback_webhook), stores the
/// client and returns {client_id, name, api_key, key_prefix, scopes, domains[, webhook_url,
/// webhook_secret]} — the only time the key and secret are shown. Throws std::runtime_error
/// naming the bad value.
boost::json::object create_client(core::Store& store, const core::MasterKey& master_key,
                                  const NewClient& spec);

}  // namespace pg::cli
