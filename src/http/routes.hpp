// The route table: every path the server answers, with its method. The router dispatches on it
// and tests/http/openapi_routes_test.cpp checks that docs/openapi.json describes exactly these.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "core/roles.hpp"

namespace pg::http {

enum class RouteId {
  kCreateRequest,
  kVerify,
  kStatus,
  kHealthz,
  kReadyz,
  kMetrics,
  kOpenApi,
  kDocs,
  kConsole,
  kArtifact,
  kAdminDeliveries,
  kAdminDelivery,
  kAdminReplay,
  kAdminTestWebhook,
  kAdminRevokeKey,
  kAdminEnrolment,
  kAdminEnrolmentConfirm,
  kAdminSignIn,
  kAdminWhoAmI,
  kAdminSignOut,
  kAdminCreateClient,
  kAdminClients,
  kAdminClient,
  kAdminUpdateClient,
  kAdminSuspendClient,
  kAdminResumeClient,
  kAdminRotateKey,
  kAdminRotateWebhookSecret,
  kAdminApprovals,
  kAdminApprove,
  kAdminCancelApproval,
  kAdminCircuits,
  kAdminCircuitUpload,
  kAdminCircuitEnable,
  kAdminCircuitDisable,
  kAdminCircuitDeprecate,
  kAdminMinVersions,
  kAdminSetMinVersion,
  kAdminAuditExport,
  kAdminAuditExportRequest,
  kAdminUsage,
  kAdminAudit,
  kOAuthToken,
  kJwks,
  kAdminRotateClientSecret,
  kAccountSignIn,
  kAccountSignInVerify,
  kAccountToken,
  kAccount,
  kAccountUpdate,
  kAccountDelete,
  kAccountProofs,
  kAccountLinkToken,
};

struct Route {
  RouteId id;
  std::string_view method;
  std::string_view path;  // OpenAPI template: {name} matches one non-empty segment
  bool documented;        // false for /docs and /console (pages, not an API)
};

inline constexpr std::array kRoutes{
    Route{RouteId::kCreateRequest, "POST", "/api/v1/requests", true},
    Route{RouteId::kVerify, "POST", "/api/v1/verify", true},
    Route{RouteId::kStatus, "GET", "/api/v1/status/{proof_id}", true},
    Route{RouteId::kHealthz, "GET", "/healthz", true},
    Route{RouteId::kReadyz, "GET", "/readyz", true},
    Route{RouteId::kMetrics, "GET", "/metrics", true},
    Route{RouteId::kOpenApi, "GET", "/openapi.json", true},
    Route{RouteId::kDocs, "GET", "/docs", false},
    Route{RouteId::kConsole, "GET", "/console", false},
    Route{RouteId::kArtifact, "GET", "/artifacts/{claim_type}/{version}/{file}", true},
    Route{RouteId::kAdminDeliveries, "GET", "/api/admin/deliveries", true},
    Route{RouteId::kAdminDelivery, "GET", "/api/admin/deliveries/{event_id}", true},
    Route{RouteId::kAdminReplay, "POST", "/api/admin/deliveries/{event_id}/replay", true},
    Route{RouteId::kAdminTestWebhook, "POST", "/api/admin/clients/{client_id}/test-webhook", true},
    Route{RouteId::kAdminRevokeKey, "POST", "/api/admin/clients/{client_id}/revoke-key", true},
    Route{RouteId::kAdminEnrolment, "POST", "/api/admin/enrolment", true},
    Route{RouteId::kAdminEnrolmentConfirm, "POST", "/api/admin/enrolment/confirm", true},
    Route{RouteId::kAdminSignIn, "POST", "/api/admin/session", true},
    Route{RouteId::kAdminWhoAmI, "GET", "/api/admin/session", true},
    Route{RouteId::kAdminSignOut, "DELETE", "/api/admin/session", true},
    Route{RouteId::kAdminCreateClient, "POST", "/api/admin/clients", true},
    Route{RouteId::kAdminClients, "GET", "/api/admin/clients", true},
    Route{RouteId::kAdminClient, "GET", "/api/admin/clients/{client_id}", true},
    Route{RouteId::kAdminUpdateClient, "PATCH", "/api/admin/clients/{client_id}", true},
    Route{RouteId::kAdminSuspendClient, "POST", "/api/admin/clients/{client_id}/suspend", true},
    Route{RouteId::kAdminResumeClient, "POST", "/api/admin/clients/{client_id}/resume", true},
    Route{RouteId::kAdminRotateKey, "POST", "/api/admin/clients/{client_id}/rotate-key", true},
    Route{RouteId::kAdminRotateWebhookSecret, "POST",
          "/api/admin/clients/{client_id}/rotate-webhook-secret", true},
    // The circuit lifecycle and two-person approvals (http/lifecycle_api.cpp).
    Route{RouteId::kAdminApprovals, "GET", "/api/admin/approvals", true},
    Route{RouteId::kAdminApprove, "POST", "/api/admin/approvals/{id}/approve", true},
    Route{RouteId::kAdminCancelApproval, "POST", "/api/admin/approvals/{id}/cancel", true},
    Route{RouteId::kAdminCircuits, "GET", "/api/admin/circuits", true},
    Route{RouteId::kAdminCircuitUpload, "POST", "/api/admin/circuits", true},
    Route{RouteId::kAdminCircuitEnable, "POST", "/api/admin/circuits/{claim_type}/{version}/enable",
          true},
    Route{RouteId::kAdminCircuitDisable, "POST",
          "/api/admin/circuits/{claim_type}/{version}/disable", true},
    Route{RouteId::kAdminCircuitDeprecate, "POST",
          "/api/admin/circuits/{claim_type}/{version}/deprecate", true},
    Route{RouteId::kAdminMinVersions, "GET", "/api/admin/clients/{client_id}/min-versions", true},
    Route{RouteId::kAdminSetMinVersion, "POST", "/api/admin/clients/{client_id}/min-versions",
          true},
    Route{RouteId::kAdminAuditExport, "GET", "/api/admin/audit/export", true},
    Route{RouteId::kAdminAuditExportRequest, "POST", "/api/admin/audit/exports", true},
    Route{RouteId::kAdminUsage, "GET", "/api/admin/usage", true},
    Route{RouteId::kAdminAudit, "GET", "/api/admin/audit", true},
    // OAuth2 client credentials (http/oauth_api.cpp).
    Route{RouteId::kOAuthToken, "POST", "/oauth/token", true},
    Route{RouteId::kJwks, "GET", "/.well-known/jwks.json", true},
    Route{RouteId::kAdminRotateClientSecret, "POST",
          "/api/admin/clients/{client_id}/rotate-client-secret", true},
    // Citizens' accounts (http/citizen_api.cpp).
    Route{RouteId::kAccountSignIn, "POST", "/api/v1/account/sign-in", true},
    Route{RouteId::kAccountSignInVerify, "POST", "/api/v1/account/sign-in/verify", true},
    Route{RouteId::kAccountToken, "POST", "/api/v1/account/token", true},
    Route{RouteId::kAccount, "GET", "/api/v1/account", true},
    Route{RouteId::kAccountUpdate, "PATCH", "/api/v1/account", true},
    Route{RouteId::kAccountDelete, "DELETE", "/api/v1/account", true},
    Route{RouteId::kAccountProofs, "GET", "/api/v1/account/proofs", true},
    Route{RouteId::kAccountLinkToken, "POST", "/api/v1/account/link-token", true},
};

/// The citizens' account routes (docs/citizens.md).
constexpr bool is_account_route(RouteId id) noexcept {
  switch (id) {
    case RouteId::kAccountSignIn:
    case RouteId::kAccountSignInVerify:
    case RouteId::kAccountToken:
    case RouteId::kAccount:
    case RouteId::kAccountUpdate:
    case RouteId::kAccountDelete:
    case RouteId::kAccountProofs:
    case RouteId::kAccountLinkToken:
      return true;
    default:
      return false;
  }
}

/// Who may call a route under /api/admin: the least admin role (docs/admin.md, "Roles"). nullopt
/// for routes outside the admin roles: the partner and public routes, and the admin enrolment and
/// sign-in routes, which check their own credentials. No default: a new route does not compile
/// until it has its line here (and the authorisation matrix of
/// tests/integration/admin_accounts_test.mjs checks every one).
constexpr std::optional<core::Role> required_role(RouteId id) noexcept {
  using core::Role;
  switch (id) {
    case RouteId::kCreateRequest:
    case RouteId::kVerify:
    case RouteId::kStatus:
    case RouteId::kHealthz:
    case RouteId::kReadyz:
    case RouteId::kMetrics:
    case RouteId::kOpenApi:
    case RouteId::kDocs:
    case RouteId::kConsole:
    case RouteId::kArtifact:
    case RouteId::kAdminEnrolment:
    case RouteId::kAdminEnrolmentConfirm:
    case RouteId::kAdminSignIn:
    case RouteId::kOAuthToken:  // the client's own credentials
    case RouteId::kJwks:
    case RouteId::kAccountSignIn:  // citizens' accounts: their own codes and tokens
    case RouteId::kAccountSignInVerify:
    case RouteId::kAccountToken:
    case RouteId::kAccount:
    case RouteId::kAccountUpdate:
    case RouteId::kAccountDelete:
    case RouteId::kAccountProofs:
    case RouteId::kAccountLinkToken:
      return std::nullopt;
    case RouteId::kAdminDeliveries:
    case RouteId::kAdminDelivery:
    case RouteId::kAdminWhoAmI:
    case RouteId::kAdminSignOut:
    case RouteId::kAdminClients:
    case RouteId::kAdminClient:
    case RouteId::kAdminApprovals:
    case RouteId::kAdminCircuits:
    case RouteId::kAdminMinVersions:
    case RouteId::kAdminUsage:
    case RouteId::kAdminAudit:  // the latest entries, not an export
      return Role::kViewer;
    case RouteId::kAdminReplay:
    case RouteId::kAdminTestWebhook:
    case RouteId::kAdminRevokeKey:
    case RouteId::kAdminCreateClient:
    case RouteId::kAdminUpdateClient:
    case RouteId::kAdminSuspendClient:
    case RouteId::kAdminResumeClient:
    case RouteId::kAdminRotateKey:
    case RouteId::kAdminRotateWebhookSecret:
    case RouteId::kAdminRotateClientSecret:
    case RouteId::kAdminCancelApproval:
    case RouteId::kAdminCircuitUpload:  // stored as uploaded: verifies only once enabled
    case RouteId::kAdminCircuitEnable:  // a request: two approvers approve it
    case RouteId::kAdminCircuitDisable:
    case RouteId::kAdminCircuitDeprecate:
    case RouteId::kAdminSetMinVersion:
    // The whole trail: asked for, approved by a second admin, then downloaded by the requester.
    case RouteId::kAdminAuditExportRequest:
    case RouteId::kAdminAuditExport:
      return Role::kOperator;
    case RouteId::kAdminApprove:
      return Role::kApprover;
  }
  return Role::kApprover;  // unreachable: the switch names every route
}

/// The partner routes of the admin API (src/http/admin_partners.cpp; resume asks for an approval,
/// in src/http/lifecycle_api.cpp).
constexpr bool is_partner_admin_route(RouteId id) noexcept {
  switch (id) {
    case RouteId::kAdminCreateClient:
    case RouteId::kAdminClients:
    case RouteId::kAdminClient:
    case RouteId::kAdminUpdateClient:
    case RouteId::kAdminSuspendClient:
    case RouteId::kAdminRotateKey:
    case RouteId::kAdminRotateWebhookSecret:
      return true;
    default:
      return false;
  }
}

/// Partner and admin routes (/api/...): the ones a failed-authentication throttle closes to an
/// address. No default, like required_role: a new route must say whether it is throttled.
constexpr bool throttled_route(RouteId id) noexcept {
  switch (id) {
    case RouteId::kCreateRequest:
    case RouteId::kVerify:
    case RouteId::kStatus:
    case RouteId::kAdminDeliveries:
    case RouteId::kAdminDelivery:
    case RouteId::kAdminReplay:
    case RouteId::kAdminTestWebhook:
    case RouteId::kAdminRevokeKey:
    case RouteId::kAdminEnrolment:  // guessing enrolment tokens, passwords or codes
    case RouteId::kAdminEnrolmentConfirm:
    case RouteId::kAdminSignIn:
    case RouteId::kAdminWhoAmI:
    case RouteId::kAdminSignOut:
    case RouteId::kAdminCreateClient:
    case RouteId::kAdminClients:
    case RouteId::kAdminClient:
    case RouteId::kAdminUpdateClient:
    case RouteId::kAdminSuspendClient:
    case RouteId::kAdminResumeClient:
    case RouteId::kAdminRotateKey:
    case RouteId::kAdminRotateWebhookSecret:
    case RouteId::kAdminApprovals:
    case RouteId::kAdminApprove:
    case RouteId::kAdminCancelApproval:
    case RouteId::kAdminCircuits:
    case RouteId::kAdminCircuitUpload:
    case RouteId::kAdminCircuitEnable:
    case RouteId::kAdminCircuitDisable:
    case RouteId::kAdminCircuitDeprecate:
    case RouteId::kAdminMinVersions:
    case RouteId::kAdminSetMinVersion:
    case RouteId::kAdminAuditExport:
    case RouteId::kAdminAuditExportRequest:
    case RouteId::kAdminUsage:
    case RouteId::kAdminAudit:
    case RouteId::kOAuthToken:  // guessing client secrets
    case RouteId::kAdminRotateClientSecret:
    case RouteId::kAccountSignIn:  // guessing codes or tokens
    case RouteId::kAccountSignInVerify:
    case RouteId::kAccountToken:
    case RouteId::kAccount:
    case RouteId::kAccountUpdate:
    case RouteId::kAccountDelete:
    case RouteId::kAccountProofs:
    case RouteId::kAccountLinkToken:
      return true;
    case RouteId::kJwks:
    case RouteId::kHealthz:
    case RouteId::kReadyz:
    case RouteId::kMetrics:
    case RouteId::kOpenApi:
    case RouteId::kDocs:
    case RouteId::kConsole:
    case RouteId::kArtifact:
      return false;
  }
  return true;  // unreachable: the switch names every route
}

}  // namespace pg::http
