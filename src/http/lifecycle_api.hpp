// The admin API's circuit lifecycle and two-person approvals: list, approve and cancel pending
// actions; list circuit versions; request enabling one (a pending action), disable one at once,
// deprecate one with a sunset. Authenticated like the rest of /api/admin (AdminApi); a thin caller
// of core::LifecycleService. docs/admin.md "Approvals", docs/circuits.md.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "core/lifecycle.hpp"
#include "http/admin.hpp"
#include "http/message.hpp"
#include "http/routes.hpp"

namespace pg::http {

class LifecycleApi {
 public:
  /// `audit`: where the audit export reads the trail (null: the export answers NOT_FOUND).
  /// `installer` and `policy`: where uploads go and the key policy they are checked under (null:
  /// uploads answer NOT_FOUND).
  LifecycleApi(core::LifecycleService& lifecycle, AdminApi& admin,
               core::AdminService* audit = nullptr, core::ArtifactInstaller* installer = nullptr,
               const core::KeyPolicy* policy = nullptr)
      : lifecycle_(lifecycle),
        admin_(admin),
        audit_(audit),
        installer_(installer),
        policy_(policy) {}

  HttpReply handle(RouteId route, const HttpRequest& request,
                   const std::vector<std::string_view>& params);

 private:
  core::LifecycleService& lifecycle_;
  AdminApi& admin_;
  core::AdminService* audit_;
  core::ArtifactInstaller* installer_;
  const core::KeyPolicy* policy_;
};

/// The JSON forms the admin API and the CLI both print.
boost::json::object approval_json(const core::PendingAction& a);
boost::json::object circuit_state_json(const core::CircuitState& s);
/// {client_id, min_versions: {claim_type: version}}.
boost::json::object min_versions_json(std::string_view client_id,
                                      const std::map<std::string, std::string>& minimums);

}  // namespace pg::http
