// The admin API's reports: the audit trail's export (JSON lines with the hash chain) and its time
// range parameters. Plain functions of the decoded query, called by AdminApi after authorization.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/admin_service.hpp"
#include "http/message.hpp"

namespace pg::http {

/// A time query parameter: RFC 3339 (2026-12-05T19:00:00Z, fractions and ±HH:MM offsets allowed)
/// or Unix milliseconds (digits only). nullopt when it is neither.
std::optional<core::UnixMillis> parse_time_param(std::string_view text) noexcept;

/// The audit export of every entry with from <= at < to, oldest first, as application/x-ndjson
/// (core::audit_export_line per line); INVALID_REQUEST when `to` is before `from` or the range
/// holds more than 200,000 entries. GET /api/admin/audit/export answers it for the range of an
/// approved audit.export (http/lifecycle_api.cpp).
HttpReply audit_export(core::AdminService& admin, core::UnixMillis from, core::UnixMillis to);

/// GET /api/admin/audit?limit=N (1..200, default 50): {"entries": [...]}, the latest N entries
/// newest first, each as its export line's object. The console's view: no range, no paging.
HttpReply latest_audit_reply(core::AdminService& admin, std::string_view query);

/// GET /api/admin/usage?from&to&claim_type&verifier_id&granularity=day|hour[&format=csv]: the
/// usage report (core/usage.hpp) as JSON, or as CSV for format=csv or an Accept of text/csv. Counts
/// below `min_count` are the string "<k".
HttpReply usage_reply(core::AdminService& admin, std::string_view query, std::string_view accept,
                      std::int64_t min_count);

}  // namespace pg::http
