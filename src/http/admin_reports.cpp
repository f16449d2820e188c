// The admin API's reports: decode the query, call core::AdminService, present.
#include "http/admin_reports.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <limits>

#include "core/audit_chain.hpp"
#include "core/service.hpp"
#include "core/usage.hpp"
#include "http/admin.hpp"
#include "http/presenter.hpp"

namespace pg::http {

namespace {

/// The most entries one export answers: a wider range is refused (narrow from/to).
constexpr std::size_t kMaxExportEntries = 200'000;

HttpReply bad(std::string field, std::string detail) {
  return problem({core::ErrorCode::kInvalidRequest, std::move(field), std::move(detail)});
}

bool digits(std::string_view s, std::size_t from, std::size_t n, int& out) {
  if (from + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<core::UnixMillis> parse_time_param(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  if (s.find_first_not_of("0123456789") == std::string_view::npos) {
    if (s.size() > 15) return std::nullopt;  // beyond year 33658
    core::UnixMillis v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM), RFC 3339 §5.6 ('t', 'z' and ' ' allowed as it says).
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    std::size_t n = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n) {
      if (n < 3) ms = ms * 10 + (s[i] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 3; ++n) ms *= 10;
  }
  std::int64_t offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
    // UTC
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ') && s[i + 3] == ':') {
    // ' ': a '+' that arrived unencoded in a query string (decoded as a space).
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || !digits(s, i + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  const auto t = sys_days(ymd).time_since_epoch() + hours(h) + minutes(mi) +
                 seconds(std::min(sec, 59)) - minutes(offset_min);
  return duration_cast<milliseconds>(t).count() + ms;
}

HttpReply audit_export(core::AdminService& admin, core::UnixMillis from, core::UnixMillis to) {
  if (to < from) return bad("to", "must not be before from");
  auto entries = admin.export_audit(from, to, kMaxExportEntries + 1);
  if (!entries) return problem(entries.error());
  if (entries->size() > kMaxExportEntries)
    return bad("to", "more than 200000 entries in this range: narrow from/to");
  HttpReply reply;
  reply.content_type = "application/x-ndjson";
  for (const core::AuditEntry& e : entries.value()) {
    reply.body += core::audit_export_line(e);
    reply.body += '\n';
  }
  return reply;
}

namespace {

namespace json = boost::json;

}  // namespace

HttpReply latest_audit_reply(core::AdminService& admin, std::string_view query) {
  std::size_t limit = 50;
  if (const auto l = query_param(query, "limit")) {
    if (l->empty() || l->size() > 3 || l->find_first_not_of("0123456789") != std::string::npos)
      return bad("limit", "must be an integer from 1 to 200");
    limit = std::stoul(*l);
  }
  auto entries = admin.latest_audit(limit);
  if (!entries) return problem(entries.error());
  json::array out;
  for (const core::AuditEntry& e : *entries) out.push_back(json::parse(core::audit_export_line(e)));
  HttpReply reply;
  reply.body = json::serialize(json::object{{"entries", std::move(out)}});
  return reply;
}

namespace {

json::value count_json(const core::ReportedCount& n, const std::string& below) {
  return n ? json::value(*n) : json::value(below);
}

std::string count_text(const core::ReportedCount& n, const std::string& below) {
  return n ? std::to_string(*n) : below;
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string optional_ms(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : std::string();
}

}  // namespace

HttpReply usage_reply(core::AdminService& admin, std::string_view query, std::string_view accept,
                      std::int64_t min_count) {
  core::UsageQuery q;
  for (auto [name, target] : {std::pair{"from", &q.from}, std::pair{"to", &q.to}}) {
    const auto value = query_param(query, name);
    if (!value) return bad(name, "is required: an RFC 3339 time or Unix milliseconds");
    const auto parsed = parse_time_param(*value);
    if (!parsed)
      return bad(name, "must be an RFC 3339 time (2026-12-05T19:00:00Z) or Unix milliseconds");
    *target = *parsed;
  }
  const std::string granularity = query_param(query, "granularity").value_or("day");
  if (granularity == "day") {
    q.bucket_ms = core::kDayMs;
  } else if (granularity == "hour") {
    q.bucket_ms = core::kHourMs;
  } else {
    return bad("granularity", "must be day or hour");
  }
  q.claim_type = query_param(query, "claim_type").value_or("");
  q.verifier_id = query_param(query, "verifier_id").value_or("");
  if (q.claim_type.size() > 64) return bad("claim_type", "at most 64 characters");
  if (q.verifier_id.size() > 64) return bad("verifier_id", "at most 64 characters");
  const auto format = query_param(query, "format");
  if (format && *format != "csv" && *format != "json") return bad("format", "must be csv or json");
  const bool csv = format ? *format == "csv" : accept.find("text/csv") != std::string_view::npos;

  auto report = admin.usage(q, min_count);
  if (!report) return problem(report.error());
  const std::string below = "<" + std::to_string(report->min_count);
  HttpReply reply;
  if (csv) {
    // One line per bucket, claim type, partner and outcome ("verified" or the error code); the
    // percentiles are the row's (every outcome), repeated on each of its lines.
    reply.content_type = "text/csv; charset=utf-8";
    reply.body = "start,claim_type,verifier_id,outcome,count,p50_ms,p95_ms\r\n";
    for (const core::UsageBucket& b : report->buckets) {
      const std::string prefix = core::rfc3339(b.start) + "," + csv_field(b.claim_type) + "," +
                                 csv_field(b.verifier_id) + ",";
      const std::string suffix = "," + optional_ms(b.p50_ms) + "," + optional_ms(b.p95_ms) + "\r\n";
      reply.body += prefix + "verified," + count_text(b.verified, below) + suffix;
      for (const auto& [code, n] : b.failed) {
        reply.body += prefix + csv_field(code) + "," + count_text(n, below) + suffix;
      }
    }
    return reply;
  }
  json::array buckets;
  for (const core::UsageBucket& b : report->buckets) {
    json::object failed;
    for (const auto& [code, n] : b.failed) failed[code] = count_json(n, below);
    json::object o{{"start", core::rfc3339(b.start)},
                   {"claim_type", b.claim_type},
                   {"verifier_id", b.verifier_id},
                   {"verified", count_json(b.verified, below)},
                   {"failed", std::move(failed)}};
    o["p50_ms"] = b.p50_ms ? json::value(*b.p50_ms) : json::value(nullptr);
    o["p95_ms"] = b.p95_ms ? json::value(*b.p95_ms) : json::value(nullptr);
    buckets.push_back(std::move(o));
  }
  reply.body = json::serialize(json::object{{"from", core::rfc3339(q.from)},
                                            {"to", core::rfc3339(q.to)},
                                            {"granularity", granularity},
                                            {"min_count", report->min_count},
                                            {"buckets", std::move(buckets)}});
  return reply;
}

}  // namespace pg::http
