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
  kAdminAuditExport,
  kAdminUsage,
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
    Route{RouteId::kAdminAuditExport, "GET", "/api/admin/audit/export", true},
    Route{RouteId::kAdminUsage, "GET", "/api/admin/usage", true},
};

}  // namespace pg::http
