// The route table: every path the server answers, with its method. The router dispatches on it
// and tests/http/openapi_routes_test.cpp checks that docs/openapi.json describes exactly these.
#pragma once

#include <array>
#include <string_view>

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
  kArtifact,
  kAdminDeliveries,
  kAdminDelivery,
  kAdminReplay,
  kAdminTestWebhook,
  kAdminRevokeKey,
  kAdminCreateClient,
  kAdminClients,
  kAdminClient,
  kAdminUpdateClient,
  kAdminSuspendClient,
  kAdminResumeClient,
  kAdminRotateKey,
  kAdminRotateWebhookSecret,
};

struct Route {
  RouteId id;
  std::string_view method;
  std::string_view path;  // OpenAPI template: {name} matches one non-empty segment
  bool documented;        // false for /docs (a page, not an API)
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
    Route{RouteId::kArtifact, "GET", "/artifacts/{claim_type}/{version}/{file}", true},
    Route{RouteId::kAdminDeliveries, "GET", "/api/admin/deliveries", true},
    Route{RouteId::kAdminDelivery, "GET", "/api/admin/deliveries/{event_id}", true},
    Route{RouteId::kAdminReplay, "POST", "/api/admin/deliveries/{event_id}/replay", true},
    Route{RouteId::kAdminTestWebhook, "POST", "/api/admin/clients/{client_id}/test-webhook", true},
    Route{RouteId::kAdminRevokeKey, "POST", "/api/admin/clients/{client_id}/revoke-key", true},
    Route{RouteId::kAdminCreateClient, "POST", "/api/admin/clients", true},
    Route{RouteId::kAdminClients, "GET", "/api/admin/clients", true},
    Route{RouteId::kAdminClient, "GET", "/api/admin/clients/{client_id}", true},
    Route{RouteId::kAdminUpdateClient, "PATCH", "/api/admin/clients/{client_id}", true},
    Route{RouteId::kAdminSuspendClient, "POST", "/api/admin/clients/{client_id}/suspend", true},
    Route{RouteId::kAdminResumeClient, "POST", "/api/admin/clients/{client_id}/resume", true},
    Route{RouteId::kAdminRotateKey, "POST", "/api/admin/clients/{client_id}/rotate-key", true},
    Route{RouteId::kAdminRotateWebhookSecret, "POST",
          "/api/admin/clients/{client_id}/rotate-webhook-secret", true},
};

/// The partner routes of the admin API (src/http/admin_partners.cpp).
constexpr bool is_partner_admin_route(RouteId id) noexcept {
  switch (id) {
    case RouteId::kAdminCreateClient:
    case RouteId::kAdminClients:
    case RouteId::kAdminClient:
    case RouteId::kAdminUpdateClient:
    case RouteId::kAdminSuspendClient:
    case RouteId::kAdminResumeClient:
    case RouteId::kAdminRotateKey:
    case RouteId::kAdminRotateWebhookSecret:
      return true;
    default:
      return false;
  }
}

}  // namespace pg::http
