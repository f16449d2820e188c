// The files the server answers from its own binary: the OpenAPI document (docs/openapi.json), the
// Swagger UI page that renders it at GET /docs and the operators' console at GET /console
// (clients/console, bundled by the build) and the issuer node's at GET /issuer/console
// (clients/issuer-console), embedded at build time (embedded_assets.cpp).
#pragma once

#include <optional>
#include <string_view>

namespace pg::http {

/// An embedded file as it is served. The views point into the binary (body) and into storage
/// that lives until the program ends (content_type, etag).
struct Asset {
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;
  std::string_view etag;  // 32 hex digits of SHA-256(body), unquoted: the server quotes it
};

/// The embedded asset for a URL path (/openapi.json, /docs, /docs/swagger-ui-bundle.js,
/// /docs/swagger-ui.css, /docs/init.js, /console, /console/app.js, /console/app.css,
/// /issuer/console, /issuer/console/app.js, /issuer/console/app.css), or nullopt
/// for any other path (exact match, no normalisation). The first call hashes every asset once for
/// the ETags; concurrent calls are safe. The etag is empty only if OpenSSL's SHA-256 fails, and
/// should then not be sent.
std::optional<Asset> embedded_asset(std::string_view path) noexcept;

}  // namespace pg::http
